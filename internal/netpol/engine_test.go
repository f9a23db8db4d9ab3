package netpol

import (
	"slices"
	"testing"

	"github.com/np-guard/models/pkg/netset"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The test world: namespaces "a" (env=prod) and "b" (env=dev), and three workloads.
var (
	testNamespaces = map[string]map[string]string{
		"a": {corev1.LabelMetadataName: "a", "env": "prod"},
		"b": {corev1.LabelMetadataName: "b", "env": "dev"},
	}
	testWorkloads = []Workload{
		{ID: "a/web[Deployment]", Namespace: "a", Labels: map[string]string{"app": "web"},
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP}}},
		{ID: "a/db[Deployment]", Namespace: "a", Labels: map[string]string{"app": "db", "tier": "back"}},
		{ID: "b/job[Deployment]", Namespace: "b", Labels: map[string]string{"app": "web"}},
	}
)

const (
	web = iota
	db
	job
)

func networkPolicy(ns, name string, mutate func(*networkingv1.NetworkPolicySpec)) networkingv1.NetworkPolicy {
	np := networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	mutate(&np.Spec)
	return np
}

func selector(kv ...string) *metav1.LabelSelector {
	s := &metav1.LabelSelector{MatchLabels: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		s.MatchLabels[kv[i]] = kv[i+1]
	}
	return s
}

func port(proto corev1.Protocol, p intstr.IntOrString, end int32) networkingv1.NetworkPolicyPort {
	out := networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &p}
	if end > 0 {
		out.EndPort = &end
	}
	return out
}

// ingressTo isolates the workloads labelled app=<app> in ns for ingress with the given rules.
func ingressTo(ns, app string, rules ...networkingv1.NetworkPolicyIngressRule) networkingv1.NetworkPolicy {
	return networkPolicy(ns, "in-"+app, func(s *networkingv1.NetworkPolicySpec) {
		s.PodSelector = *selector("app", app)
		s.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		s.Ingress = rules
	})
}

func cidr(c string, except ...string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: c, Except: except}}
}

func block(t *testing.T, c string) *netset.IPBlock {
	t.Helper()
	b, err := netset.IPBlockFromCidr(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAllowed(t *testing.T) {
	cases := []struct {
		name     string
		policies []networkingv1.NetworkPolicy
		src, dst int
		want     string
	}{
		{name: "no policy: open both ways", src: job, dst: web, want: "all"},
		{name: "deny-all ingress", src: job, dst: web, want: "none",
			policies: []networkingv1.NetworkPolicy{ingressTo("a", "web")}},
		{name: "allow-all ingress (a rule without peers or ports)", src: job, dst: web, want: "all",
			policies: []networkingv1.NetworkPolicy{ingressTo("a", "web", networkingv1.NetworkPolicyIngressRule{})}},
		{name: "podSelector alone: the policy's namespace only", src: job, dst: db, want: "none",
			policies: []networkingv1.NetworkPolicy{ingressTo("a", "db", networkingv1.NetworkPolicyIngressRule{
				From: []networkingv1.NetworkPolicyPeer{{PodSelector: selector("app", "web")}}})}},
		{name: "podSelector alone matches in its namespace", src: web, dst: db, want: "all",
			policies: []networkingv1.NetworkPolicy{ingressTo("a", "db", networkingv1.NetworkPolicyIngressRule{
				From: []networkingv1.NetworkPolicyPeer{{PodSelector: selector("app", "web")}}})}},
		{name: "namespaceSelector alone: every pod of the namespaces", src: job, dst: db, want: "all",
			policies: []networkingv1.NetworkPolicy{ingressTo("a", "db", networkingv1.NetworkPolicyIngressRule{
				From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: selector("env", "dev")}}})}},
		{name: "namespaceSelector and podSelector combined", src: job, dst: db, want: "none",
			policies: []networkingv1.NetworkPolicy{ingressTo("a", "db", networkingv1.NetworkPolicyIngressRule{
				From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: selector("env", "dev"), PodSelector: selector("app", "api")}}})}},
		{name: "empty namespaceSelector: every namespace", src: job, dst: db, want: "TCP 5432",
			policies: []networkingv1.NetworkPolicy{ingressTo("a", "db", networkingv1.NetworkPolicyIngressRule{
				From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}},
				Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, intstr.FromInt32(5432), 0)}})}},
		{name: "matchExpressions", src: job, dst: db, want: "all",
			policies: []networkingv1.NetworkPolicy{ingressTo("a", "db", networkingv1.NetworkPolicyIngressRule{
				From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "env", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"prod"}}}}}}})}},
		{name: "ipBlock never matches pods", src: job, dst: db, want: "none",
			policies: []networkingv1.NetworkPolicy{ingressTo("a", "db", networkingv1.NetworkPolicyIngressRule{
				From: []networkingv1.NetworkPolicyPeer{cidr("0.0.0.0/0")}})}},
		{name: "endPort and protocols", src: web, dst: db, want: "TCP 8000-8100, SCTP 9000",
			policies: []networkingv1.NetworkPolicy{ingressTo("a", "db", networkingv1.NetworkPolicyIngressRule{
				Ports: []networkingv1.NetworkPolicyPort{
					port(corev1.ProtocolTCP, intstr.FromInt32(8000), 8100),
					port(corev1.ProtocolSCTP, intstr.FromInt32(9000), 0)}})}},
		{name: "a protocol without port: all its ports", src: job, dst: web, want: "UDP all ports",
			policies: []networkingv1.NetworkPolicy{ingressTo("a", "web", networkingv1.NetworkPolicyIngressRule{
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: new(corev1.ProtocolUDP)}}})}},
		{name: "named ports resolve on the destination, protocol included", src: job, dst: web, want: "TCP 8080, UDP 53",
			policies: []networkingv1.NetworkPolicy{ingressTo("a", "web", networkingv1.NetworkPolicyIngressRule{
				Ports: []networkingv1.NetworkPolicyPort{
					port(corev1.ProtocolTCP, intstr.FromString("http"), 0),
					port(corev1.ProtocolUDP, intstr.FromString("dns"), 0),
					port(corev1.ProtocolUDP, intstr.FromString("http"), 0), // http is TCP: no match
					port(corev1.ProtocolTCP, intstr.FromString("missing"), 0)}})}},
		{name: "several policies on one pod add up", src: job, dst: web, want: "TCP 80,443",
			policies: []networkingv1.NetworkPolicy{
				ingressTo("a", "web", networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, intstr.FromInt32(80), 0)}}),
				networkPolicy("a", "second", func(s *networkingv1.NetworkPolicySpec) {
					s.Ingress = []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, intstr.FromInt32(443), 0)}}}
				}),
			}},
		{name: "egress of the source and ingress of the destination intersect", src: web, dst: job, want: "TCP 443",
			policies: []networkingv1.NetworkPolicy{
				networkPolicy("a", "egress", func(s *networkingv1.NetworkPolicySpec) {
					s.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
					s.Egress = []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{
						port(corev1.ProtocolTCP, intstr.FromInt32(443), 0), port(corev1.ProtocolTCP, intstr.FromInt32(80), 0)}}}
				}),
				ingressTo("b", "web", networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{
					port(corev1.ProtocolTCP, intstr.FromInt32(443), 0), port(corev1.ProtocolTCP, intstr.FromInt32(22), 0)}}),
			}},
		{name: "default policyTypes: Ingress only without egress rules", src: web, dst: job, want: "all",
			policies: []networkingv1.NetworkPolicy{networkPolicy("a", "in", func(*networkingv1.NetworkPolicySpec) {})}},
		{name: "default policyTypes: Egress too with egress rules", src: web, dst: job, want: "TCP 53",
			policies: []networkingv1.NetworkPolicy{networkPolicy("a", "both", func(s *networkingv1.NetworkPolicySpec) {
				s.Egress = []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, intstr.FromInt32(53), 0)}}}
			})}},
		{name: "egress-only leaves ingress open", src: job, dst: web, want: "all",
			policies: []networkingv1.NetworkPolicy{networkPolicy("a", "eg", func(s *networkingv1.NetworkPolicySpec) {
				s.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
			})}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(testNamespaces, tc.policies, testWorkloads)
			if err != nil {
				t.Fatal(err)
			}
			got := e.Allowed(WorkloadPeer(tc.src), WorkloadPeer(tc.dst))
			if got.String() != tc.want {
				t.Errorf("Allowed(%s, %s) = %s, want %s", testWorkloads[tc.src].ID, testWorkloads[tc.dst].ID, got, tc.want)
			}
			if !got.Empty() && !e.MayConnect(tc.src, tc.dst) {
				t.Errorf("MayConnect(%s, %s) = false, but %s is allowed", testWorkloads[tc.src].ID, testWorkloads[tc.dst].ID, got)
			}
		})
	}
}

func TestAddressBlocks(t *testing.T) {
	policies := []networkingv1.NetworkPolicy{
		ingressTo("a", "web", networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{cidr("10.0.0.0/8", "10.1.0.0/16")}}),
		networkPolicy("a", "egress", func(s *networkingv1.NetworkPolicySpec) {
			s.PodSelector = *selector("app", "web")
			s.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
			s.Egress = []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{cidr("192.168.0.0/16")},
				Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, intstr.FromString("http"), 0), port(corev1.ProtocolTCP, intstr.FromInt32(443), 0)}}}
		}),
	}
	e, err := New(testNamespaces, policies, testWorkloads)
	if err != nil {
		t.Fatal(err)
	}
	// Blocks are split at every boundary of every ipBlock and except, into contiguous ranges.
	names := func(bs []*netset.IPBlock) []string {
		out := make([]string, 0, len(bs))
		for _, b := range bs {
			out = append(out, b.ToIPRanges())
		}
		return out
	}
	if got, want := names(e.SourceBlocks()), []string{"0.0.0.0-9.255.255.255", "10.0.0.0-10.0.255.255", "10.1.0.0-10.1.255.255", "10.2.0.0-10.255.255.255", "11.0.0.0-255.255.255.255"}; !slices.Equal(got, want) {
		t.Errorf("SourceBlocks = %q, want %q", got, want)
	}
	if got, want := names(e.DestinationBlocks()), []string{"0.0.0.0-192.167.255.255", "192.168.0.0-192.168.255.255", "192.169.0.0-255.255.255.255"}; !slices.Equal(got, want) {
		t.Errorf("DestinationBlocks = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		name     string
		src, dst Peer
		want     string
	}{
		{"from inside the ipBlock", BlockPeer(block(t, "10.2.0.0/16")), WorkloadPeer(web), "all"},
		{"from the except", BlockPeer(block(t, "10.1.2.0/24")), WorkloadPeer(web), "none"},
		{"from an unisolated destination's view", BlockPeer(block(t, "10.1.2.0/24")), WorkloadPeer(db), "all"},
		{"to an ipBlock: named ports do not apply to addresses", WorkloadPeer(web), BlockPeer(block(t, "192.168.1.0/24")), "TCP 443"},
		{"to outside the ipBlock", WorkloadPeer(web), BlockPeer(block(t, "8.8.8.8/32")), "none"},
		{"between addresses", BlockPeer(block(t, "8.8.8.8/32")), BlockPeer(block(t, "1.1.1.1/32")), "none"},
	} {
		if got := e.Allowed(tc.src, tc.dst); got.String() != tc.want {
			t.Errorf("%s: Allowed = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestPolicyQueries(t *testing.T) {
	policies := []networkingv1.NetworkPolicy{
		ingressTo("a", "web", networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, intstr.FromInt32(80), 0)}}),
		networkPolicy("a", "deny-all", func(s *networkingv1.NetworkPolicySpec) {
			s.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
		}),
	}
	e, err := New(testNamespaces, policies, testWorkloads)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.Selecting(web, networkingv1.PolicyTypeIngress), []string{"a/in-web", "a/deny-all"}; !slices.Equal(got, want) {
		t.Errorf("Selecting(web, Ingress) = %q, want %q", got, want)
	}
	if got, want := e.Selecting(web, networkingv1.PolicyTypeEgress), []string{"a/deny-all"}; !slices.Equal(got, want) {
		t.Errorf("Selecting(web, Egress) = %q, want %q", got, want)
	}
	if e.Isolated(job, networkingv1.PolicyTypeIngress) || !e.Isolated(db, networkingv1.PolicyTypeEgress) {
		t.Error("Isolated: job must be open, db isolated for egress")
	}
	if got := e.AllowedByPolicy("a/in-web", networkingv1.PolicyTypeIngress, WorkloadPeer(job), WorkloadPeer(web)); got.String() != "TCP 80" {
		t.Errorf("AllowedByPolicy(in-web) = %s, want TCP 80", got)
	}
	if got := e.AllowedByPolicy("a/deny-all", networkingv1.PolicyTypeIngress, WorkloadPeer(job), WorkloadPeer(web)); !got.Empty() {
		t.Errorf("AllowedByPolicy(deny-all) = %s, want none", got)
	}
}

func TestRefusesInvalidPolicies(t *testing.T) {
	for name, spec := range map[string]func(*networkingv1.NetworkPolicySpec){
		"selector that does not parse": func(s *networkingv1.NetworkPolicySpec) {
			s.PodSelector = metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "k", Operator: "Near"}}}
		},
		"empty peer": func(s *networkingv1.NetworkPolicySpec) {
			s.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{}}}}
		},
		"ipBlock with a selector": func(s *networkingv1.NetworkPolicySpec) {
			p := cidr("10.0.0.0/8")
			p.PodSelector = &metav1.LabelSelector{}
			s.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{p}}}
		},
		"invalid CIDR": func(s *networkingv1.NetworkPolicySpec) {
			s.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{cidr("10.0.0.0/33")}}}
		},
		"named port with endPort": func(s *networkingv1.NetworkPolicySpec) {
			s.Ingress = []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, intstr.FromString("http"), 90)}}}
		},
		"endPort before port": func(s *networkingv1.NetworkPolicySpec) {
			s.Ingress = []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, intstr.FromInt32(90), 80)}}}
		},
	} {
		if _, err := New(testNamespaces, []networkingv1.NetworkPolicy{networkPolicy("a", "bad", spec)}, testWorkloads); err == nil {
			t.Errorf("%s: New accepted the policy", name)
		}
	}
}

func TestConnections(t *testing.T) {
	policies := []networkingv1.NetworkPolicy{
		ingressTo("a", "db", networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{PodSelector: selector("app", "web")}}}),
		ingressTo("a", "web"),
		ingressTo("b", "web"),
	}
	e, err := New(testNamespaces, policies, testWorkloads)
	if err != nil {
		t.Fatal(err)
	}
	conns := e.Connections()
	got := make([]string, 0, len(conns))
	for _, c := range conns {
		got = append(got, c.Src+" => "+c.Dst+" : "+c.Ports.String())
	}
	want := []string{
		"a/db[Deployment] => 0.0.0.0-255.255.255.255 : all",
		"a/web[Deployment] => 0.0.0.0-255.255.255.255 : all",
		"a/web[Deployment] => a/db[Deployment] : all",
		"b/job[Deployment] => 0.0.0.0-255.255.255.255 : all",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Connections() =\n%q\nwant\n%q", got, want)
	}
}
