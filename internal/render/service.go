package render

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

// Service exposes the service's pods on its port (to the container port named "http").
// Internal and Public services are ClusterIP. CityNetwork services must be reachable from the
// zones: type Options.ZoneServiceType (LoadBalancer, or NodePort) with externalTrafficPolicy
// Local, so client addresses reach the pods unchanged for the NetworkPolicy's ipBlocks, and, for
// LoadBalancer, loadBalancerSourceRanges set to the admitted zones' CIDRs as a second fence.
func Service(in Input) *corev1ac.ServiceApplyConfiguration {
	spec := corev1ac.ServiceSpec().
		WithSelector(SelectorLabels(in.name())).
		WithPorts(corev1ac.ServicePort().
			WithName(PortName).
			WithProtocol(corev1.ProtocolTCP).
			WithPort(in.port()).
			WithTargetPort(intstr.FromString(PortName)))
	if in.Spec.Exposure != nil && in.Spec.Exposure.Mode == platformv1alpha1.ExposureCityNetwork {
		typ := in.Options.WithDefaults().ZoneServiceType
		spec.WithType(typ).WithExternalTrafficPolicy(corev1.ServiceExternalTrafficPolicyLocal)
		if ranges := zoneSourceRanges(in); typ == corev1.ServiceTypeLoadBalancer && len(ranges) > 0 {
			spec.WithLoadBalancerSourceRanges(ranges...)
		}
	} else {
		spec.WithType(corev1.ServiceTypeClusterIP)
	}
	return corev1ac.Service(in.name(), in.namespace()).
		WithLabels(Labels(in.Service)).
		WithOwnerReferences(OwnerReference(in.Service)).
		WithSpec(spec)
}

// zoneSourceRanges returns every CIDR of the admitted ingress zones, in canonical form,
// sorted and without duplicates. Entries that do not parse are left out.
func zoneSourceRanges(in Input) []string {
	var out []string
	for _, z := range in.Flows.IngressZones {
		for _, c := range z.CIDRs {
			if p, err := netip.ParsePrefix(c); err == nil {
				out = append(out, p.Masked().String())
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
