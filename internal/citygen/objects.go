package citygen

import (
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

// city builds the objects of a generated city.
func (g *gen) city() *City {
	c := &City{Options: g.o}
	seed := strconv.FormatUint(g.o.Seed, 10)
	for j, name := range g.nsNames {
		ns := corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{LabelGenerated: seed}},
		}
		if g.nsLabels[j] != "" {
			ns.Labels[LabelNetworkAccess] = g.nsLabels[j]
		}
		c.Namespaces = append(c.Namespaces, ns)
	}
	c.Zones = zones()
	c.Policies = g.policies()
	for i := range g.svcs {
		c.Services = append(c.Services, g.service(i))
	}
	g.stats.Services = len(g.svcs)
	g.stats.Namespaces = len(g.nsNames)
	g.stats.Profiles = map[platformv1alpha1.Profile]int{}
	for _, members := range g.byNS {
		g.stats.Largest = max(g.stats.Largest, len(members))
	}
	for i := range c.Services {
		s := &c.Services[i]
		g.stats.Profiles[s.Spec.Profile]++
		eff := s.Effective()
		n := int64(*eff.Replicas.Min)
		g.stats.Pods += n
		g.stats.CPUMilli += n * eff.Resources.Requests.Cpu().MilliValue()
		g.stats.MemoryBytes += n * eff.Resources.Requests.Memory().Value()
	}
	g.laterPeers()
	c.Stats = g.stats
	return c
}

// laterPeers sets Stats.LaterPeer and Stats.LaterPeersPerService: services are applied in
// index order, and a flow needs both sides (the consumer consumes, the provider admits it by
// name or by namespace).
func (g *gen) laterPeers() {
	later := make([]map[int]bool, len(g.svcs))
	for i := range later {
		later[i] = map[int]bool{}
	}
	for c, cs := range g.svcs {
		for _, p := range cs.consumes {
			ps := g.svcs[p]
			if !slices.Contains(ps.admits, c) && !slices.Contains(ps.admitsNS, cs.ns) {
				continue // one-sided: no flow, neither policy names the other
			}
			first, second := min(c, p), max(c, p)
			later[first][second] = true
		}
	}
	withLater, peers := 0, 0
	for _, l := range later {
		if len(l) > 0 {
			withLater++
		}
		peers += len(l)
	}
	if n := float64(len(g.svcs)); n > 0 {
		g.stats.LaterPeer, g.stats.LaterPeersPerService = float64(withLater)/n, float64(peers)/n
	}
}

func zones() []platformv1alpha1.NetworkZone {
	zone := func(name, provider, description string, cidrs, except []string, admit ...string) platformv1alpha1.NetworkZone {
		z := platformv1alpha1.NetworkZone{
			TypeMeta:   metav1.TypeMeta{APIVersion: platformv1alpha1.GroupVersion.String(), Kind: "NetworkZone"},
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: platformv1alpha1.NetworkZoneSpec{
				CIDRs: cidrs, Except: except, Provider: provider, Description: description,
			},
		}
		if len(admit) > 0 {
			z.Spec.AllowedNamespaces = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: LabelNetworkAccess, Operator: metav1.LabelSelectorOpIn, Values: admit},
			}}
		}
		return z
	}
	return []platformv1alpha1.NetworkZone{
		zone(ZoneHospitalLAN, "hanoi-health-network", "Reception LANs of the city's hospitals",
			[]string{"192.168.100.0/24"}, []string{"192.168.100.240/28"}, "hospital"),
		zone(ZoneKiosk, "hanoi-city-network", "Self-service kiosks in hospitals and ward offices",
			[]string{"192.168.110.0/24"}, nil, "hospital"),
		zone(ZoneWardWiFi, "hanoi-city-network", "Public Wi-Fi of the wards: no namespace is admitted",
			[]string{"192.168.128.0/22"}, nil),
		zone(ZonePopulationDB, "national-data-centre", "The national population database",
			[]string{"192.168.120.0/28"}, nil, "population-db"),
	}
}

// policies are the foreign allow-all (in the smallest namespace) and the deny-all (in the next
// smallest, or the same when there is only one namespace).
func (g *gen) policies() []networkingv1.NetworkPolicy {
	allowNS, denyNS := -1, -1
	for j, members := range g.byNS {
		if allowNS < 0 || len(members) < len(g.byNS[allowNS]) {
			allowNS = j
		}
	}
	for j := range g.byNS {
		if j != allowNS && (denyNS < 0 || len(g.byNS[j]) < len(g.byNS[denyNS])) {
			denyNS = j
		}
	}
	if denyNS < 0 {
		denyNS = allowNS
	}
	meta := func(name string, ns int) (metav1.TypeMeta, metav1.ObjectMeta) {
		return metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
			metav1.ObjectMeta{Name: name, Namespace: g.nsNames[ns]}
	}
	allowT, allowM := meta(PolicyAllowAll, allowNS)
	denyT, denyM := meta(PolicyDenyAll, denyNS)
	return []networkingv1.NetworkPolicy{
		{TypeMeta: allowT, ObjectMeta: allowM, Spec: networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{}},
		}},
		{TypeMeta: denyT, ObjectMeta: denyM, Spec: networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		}},
	}
}

// service builds service i's manifest. References to the caller's own namespace leave the
// namespace out, as people write them.
func (g *gen) service(i int) platformv1alpha1.PublicService {
	s := g.svcs[i]
	ns := g.nsNames[s.ns]
	out := platformv1alpha1.PublicService{
		TypeMeta:   metav1.TypeMeta{APIVersion: platformv1alpha1.GroupVersion.String(), Kind: "PublicService"},
		ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: ns},
		Spec: platformv1alpha1.PublicServiceSpec{
			Profile: s.profile,
			Image:   g.o.Image,
			Env:     []platformv1alpha1.EnvVar{{Name: "SERVICE_NAME", Value: s.name}},
		},
	}
	otherNS := func(j int) string {
		if g.svcs[j].ns == s.ns {
			return ""
		}
		return g.nsNames[g.svcs[j].ns]
	}
	if s.profile == platformv1alpha1.ProfilePortal {
		out.Spec.Exposure = &platformv1alpha1.Exposure{
			Host: s.name + ".dichvucong.hanoi.example",
			TLS:  &platformv1alpha1.TLS{SecretName: s.name + "-tls"},
		}
	}
	for _, z := range s.zonesIn {
		out.Spec.AllowFrom = append(out.Spec.AllowFrom, platformv1alpha1.AllowSource{Zone: z})
	}
	for _, j := range s.admitsNS {
		out.Spec.AllowFrom = append(out.Spec.AllowFrom, platformv1alpha1.AllowSource{Namespace: g.nsNames[j]})
	}
	for _, c := range s.admits {
		out.Spec.AllowFrom = append(out.Spec.AllowFrom, platformv1alpha1.AllowSource{Service: g.svcs[c].name, Namespace: otherNS(c)})
	}
	for _, p := range s.consumes {
		out.Spec.Consumes = append(out.Spec.Consumes, platformv1alpha1.ServiceReference{Service: g.svcs[p].name, Namespace: otherNS(p)})
	}
	for _, z := range s.egress {
		out.Spec.EgressTo = append(out.Spec.EgressTo, platformv1alpha1.ZoneEgress{Zone: z, Ports: []int32{443}})
	}
	return out
}

// Objects returns every object of the city in the order they are applied: namespaces, zones,
// policies, services. Each has its apiVersion and kind set.
func (c *City) Objects() []runtime.Object {
	out := make([]runtime.Object, 0, len(c.Namespaces)+len(c.Zones)+len(c.Policies)+len(c.Services))
	for i := range c.Namespaces {
		out = append(out, &c.Namespaces[i])
	}
	for i := range c.Zones {
		out = append(out, &c.Zones[i])
	}
	for i := range c.Policies {
		out = append(out, &c.Policies[i])
	}
	for i := range c.Services {
		out = append(out, &c.Services[i])
	}
	return out
}
