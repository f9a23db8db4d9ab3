package render

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"

	"github.com/smartcity-io/smartcity-operator/internal/intent"
)

// NetworkPolicy selects exactly the service's pods and admits only the resolved flows: ingress
// from admitted consumers, admitted zones and (Public) the gateway or ingress controller's
// namespace; egress to consumed services, egress zones and the cluster DNS. Everything else is
// denied, since both policy types are always listed. Rules keep the order of in.Flows.
//
// A flow that would render a rule without peers or without ports is dropped rather than
// rendered, because Kubernetes reads an empty "from", "to" or "ports" as "all".
func NetworkPolicy(in Input) *networkingv1ac.NetworkPolicyApplyConfiguration {
	opts := in.Options.WithDefaults()

	var ingress []*networkingv1ac.NetworkPolicyIngressRuleApplyConfiguration
	for _, p := range in.Flows.IngressServices {
		if p.Port <= 0 {
			continue
		}
		ingress = append(ingress, networkingv1ac.NetworkPolicyIngressRule().
			WithFrom(servicePeer(p)).
			WithPorts(tcpPorts(p.Port)...))
	}
	for _, z := range in.Flows.IngressZones {
		peers, ports := zonePeers(z), tcpPorts(z.Ports...)
		if len(peers) == 0 || len(ports) == 0 {
			continue
		}
		ingress = append(ingress, networkingv1ac.NetworkPolicyIngressRule().
			WithFrom(peers...).
			WithPorts(ports...))
	}
	if in.Flows.IngressGateway {
		ingress = append(ingress, networkingv1ac.NetworkPolicyIngressRule().
			WithFrom(networkingv1ac.NetworkPolicyPeer().
				WithNamespaceSelector(namespaceSelector(opts.IngressControllerNamespace))).
			WithPorts(tcpPorts(in.port())...))
	}

	egress := []*networkingv1ac.NetworkPolicyEgressRuleApplyConfiguration{
		networkingv1ac.NetworkPolicyEgressRule().
			WithTo(networkingv1ac.NetworkPolicyPeer().
				WithNamespaceSelector(namespaceSelector(opts.DNSNamespace)).
				WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(opts.DNSPodLabels))).
			WithPorts(
				networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolUDP).WithPort(intstr.FromInt32(53)),
				networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolTCP).WithPort(intstr.FromInt32(53)),
			),
	}
	for _, p := range in.Flows.EgressServices {
		if p.Port <= 0 {
			continue
		}
		egress = append(egress, networkingv1ac.NetworkPolicyEgressRule().
			WithTo(servicePeer(p)).
			WithPorts(tcpPorts(p.Port)...))
	}
	for _, z := range in.Flows.EgressZones {
		peers, ports := zonePeers(z), tcpPorts(z.Ports...)
		if len(peers) == 0 || len(ports) == 0 {
			continue
		}
		egress = append(egress, networkingv1ac.NetworkPolicyEgressRule().
			WithTo(peers...).
			WithPorts(ports...))
	}

	spec := networkingv1ac.NetworkPolicySpec().
		WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(SelectorLabels(in.name()))).
		WithPolicyTypes(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress).
		WithEgress(egress...)
	if len(ingress) > 0 {
		spec.WithIngress(ingress...)
	}
	return networkingv1ac.NetworkPolicy(in.name(), in.namespace()).
		WithLabels(Labels(in.Service)).
		WithOwnerReferences(OwnerReference(in.Service)).
		WithSpec(spec)
}

// servicePeer selects the pods of another PublicService: its namespace AND its selector labels.
func servicePeer(p intent.ServicePeer) *networkingv1ac.NetworkPolicyPeerApplyConfiguration {
	return networkingv1ac.NetworkPolicyPeer().
		WithNamespaceSelector(namespaceSelector(p.Namespace)).
		WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(SelectorLabels(p.Name)))
}

func namespaceSelector(namespace string) *metav1ac.LabelSelectorApplyConfiguration {
	return metav1ac.LabelSelector().WithMatchLabels(map[string]string{corev1.LabelMetadataName: namespace})
}

// tcpPorts renders TCP ports, skipping values outside 1–65535.
func tcpPorts(ports ...int32) []*networkingv1ac.NetworkPolicyPortApplyConfiguration {
	var out []*networkingv1ac.NetworkPolicyPortApplyConfiguration
	for _, p := range ports {
		if p < 1 || p > 65535 {
			continue
		}
		out = append(out, networkingv1ac.NetworkPolicyPort().
			WithProtocol(corev1.ProtocolTCP).
			WithPort(intstr.FromInt32(p)))
	}
	return out
}

// zonePeers renders one ipBlock per CIDR of a zone, each with the zone's except entries that
// lie strictly inside that CIDR. A CIDR that does not parse, or that an except entry covers
// entirely, is left out (fail closed).
func zonePeers(z intent.ZonePeer) []*networkingv1ac.NetworkPolicyPeerApplyConfiguration {
	var excepts []netip.Prefix
	for _, e := range z.Except {
		if p, err := netip.ParsePrefix(e); err == nil && !slices.Contains(excepts, p.Masked()) {
			excepts = append(excepts, p.Masked())
		}
	}
	var out []*networkingv1ac.NetworkPolicyPeerApplyConfiguration
	for _, c := range z.CIDRs {
		cidr, err := netip.ParsePrefix(c)
		if err != nil {
			continue
		}
		cidr = cidr.Masked()
		block := networkingv1ac.IPBlock().WithCIDR(cidr.String())
		covered := false
		for _, e := range excepts {
			switch {
			case contains(e, cidr):
				covered = true
			case contains(cidr, e):
				block.WithExcept(e.String())
			}
		}
		if covered {
			continue
		}
		out = append(out, networkingv1ac.NetworkPolicyPeer().WithIPBlock(block))
	}
	return out
}

// contains reports whether prefix outer contains prefix inner (equal prefixes contain each other).
func contains(outer, inner netip.Prefix) bool {
	return outer.Addr().BitLen() == inner.Addr().BitLen() &&
		outer.Bits() <= inner.Bits() &&
		outer.Contains(inner.Addr())
}
