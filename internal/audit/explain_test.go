package audit

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func explainIn(t *testing.T, tp topology, from, to string, port int32) *Explanation {
	t.Helper()
	m, err := ReadFiles(tp.files(), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := Rendered(m, Options{}.Render)
	if err != nil {
		t.Fatal(err)
	}
	x, err := Explain(rendered, Options{}, from, to, PortRange{From: port})
	if err != nil {
		t.Fatalf("Explain(%s, %s): %v", from, to, err)
	}
	if len(x.Notes) > 0 {
		t.Errorf("the per-policy evaluation disagrees with the analyzer: %v", x.Notes)
	}
	return x
}

func TestExplain(t *testing.T) {
	city, allowAll, denyAll, conflict, byNamespace := topologies[0], topologies[2], topologies[1], topologies[4], topologies[6]
	cases := []struct {
		name          string
		tp            topology
		from, to      string
		port          int32
		allowed       bool
		egress        []string // allowedBy
		ingress       []string
		ingressSelect []string // selectedBy
		checks        int
		violations    int
	}{
		{name: "declared flow", tp: city, from: "city-portal/portal", to: "city-identity/vneid",
			allowed: true, egress: []string{"city-portal/portal"}, ingress: []string{"city-identity/vneid"},
			ingressSelect: []string{"city-identity/vneid"}, checks: 1},
		{name: "undeclared flow between services", tp: city, from: "city-identity/vneid", to: "city-portal/portal",
			allowed: false, egress: []string{}, ingress: []string{}, ingressSelect: []string{"city-portal/portal"}, checks: 1},
		{name: "zone to service", tp: city, from: "zone/hospital-lan", to: "city-health/checkin",
			allowed: true, egress: []string{}, ingress: []string{"city-health/checkin"}, ingressSelect: []string{"city-health/checkin"}, checks: 1},
		{name: "address in the zone's except range", tp: city, from: "192.168.100.250", to: "city-health/checkin",
			allowed: false, egress: []string{}, ingress: []string{}, ingressSelect: []string{"city-health/checkin"}, checks: 1},
		{name: "foreign allow-all decides", tp: allowAll, from: "{any-pod}", to: "city-identity/vneid", port: 9999,
			allowed: true, egress: []string{}, ingress: []string{"city-identity/allow-all-ingress"},
			ingressSelect: []string{"city-identity/allow-all-ingress", "city-identity/vneid"}, checks: 1, violations: 1},
		{name: "deny-all adds nothing and removes nothing", tp: denyAll, from: "city-portal/portal", to: "city-identity/vneid",
			allowed: true, egress: []string{"city-portal/portal"}, ingress: []string{"city-identity/vneid"},
			ingressSelect: []string{"city-identity/default-deny", "city-identity/vneid"}, checks: 1},
		{name: "consumer admitted through its namespace", tp: byNamespace, from: "city-portal/forms", to: "city-identity/vneid",
			allowed: true, egress: []string{"city-portal/forms"}, ingress: []string{"city-identity/vneid"},
			ingressSelect: []string{"city-identity/vneid"}, checks: 1},
		{name: "service of an admitted namespace that does not consume", tp: byNamespace, from: "city-portal/news", to: "city-identity/vneid",
			allowed: false, egress: []string{}, ingress: []string{}, ingressSelect: []string{"city-identity/vneid"}, checks: 1},
		{name: "foreign policy of the same name blocks DNS", tp: conflict, from: "city-identity/vneid", to: "dns",
			allowed: false, egress: []string{}, ingress: []string{}, ingressSelect: []string{}, checks: 1, violations: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := explainIn(t, tc.tp, tc.from, tc.to, tc.port)
			if x.Allowed != tc.allowed || len(x.Checks) != tc.checks || len(x.Violations) != tc.violations {
				t.Fatalf("allowed %t, %d checks, %d violations; want %t, %d, %d: %+v", x.Allowed, len(x.Checks), len(x.Violations),
					tc.allowed, tc.checks, tc.violations, x)
			}
			c := x.Checks[0]
			got := [][]string{c.Egress.AllowedBy, c.Ingress.AllowedBy, c.Ingress.SelectedBy}
			if diff := cmp.Diff([][]string{tc.egress, tc.ingress, tc.ingressSelect}, got); diff != "" {
				t.Errorf("egress allowedBy, ingress allowedBy, ingress selectedBy (-want +got):\n%s", diff)
			}
			var buf bytes.Buffer
			if err := WriteExplanation(&buf, x); err != nil || buf.Len() == 0 {
				t.Errorf("WriteExplanation: %v, %d bytes", err, buf.Len())
			}
		})
	}
}

func TestExplainDefaultsAndErrors(t *testing.T) {
	x := explainIn(t, topologies[0], "city-identity/vneid", "{dns}", 0)
	if want := (Ports{{Protocol: corev1.ProtocolTCP, From: 53, To: 53}}); !cmp.Equal(x.Port, want) {
		t.Errorf("default port = %s, want the first declared one, %s", x.Port, want)
	}
	m, err := ReadFiles([]string{sampleCity}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]string{{"zone/hospital-lan", "203.0.113.10"}, {"nowhere/nothing", "city-portal/portal"}, {"{external}", "zone/nope"}} {
		if _, err := Explain(m, Options{}, pair[0], pair[1], PortRange{}); err == nil {
			t.Errorf("Explain(%s, %s) succeeded, want an error", pair[0], pair[1])
		}
	}
}
