package main

import (
	"fmt"
	"math/rand/v2"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
)

// randomTopology generates, from a seed, namespaces, workloads and NetworkPolicies that
// exercise every feature of NetworkPolicies: pod and namespace selectors alone and combined,
// matchLabels and matchExpressions, empty selectors, ipBlocks with except, numbered, ranged
// (endPort) and named ports, TCP, UDP and SCTP, ingress-only, egress-only and both policy
// types, several policies on one pod, deny-all and allow-all. The same seed always gives the
// same topology.
func randomTopology(seed uint64) *audit.Model {
	g := &topoGen{r: rand.New(rand.NewPCG(seed, seed^0x5eed))}
	m := &audit.Model{}
	nss := []string{"alpha", "beta", "gamma", "delta"}[:2+g.r.IntN(3)]
	for _, ns := range nss {
		m.Add(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: g.labels(map[string][]string{
			"env": {"prod", "dev"}, "team": {"red", "blue"}})}})
	}
	for _, ns := range nss {
		for i := range 2 + g.r.IntN(4) {
			m.Add(g.deployment(ns, fmt.Sprintf("w%d", i)))
		}
		for i := range g.r.IntN(5) {
			m.Add(g.policy(ns, fmt.Sprintf("np%d", i)))
		}
	}
	return m
}

type topoGen struct{ r *rand.Rand }

func (g *topoGen) pick(values []string) string { return values[g.r.IntN(len(values))] }

// labels picks, for each key, one of its values or none.
func (g *topoGen) labels(values map[string][]string) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"app", "tier", "env", "team"} {
		if vs, ok := values[k]; ok && g.r.IntN(3) > 0 {
			out[k] = g.pick(vs)
		}
	}
	return out
}

var podLabelValues = map[string][]string{"app": {"web", "api", "db"}, "tier": {"front", "back"}}

var containerPortChoices = []corev1.ContainerPort{
	{Name: "http", ContainerPort: 8080},
	{Name: "http", ContainerPort: 8081, Protocol: corev1.ProtocolUDP}, // same name, another protocol
	{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
	{Name: "metrics", ContainerPort: 9090, Protocol: corev1.ProtocolTCP},
	{Name: "assoc", ContainerPort: 9000, Protocol: corev1.ProtocolSCTP},
	{ContainerPort: 443},
}

func (g *topoGen) deployment(ns, name string) *appsv1.Deployment {
	l := g.labels(podLabelValues)
	l["name"] = name
	chosen := g.r.Perm(len(containerPortChoices))[:g.r.IntN(3)]
	ports := make([]corev1.ContainerPort, 0, len(chosen))
	for _, i := range chosen {
		ports = append(ports, containerPortChoices[i])
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"name": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img", Ports: ports}}},
			},
		},
	}
}

// selector is empty (2 in 5), matchLabels, or matchExpressions.
func (g *topoGen) selector(values map[string][]string) *metav1.LabelSelector {
	switch n := g.r.IntN(5); {
	case n <= 1:
		return &metav1.LabelSelector{}
	case n <= 3:
		return &metav1.LabelSelector{MatchLabels: g.labels(values)}
	default:
		keys := []string{"app", "tier"}
		if _, ok := values["env"]; ok {
			keys = []string{"env", "team", corev1.LabelMetadataName}
		}
		key := g.pick(keys)
		req := metav1.LabelSelectorRequirement{Key: key}
		vals := values[key]
		if key == corev1.LabelMetadataName {
			vals = []string{"alpha", "beta", "gamma"}
		}
		switch g.r.IntN(4) {
		case 0:
			req.Operator, req.Values = metav1.LabelSelectorOpIn, []string{g.pick(vals), g.pick(vals)}
		case 1:
			req.Operator, req.Values = metav1.LabelSelectorOpNotIn, []string{g.pick(vals)}
		case 2:
			req.Operator = metav1.LabelSelectorOpExists
		default:
			req.Operator = metav1.LabelSelectorOpDoesNotExist
		}
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{req}}
	}
}

var nsLabelValues = map[string][]string{"env": {"prod", "dev"}, "team": {"red", "blue"}}

var cidrChoices = []networkingv1.IPBlock{
	{CIDR: "0.0.0.0/0"},
	{CIDR: "0.0.0.0/0", Except: []string{"10.0.0.0/8"}},
	{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16", "10.2.3.0/24"}},
	{CIDR: "10.1.0.0/16"},
	{CIDR: "192.168.0.0/16", Except: []string{"192.168.1.0/24"}},
	{CIDR: "172.16.5.4/32"},
}

// peers are none (every peer), or one to three of: podSelector, namespaceSelector, both, ipBlock.
func (g *topoGen) peers() []networkingv1.NetworkPolicyPeer {
	if g.r.IntN(6) == 0 {
		return nil
	}
	var out []networkingv1.NetworkPolicyPeer
	for range 1 + g.r.IntN(3) {
		var p networkingv1.NetworkPolicyPeer
		switch g.r.IntN(4) {
		case 0:
			p.PodSelector = g.selector(podLabelValues)
		case 1:
			p.NamespaceSelector = g.selector(nsLabelValues)
		case 2:
			p.PodSelector, p.NamespaceSelector = g.selector(podLabelValues), g.selector(nsLabelValues)
		default:
			b := cidrChoices[g.r.IntN(len(cidrChoices))]
			p.IPBlock = &b
		}
		out = append(out, p)
	}
	return out
}

// ports are none (every port), or one to three of: a protocol alone, a port, a range, a
// named port (named ports only when namedOK: netpol-analyzer refuses a named port towards
// addresses).
func (g *topoGen) ports(namedOK bool) []networkingv1.NetworkPolicyPort {
	if g.r.IntN(4) == 0 {
		return nil
	}
	var out []networkingv1.NetworkPolicyPort
	for range 1 + g.r.IntN(3) {
		var p networkingv1.NetworkPolicyPort
		if n := g.r.IntN(4); n > 0 {
			proto := []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}[n-1]
			p.Protocol = &proto
		}
		switch n := g.r.IntN(4); {
		case n == 0:
		case n == 1 && namedOK:
			port := intstr.FromString(g.pick([]string{"http", "dns", "metrics", "assoc", "missing"}))
			p.Port = &port
		case n == 2:
			port, end := intstr.FromInt32(8000), int32(8100)
			p.Port, p.EndPort = &port, &end
		default:
			port := intstr.FromInt32([]int32{53, 443, 8080, 9000}[g.r.IntN(4)])
			p.Port = &port
		}
		out = append(out, p)
	}
	return out
}

func (g *topoGen) policy(ns, name string) *networkingv1.NetworkPolicy {
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	np.Spec.PodSelector = *g.selector(podLabelValues)
	switch g.r.IntN(4) {
	case 0:
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	case 1:
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	case 2:
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	}
	for range g.r.IntN(3) { // zero rules: deny-all in that direction
		np.Spec.Ingress = append(np.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: g.peers(), Ports: g.ports(true)})
	}
	for range g.r.IntN(3) {
		to := g.peers()
		np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: to, Ports: g.ports(selectorsOnly(to))})
	}
	return np
}

func selectorsOnly(peers []networkingv1.NetworkPolicyPeer) bool {
	for _, p := range peers {
		if p.IPBlock != nil {
			return false
		}
	}
	return len(peers) > 0
}

// TestTopologiesExerciseEveryFeature checks that the cross-check's topologies hold every
// NetworkPolicy feature at least once.
func TestTopologiesExerciseEveryFeature(t *testing.T) {
	seen := map[string]bool{}
	peer := func(p networkingv1.NetworkPolicyPeer) {
		switch {
		case p.IPBlock != nil && len(p.IPBlock.Except) > 0:
			seen["ipBlock with except"] = true
		case p.PodSelector != nil && p.NamespaceSelector != nil:
			seen["podSelector and namespaceSelector"] = true
		case p.PodSelector != nil:
			seen["podSelector alone"] = true
		case p.NamespaceSelector != nil:
			seen["namespaceSelector alone"] = true
		}
		for _, s := range []*metav1.LabelSelector{p.PodSelector, p.NamespaceSelector} {
			if s != nil && len(s.MatchExpressions) > 0 {
				seen["matchExpressions"] = true
			}
			if s != nil && len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0 {
				seen["empty selector"] = true
			}
		}
	}
	ports := func(ps []networkingv1.NetworkPolicyPort) {
		for _, p := range ps {
			if p.Protocol != nil {
				seen[string(*p.Protocol)] = true
			}
			switch {
			case p.EndPort != nil:
				seen["endPort"] = true
			case p.Port != nil && p.Port.Type == intstr.String:
				seen["named port"] = true
			}
		}
	}
	for seed := range uint64(connectivitySeeds) {
		m := randomTopology(seed)
		perPod := map[string]int{}
		for _, np := range m.NetworkPolicies {
			types := fmt.Sprint(np.Spec.PolicyTypes)
			seen["policyTypes "+types] = true
			perPod[np.Namespace+"/"+np.Spec.PodSelector.String()]++
			if len(np.Spec.Ingress) == 0 && len(np.Spec.Egress) == 0 {
				seen["deny-all"] = true
			}
			for _, r := range np.Spec.Ingress {
				if len(r.From) == 0 && len(r.Ports) == 0 {
					seen["allow-all"] = true
				}
				for _, p := range r.From {
					peer(p)
				}
				ports(r.Ports)
			}
			for _, r := range np.Spec.Egress {
				for _, p := range r.To {
					peer(p)
				}
				ports(r.Ports)
			}
		}
		for _, n := range perPod {
			if n > 1 {
				seen["several policies on one pod"] = true
			}
		}
	}
	for _, f := range []string{"ipBlock with except", "podSelector and namespaceSelector", "podSelector alone", "namespaceSelector alone",
		"matchExpressions", "empty selector", "TCP", "UDP", "SCTP", "endPort", "named port", "policyTypes []", "policyTypes [Ingress]",
		"policyTypes [Egress]", "policyTypes [Ingress Egress]", "deny-all", "allow-all", "several policies on one pod"} {
		if !seen[f] {
			t.Errorf("no generated topology has %s", f)
		}
	}
}
