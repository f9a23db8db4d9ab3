package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	promtestutil "github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/audit"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
	"github.com/smartcity-io/smartcity-operator/internal/version"
)

// Table tests of the city's collector on fixed services; the metrics specs (envtest) scrape it
// from the running operator.

// servicesReader is a client.Reader that lists fixed PublicServices, or fails with err.
type servicesReader struct {
	services []platformv1alpha1.PublicService
	err      error
}

func (r servicesReader) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return errors.New("servicesReader only lists")
}

func (r servicesReader) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	if r.err != nil {
		return r.err
	}
	l, ok := list.(*platformv1alpha1.PublicServiceList)
	if !ok {
		return fmt.Errorf("servicesReader lists PublicServices, not %T", list)
	}
	l.Items = r.services
	return nil
}

// serviceWith returns a PublicService with these conditions (type, status pairs).
func serviceWith(ns, name string, conditions ...string) platformv1alpha1.PublicService {
	svc := testutil.PublicService(name, ns).Obj()
	for i := 0; i+1 < len(conditions); i += 2 {
		svc.Status.Conditions = append(svc.Status.Conditions, metav1.Condition{
			Type: conditions[i], Status: metav1.ConditionStatus(conditions[i+1]), Reason: "Test"})
	}
	return *svc
}

// metricHeader returns the HELP and TYPE lines of a metric in the text format.
func metricHeader(name, typ, help string) string {
	return "# HELP " + name + " " + help + "\n# TYPE " + name + " " + typ + "\n"
}

var (
	buildInfoHeader = metricHeader("smartcity_build_info", "gauge",
		"The operator's build, always 1: its version, the git commit it was built from, and the Go toolchain that built it.")
	conditionHeader = metricHeader("smartcity_publicservice_condition", "gauge",
		"The conditions of each PublicService: 1 for each condition type with its current status (Unknown when the condition is absent).")
	violationsHeader = metricHeader("smartcity_connectivity_violations", "gauge",
		"Connectivity violations (effective flows that differ from intent) by kind, over all PublicServices.")
	servicesHeader = metricHeader("smartcity_publicservices", "gauge", "PublicServices by condition type and status.")
)

func TestCityCollector(t *testing.T) {
	build := version.Info{Version: "v0.3.0", Commit: "0a1b2c3d", GoVersion: "go1.26.8", Date: "2026-11-29T01:02:03Z", Platform: "linux/amd64"}
	cases := []struct {
		name       string
		services   []platformv1alpha1.PublicService
		violations map[string][]audit.Violation // recorded by "namespace/name"; nil: verification off
		names      []string                     // the metrics compared
		want       string
	}{{
		name:  "build info, whatever the services",
		names: []string{"smartcity_build_info"},
		want: buildInfoHeader + `smartcity_build_info{goversion="go1.26.8",revision="0a1b2c3d",version="v0.3.0"} 1
`,
	}, {
		name:  "no service: no per-service series",
		names: []string{"smartcity_publicservice_condition"},
		want:  "",
	}, {
		name: "one service: one series per condition, with its status, Unknown for an absent condition",
		services: []platformv1alpha1.PublicService{serviceWith("city-identity", "vneid",
			platformv1alpha1.ConditionReady, "True", platformv1alpha1.ConditionAvailable, "True",
			platformv1alpha1.ConditionNetworkIsolated, "True", platformv1alpha1.ConditionConnectivityVerified, "False")},
		names: []string{"smartcity_publicservice_condition"},
		want: conditionHeader + `smartcity_publicservice_condition{condition="Available",name="vneid",namespace="city-identity",status="True"} 1
smartcity_publicservice_condition{condition="ConnectivityVerified",name="vneid",namespace="city-identity",status="False"} 1
smartcity_publicservice_condition{condition="DependenciesSatisfied",name="vneid",namespace="city-identity",status="Unknown"} 1
smartcity_publicservice_condition{condition="NetworkIsolated",name="vneid",namespace="city-identity",status="True"} 1
smartcity_publicservice_condition{condition="Ready",name="vneid",namespace="city-identity",status="True"} 1
`,
	}, {
		name: "two services of one name in two namespaces, and the totals",
		services: []platformv1alpha1.PublicService{
			serviceWith("a", "web", platformv1alpha1.ConditionReady, "True"),
			serviceWith("b", "web", platformv1alpha1.ConditionReady, "False"),
		},
		names: []string{"smartcity_publicservice_condition", "smartcity_publicservices"},
		want: conditionHeader + conditionLines("a", "web", "True") + conditionLines("b", "web", "False") +
			servicesHeader + totalLines(map[string]int{"Ready/True": 1, "Ready/False": 1}, 2),
	}, {
		name:     "verification off: no violations",
		services: []platformv1alpha1.PublicService{serviceWith("a", "web")},
		names:    []string{"smartcity_connectivity_violations"},
		want:     "",
	}, {
		name:     "violations of existing services only, every kind",
		services: []platformv1alpha1.PublicService{serviceWith("a", "web"), serviceWith("b", "api")},
		violations: map[string][]audit.Violation{
			"a/web":  {{Kind: audit.TooOpen, Service: "a/web"}, {Kind: audit.TooOpen, Service: "a/web"}, {Kind: audit.OneSided, Service: "b/api"}},
			"b/api":  {{Kind: audit.TooClosed, Service: "b/api"}},
			"c/gone": {{Kind: audit.Unisolated, Service: "c/gone"}},
		},
		names: []string{"smartcity_connectivity_violations"},
		want: violationsHeader + `smartcity_connectivity_violations{kind="OneSided"} 0
smartcity_connectivity_violations{kind="TooClosed"} 1
smartcity_connectivity_violations{kind="TooOpen"} 2
smartcity_connectivity_violations{kind="Unisolated"} 0
`,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &cityCollector{reader: servicesReader{services: tc.services}, build: build}
			if tc.violations != nil {
				c.violations = &violationStore{}
				for key, v := range tc.violations {
					c.violations.record(key, v, key)
				}
			}
			if err := promtestutil.CollectAndCompare(c, strings.NewReader(tc.want), tc.names...); err != nil {
				t.Error(err)
			}
			if problems, err := promtestutil.CollectAndLint(c); err != nil || len(problems) > 0 {
				t.Errorf("lint: %v %v", problems, err)
			}
		})
	}
}

// conditionLines are the series of a service whose Ready condition has status ready and whose
// other conditions are absent.
func conditionLines(ns, name, ready string) string {
	var b strings.Builder
	for _, typ := range []string{"Available", "ConnectivityVerified", "DependenciesSatisfied", "NetworkIsolated", "Ready"} {
		current := "Unknown"
		if typ == "Ready" {
			current = ready
		}
		fmt.Fprintf(&b, "smartcity_publicservice_condition{condition=%q,name=%q,namespace=%q,status=%q} 1\n", typ, name, ns, current)
	}
	return b.String()
}

// totalLines are the series of smartcity_publicservices for n services: counts by
// "condition/status", the other services' conditions Unknown.
func totalLines(counts map[string]int, n int) string {
	var b strings.Builder
	for _, typ := range []string{"Available", "ConnectivityVerified", "DependenciesSatisfied", "NetworkIsolated", "Ready"} {
		known := 0
		for _, s := range []string{"False", "True"} {
			known += counts[typ+"/"+s]
		}
		for _, s := range []string{"False", "True", "Unknown"} {
			v := counts[typ+"/"+s]
			if s == "Unknown" {
				v = n - known
			}
			fmt.Fprintf(&b, "smartcity_publicservices{condition=%q,status=%q} %d\n", typ, s, v)
		}
	}
	return b.String()
}

// TestCityCollectorAuditDuration: with verification on, the collector exports the analysis
// times the connectivity controller observes.
func TestCityCollectorAuditDuration(t *testing.T) {
	h := newAuditDuration()
	c := &cityCollector{reader: servicesReader{}, violations: &violationStore{}, auditDuration: h}
	h.Observe(0.003)
	h.Observe(2)
	want := metricHeader("smartcity_connectivity_audit_duration_seconds", "histogram",
		"Time of each connectivity analysis of a PublicService (its effective flows against its intent), in seconds.") +
		`smartcity_connectivity_audit_duration_seconds_bucket{le="0.001"} 0
smartcity_connectivity_audit_duration_seconds_bucket{le="0.0025"} 0
smartcity_connectivity_audit_duration_seconds_bucket{le="0.005"} 1
smartcity_connectivity_audit_duration_seconds_bucket{le="0.01"} 1
smartcity_connectivity_audit_duration_seconds_bucket{le="0.025"} 1
smartcity_connectivity_audit_duration_seconds_bucket{le="0.05"} 1
smartcity_connectivity_audit_duration_seconds_bucket{le="0.1"} 1
smartcity_connectivity_audit_duration_seconds_bucket{le="0.25"} 1
smartcity_connectivity_audit_duration_seconds_bucket{le="0.5"} 1
smartcity_connectivity_audit_duration_seconds_bucket{le="1"} 1
smartcity_connectivity_audit_duration_seconds_bucket{le="2.5"} 2
smartcity_connectivity_audit_duration_seconds_bucket{le="5"} 2
smartcity_connectivity_audit_duration_seconds_bucket{le="10"} 2
smartcity_connectivity_audit_duration_seconds_bucket{le="+Inf"} 2
smartcity_connectivity_audit_duration_seconds_sum 2.003
smartcity_connectivity_audit_duration_seconds_count 2
`
	if err := promtestutil.CollectAndCompare(c, strings.NewReader(want), "smartcity_connectivity_audit_duration_seconds"); err != nil {
		t.Error(err)
	}
	// Off: no histogram.
	off := &cityCollector{reader: servicesReader{}}
	if n := promtestutil.CollectAndCount(off, "smartcity_connectivity_audit_duration_seconds"); n != 0 {
		t.Errorf("verification off exports %d audit duration series, want none", n)
	}
}

// TestCollectorWiring: Collector exports this binary's build, and the violations and audit
// times only with a connectivity controller.
func TestCollectorWiring(t *testing.T) {
	v := version.Get()
	want := buildInfoHeader + fmt.Sprintf("smartcity_build_info{goversion=%q,revision=%q,version=%q} 1\n", v.GoVersion, v.Commit, v.Version)
	for _, tc := range []struct {
		name         string
		connectivity *ConnectivityReconciler
		verified     int // series of the verification's metrics
	}{
		{"verification off", nil, 0},
		{"verification on", &ConnectivityReconciler{}, 4 + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Collector(servicesReader{}, tc.connectivity)
			if err := promtestutil.CollectAndCompare(c, strings.NewReader(want), "smartcity_build_info"); err != nil {
				t.Error(err)
			}
			got := promtestutil.CollectAndCount(c, "smartcity_connectivity_violations", "smartcity_connectivity_audit_duration_seconds")
			if got != tc.verified {
				t.Errorf("%d series of the verification's metrics, want %d", got, tc.verified)
			}
		})
	}
}

// TestCityCollectorListFails: a failed list is a scrape error, not silently missing series.
func TestCityCollectorListFails(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(&cityCollector{reader: servicesReader{err: errors.New("cache not synced")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err == nil || !strings.Contains(err.Error(), "cache not synced") {
		t.Errorf("Gather with a failing list: %v, want the list's error", err)
	}
}

// BenchmarkCityCollector: a scrape of the city's metrics for 1,700 services (the generated
// city's size), each with its five conditions: 8,500 per-service series.
func BenchmarkCityCollector(b *testing.B) {
	services := make([]platformv1alpha1.PublicService, 0, 1700)
	for i := range 1700 {
		services = append(services, serviceWith(fmt.Sprintf("ns-%d", i/10), fmt.Sprintf("svc-%d", i),
			platformv1alpha1.ConditionReady, "True", platformv1alpha1.ConditionAvailable, "True",
			platformv1alpha1.ConditionNetworkIsolated, "True", platformv1alpha1.ConditionDependenciesSatisfied, "True",
			platformv1alpha1.ConditionConnectivityVerified, "True"))
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(&cityCollector{reader: servicesReader{services: services}, violations: &violationStore{}, auditDuration: newAuditDuration()})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
