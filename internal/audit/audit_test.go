package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
	"github.com/smartcity-io/smartcity-operator/internal/netpol"
)

// sampleCity is the reference city of the project.
const sampleCity = "../../config/samples"

// topology is a set of manifests audited offline, with what the audit must find.
type topology struct {
	name  string
	paths []string
	want  map[ViolationKind]int
}

// topologies are the reference city, and the city with each folder of testdata/topologies
// applied on top (see its README).
var topologies = []topology{
	{name: "sample-city", paths: []string{sampleCity}, want: map[ViolationKind]int{}},
	{name: "deny-all", want: map[ViolationKind]int{TooClosed: 1}},
	{name: "foreign-allow-all", want: map[ViolationKind]int{TooOpen: 6}},
	{name: "consumer-without-consent", want: map[ViolationKind]int{OneSided: 1}},
	{name: "name-conflict", want: map[ViolationKind]int{TooClosed: 3}},
	{name: "unisolated-workload", want: map[ViolationKind]int{Unisolated: 1}},
	{name: "namespace-consent", want: map[ViolationKind]int{}},
}

func (tp topology) files() []string {
	if tp.paths != nil {
		return tp.paths
	}
	return []string{sampleCity, filepath.Join("testdata", "topologies", tp.name)}
}

func auditTopology(t *testing.T, tp topology) *Report {
	t.Helper()
	r, err := AuditFiles(tp.files(), false, Options{})
	if err != nil {
		t.Fatalf("AuditFiles(%v): %v", tp.files(), err)
	}
	return r
}

// renderedTopology reads a topology's manifests and adds what the operator renders for them.
func renderedTopology(t *testing.T, tp topology) *Model {
	t.Helper()
	m, err := ReadFiles(tp.files(), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := Rendered(m, Options{}.Render)
	if err != nil {
		t.Fatal(err)
	}
	return rendered
}

func TestViolations(t *testing.T) {
	for _, tp := range topologies {
		t.Run(tp.name, func(t *testing.T) {
			r := auditTopology(t, tp)
			if diff := cmp.Diff(tp.want, r.Counts()); diff != "" {
				t.Errorf("violation counts (-want +got):\n%s\nviolations: %+v", diff, r.Violations)
			}
			if got, want := r.Clean(), len(tp.want) == 0; got != want {
				t.Errorf("Clean() = %t, want %t", got, want)
			}
			for _, s := range r.Services {
				var related bool
				for _, v := range r.Violations {
					related = related || ((v.From == s.Service || v.To == s.Service) && (v.Kind == TooOpen || v.Kind == TooClosed))
				}
				if s.Verified == related {
					t.Errorf("%s: Verified = %t, but TooOpen/TooClosed violations about it: %t", s.Service, s.Verified, related)
				}
			}
		})
	}
}

// TestSampleCityIsVerified spells out the reference city's intent: every declared flow is
// allowed and nothing else.
func TestSampleCityIsVerified(t *testing.T) {
	r := auditTopology(t, topologies[0])
	want := map[string]string{
		"city-health/checkin -> city-identity/vneid": "TCP 8080",
		"city-health/checkin -> {dns}":               "TCP 53, UDP 53",
		"city-identity/vneid -> zone/population-db":  "TCP 443",
		"city-identity/vneid -> {dns}":               "TCP 53, UDP 53",
		"city-portal/portal -> city-identity/vneid":  "TCP 8080",
		"city-portal/portal -> {dns}":                "TCP 53, UDP 53",
		"zone/hospital-lan -> city-health/checkin":   "TCP 8080",
		"{gateway} -> city-portal/portal":            "TCP 8080",
	}
	got := map[string]string{}
	for _, f := range r.Flows {
		if f.Allowed.String() != f.Declared.String() || !f.Partly.Empty() {
			t.Errorf("%s -> %s: allowed %s (partly %s), declared %s", f.From, f.To, f.Allowed, f.Partly, f.Declared)
		}
		got[f.From+" -> "+f.To] = f.Allowed.String()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flows (-want +got):\n%s", diff)
	}
	for _, s := range r.Services {
		if !s.Verified || s.Message() != "Effective ingress and egress equal the declared intent" {
			t.Errorf("%s: Verified %t, %q", s.Service, s.Verified, s.Message())
		}
	}
}

func TestServiceSummaryMessage(t *testing.T) {
	r := auditTopology(t, topologies[4]) // name-conflict
	s, ok := r.Service("city-identity", "vneid")
	if !ok {
		t.Fatal("no summary for city-identity/vneid")
	}
	want := "missing ingress: city-health/checkin TCP 8080; missing egress: zone/population-db TCP 443; {dns} TCP 53, UDP 53"
	if s.Verified || s.Message() != want {
		t.Errorf("Verified %t, Message() = %q, want %q", s.Verified, s.Message(), want)
	}
}

func TestReportJSONRoundTrip(t *testing.T) {
	r := auditTopology(t, topologies[2]) // foreign-allow-all
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, &back); diff != "" {
		t.Errorf("report after a JSON round trip (-before +after):\n%s", diff)
	}
}

// TestDeterministic audits the same files read in another order: later files win, so the
// reference city is given twice to keep the same objects.
func TestDeterministic(t *testing.T) {
	a := auditTopology(t, topologies[2])
	files, err := filepath.Glob(filepath.Join(sampleCity, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	reversed := []string{filepath.Join("testdata", "topologies", "foreign-allow-all")}
	for _, f := range slices.Backward(files) {
		reversed = append([]string{f}, reversed...)
	}
	b, err := AuditFiles(reversed, false, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b.Source = a.Source
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same objects, different order (-a +b):\n%s", diff)
	}
}

func TestReadFilesErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: v1\nkind: Namespace\nmetadata: [not, a, map]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, paths := range [][]string{nil, {filepath.Join(dir, "missing.yaml")}, {bad}} {
		_, err := ReadFiles(paths, false, nil)
		if _, ok := errors.AsType[*InputError](err); !ok {
			t.Errorf("ReadFiles(%v) = %v, want an InputError", paths, err)
		}
	}
}

func TestReadFilesStdinListsAndRecursion(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	list := `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}]}`
	if err := os.WriteFile(filepath.Join(sub, "list.json"), []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a manifest"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := ReadFiles([]string{dir}, false, nil)
	if err != nil || len(m.Namespaces) != 0 {
		t.Errorf("without recursion: %v namespaces, err %v; want none", len(m.Namespaces), err)
	}
	m, err = ReadFiles([]string{dir}, true, nil)
	if err != nil || len(m.Namespaces) != 1 || m.Namespaces[0].Name != "a" {
		t.Errorf("with recursion: %+v, err %v; want namespace a", m.Namespaces, err)
	}
	stdin := strings.NewReader("---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n---\n")
	m, err = ReadFiles([]string{"-"}, false, stdin)
	if err != nil || len(m.Pods) != 1 || m.Pods[0].Namespace != "default" {
		t.Errorf("from stdin: %+v, err %v; want pod default/p", m.Pods, err)
	}
}

// A city's service can miss hundreds of flows: the condition message names three of each list
// and how many there are; the report's message names them all.
func TestServiceSummaryMessageOfACity(t *testing.T) {
	missing := make([]PeerPorts, 0, 300)
	for i := range 300 {
		missing = append(missing, PeerPorts{Peer: fmt.Sprintf("ns-%03d/consumer", i), Ports: netpol.PortsOf(corev1.ProtocolTCP, 8080)})
	}
	s := ServiceSummary{MissingIngress: missing, ExtraEgress: missing[:2]}
	want := "missing ingress (300): ns-000/consumer TCP 8080; ns-001/consumer TCP 8080; ns-002/consumer TCP 8080; and 297 more; " +
		"extra egress: ns-000/consumer TCP 8080; ns-001/consumer TCP 8080"
	if got := s.ConditionMessage(); got != want {
		t.Errorf("ConditionMessage() = %q, want %q", got, want)
	}
	if got := s.Message(); !strings.Contains(got, "ns-299/consumer") || strings.Contains(got, "more") {
		t.Errorf("Message() = %q, want every flow named", got)
	}
}

// A report restricted to one service (Options.Service, the connectivity controller's) gives
// that service the same summary and violations as the whole report, on every topology.
func TestOneServiceReportEqualsWholeReport(t *testing.T) {
	compared := 0
	for _, tp := range topologies {
		t.Run(tp.name, func(t *testing.T) {
			rendered := renderedTopology(t, tp)
			whole, err := Analyze(rendered, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range whole.Services {
				one, err := Analyze(rendered, Options{Service: s.Service})
				if err != nil {
					t.Fatal(err)
				}
				ns, name, _ := strings.Cut(s.Service, "/")
				got, ok := one.Service(ns, name)
				if !ok || len(one.Services) != 1 {
					t.Fatalf("%s: the restricted report has %d summaries", s.Service, len(one.Services))
				}
				if diff := cmp.Diff(s, got); diff != "" {
					t.Errorf("%s: summary (-whole +one):\n%s", s.Service, diff)
				}
				want := slices.DeleteFunc(slices.Clone(whole.Violations), func(v Violation) bool { return v.Service != s.Service })
				if diff := cmp.Diff(want, one.Violations, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s: violations (-whole +one):\n%s", s.Service, diff)
				}
				compared++
			}
		})
	}
	if compared == 0 {
		t.Fatal("no service was compared")
	}
	t.Logf("%d services compared", compared)
}

// An analysis shares the model's objects (the connectivity controller hands it the cache's
// own): it must never modify one. Every topology, a generated city, the whole report, one
// service's, and kubectl city connectivity.
func TestAnalyzeLeavesTheModelAlone(t *testing.T) {
	models := map[string]*Model{"city of 200": cityModel(t, 200)}
	for _, tp := range topologies {
		models[tp.name] = renderedTopology(t, tp)
	}
	for name, m := range models {
		t.Run(name, func(t *testing.T) {
			before := m.DeepCopy()
			whole, err := Analyze(m, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(whole.Services) > 0 {
				if _, err := Analyze(m, Options{Service: whole.Services[0].Service}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := Connectivity(m); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, m); diff != "" {
				t.Errorf("the analysis modified its model (-before +after):\n%s", diff)
			}
		})
	}
}

// backwards returns a copy of m with every list in reverse order: a Model that is not sorted.
func backwards(m *Model) *Model {
	out := m.clone()
	slices.Reverse(out.Namespaces)
	slices.Reverse(out.NetworkPolicies)
	slices.Reverse(out.Deployments)
	slices.Reverse(out.StatefulSets)
	slices.Reverse(out.DaemonSets)
	slices.Reverse(out.ReplicaSets)
	slices.Reverse(out.Pods)
	slices.Reverse(out.PublicServices)
	slices.Reverse(out.NetworkZones)
	return out
}

// TestAnalyzeOfAModelInAnyOrder analyzes a Model whose lists are not sorted: the report is that
// of the sorted Model, and the Model keeps its order (Analyze sorts a copy of its lists).
func TestAnalyzeOfAModelInAnyOrder(t *testing.T) {
	m := asRunning(cityModel(t, 200))
	m.sort()
	want, err := Analyze(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	back := backwards(m)
	if back.sorted() {
		t.Fatal("the Model listed backwards is sorted: the test tests nothing")
	}
	before := back.DeepCopy()
	got, err := Analyze(back, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the report of the Model listed backwards differs (-sorted +backwards):\n%s", diff)
	}
	if diff := cmp.Diff(before, back); diff != "" {
		t.Errorf("the analysis modified its model (-before +after):\n%s", diff)
	}
}

// resolveWith gives each service a world of its own (what it consumes, what consumes it): the
// flows must be those that a world of every service gives.
func TestResolveInOwnWorldsEqualsWholeWorld(t *testing.T) {
	models := map[string]*Model{"city of 200": cityModel(t, 200)}
	for _, tp := range topologies {
		models[tp.name] = renderedTopology(t, tp)
	}
	compared := 0
	for name, m := range models {
		t.Run(name, func(t *testing.T) {
			nsLabels := m.NamespaceLabels()
			whole := intent.World{Services: map[types.NamespacedName]*platformv1alpha1.PublicService{},
				Zones: map[string]*platformv1alpha1.NetworkZone{}}
			for i := range m.PublicServices {
				s := &m.PublicServices[i]
				whole.Services[types.NamespacedName{Namespace: s.Namespace, Name: s.Name}] = s
			}
			for i := range m.NetworkZones {
				whole.Zones[m.NetworkZones[i].Name] = &m.NetworkZones[i]
			}
			for _, si := range resolveWith(m, nsLabels) {
				w := whole
				w.NamespaceLabels = nsLabels[si.key.Namespace]
				if diff := cmp.Diff(intent.Resolve(si.svc, w), si.flows, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s: flows (-whole world +own world):\n%s", si.key, diff)
				}
				compared++
			}
		})
	}
	if compared == 0 {
		t.Fatal("no service compared")
	}
}
