package controllers

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/version"
)

// Table tests of the rule reader (promrules_test.go), which the metrics spec relies on.

func TestParseExpr(t *testing.T) {
	cases := []struct {
		expr    string
		want    exprRefs
		wantErr string
	}{{
		expr: `up`,
		want: exprRefs{selectors: []promSelector{{metric: "up"}}},
	}, {
		expr: `max by (namespace, name) (smartcity_publicservice_condition{condition="Ready", status="True"}) == 0`,
		want: exprRefs{by: []string{"namespace", "name"}, selectors: []promSelector{{metric: "smartcity_publicservice_condition",
			matchers: []promMatcher{{"condition", "=", "Ready"}, {"status", "=", "True"}}}}},
	}, {
		expr: `sum(rate(a_total{job!~'x|y', code=~"5.."}[5m] offset 1h)) BY (job) / on(job) group_left(team) b:ratio > bool 0.5`,
		want: exprRefs{by: []string{"job"}, grouping: []string{"job", "team"}, selectors: []promSelector{
			{metric: "a_total", matchers: []promMatcher{{"job", "!~", "x|y"}, {"code", "=~", "5.."}}},
			{metric: "b:ratio"}}},
	}, {
		expr: `histogram_quantile(0.99, sum without (pod) (rate(x_seconds_bucket[5m]))) > 1e3 and {__name__="y", le="+Inf"}`,
		want: exprRefs{grouping: []string{"pod"}, selectors: []promSelector{{metric: "x_seconds_bucket"},
			{metric: "y", matchers: []promMatcher{{"le", "=", "+Inf"}}}}},
	}, {
		expr: "a{l=`raw\\d`} # a comment naming no_metric\n unless b",
		want: exprRefs{selectors: []promSelector{{metric: "a", matchers: []promMatcher{{"l", "=", `raw\d`}}}, {metric: "b"}}},
	}, {
		expr:    `a{l="x"`,
		wantErr: "',' or '}' expected",
	}, {
		expr:    `a{l~"x"}`,
		wantErr: "a matcher operator expected",
	}, {
		expr:    `{job="x"}`,
		wantErr: "without a metric name",
	}, {
		expr:    `sum by job (a)`,
		wantErr: "without a label list",
	}, {
		expr:    `a; b`,
		wantErr: "unexpected ';'",
	}}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := parseExpr(tc.expr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(exprRefs{}, promSelector{}, promMatcher{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckRules(t *testing.T) {
	scrape := []promSeries{
		{"smartcity_publicservice_condition", map[string]string{"namespace": "a", "name": "web", "condition": "Ready", "status": "True"}},
		{"smartcity_publicservice_condition", map[string]string{"namespace": "a", "name": "web", "condition": "Ready", "status": "False"}},
		{"smartcity_publicservices", map[string]string{"condition": "Ready", "status": "True"}},
	}
	notReady := promRule{Alert: "NotReady", Expr: `max by (namespace, name) (smartcity_publicservice_condition{condition="Ready",status="True"}) == 0`,
		Annotations: map[string]string{"summary": "{{ $labels.namespace }}/{{ $labels.name }}"}}
	with := func(r promRule, change func(*promRule)) promRule {
		change(&r)
		return r
	}
	cases := []struct {
		name     string
		promRule promRule
		want     []string
	}{
		{"every metric and label exists", notReady, nil},
		{"a renamed metric", with(notReady, func(r *promRule) {
			r.Expr = strings.Replace(r.Expr, "smartcity_publicservice_condition", "smartcity_publicservice_conditions", 1)
		}), []string{"NotReady: metric smartcity_publicservice_conditions is not in the scrape"}},
		{"a matcher's label missing", with(notReady, func(r *promRule) { r.Expr = strings.Replace(r.Expr, "status=", "state=", 1) }),
			[]string{"NotReady: no series of smartcity_publicservice_condition has the label state",
				`NotReady: no series of smartcity_publicservice_condition matches [{condition = Ready} {state = True}]`}},
		{"a value no series has", with(notReady, func(r *promRule) { r.Expr = strings.Replace(r.Expr, `"Ready"`, `"Redy"`, 1) }),
			[]string{`NotReady: no series of smartcity_publicservice_condition matches [{condition = Redy} {status = True}]`}},
		{"a regexp matcher", with(notReady, func(r *promRule) { r.Expr = strings.Replace(r.Expr, `status="True"`, `status!~"Tr.*"`, 1) }), nil},
		{"a label the aggregation drops", with(notReady, func(r *promRule) { r.Annotations = map[string]string{"x": "{{ $labels.condition }}"} }),
			[]string{"NotReady: $labels.condition is not among the labels it aggregates by [namespace name]"}},
		{"a grouping label the metric lacks", with(notReady, func(r *promRule) {
			r.Expr = `sum by (namespace) (smartcity_publicservices)`
			r.Annotations = nil
		}), []string{"NotReady: the series smartcity_publicservices[] selects have no label namespace"}},
		{"a label of the series without aggregation", promRule{Alert: "X", Expr: `smartcity_publicservices > 0`,
			Labels: map[string]string{"cond": "{{ $labels.condition }}", "ns": "{{ $labels.namespace }}"}},
			[]string{"X: the series smartcity_publicservices[] selects have no label namespace"}},
		{"no metric", promRule{Alert: "X", Expr: `vector(1)`}, []string{"X: its expression reads no metric"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, checkRules([]promRule{tc.promRule}, scrape)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestScrapeSeries: histograms are read as Prometheus stores them.
func TestScrapeSeries(t *testing.T) {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "x_seconds", Help: "x", Buckets: []float64{0.5}})
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "y", Help: "y", ConstLabels: prometheus.Labels{"a": "1"}})
	want := []promSeries{
		{"x_seconds_bucket", map[string]string{"le": "0.5"}}, {"x_seconds_bucket", map[string]string{"le": "+Inf"}},
		{"x_seconds_sum", map[string]string{}}, {"x_seconds_count", map[string]string{}},
		{"y", map[string]string{"a": "1"}},
	}
	if diff := cmp.Diff(want, gatherSeries(t, h, g), cmp.AllowUnexported(promSeries{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// The same through the text format, which spells the +Inf bucket out, as the spec scrapes it.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(h, g)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	enc := expfmt.NewEncoder(&text, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	parsed, err := parser.TextToMetricFamilies(&text)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, scrapeSeries(parsed), cmp.AllowUnexported(promSeries{})); diff != "" {
		t.Errorf("from the text format (-want +got):\n%s", diff)
	}
}

// TestExampleRules: the example rules read well, alert on the two conditions the README names,
// each alert names the service, each selects the services in that state and only them, and
// they fail against a collector whose metric is renamed. The
// metrics spec checks them against the running operator.
func TestExampleRules(t *testing.T) {
	rules, err := readRules(filepath.Join("..", "config", "prometheus", "rule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	alerts := make([]string, 0, len(rules))
	for _, r := range rules {
		alerts = append(alerts, r.Alert)
		for _, l := range []string{"namespace", "name"} {
			if !strings.Contains(r.Annotations["summary"], "$labels."+l) {
				t.Errorf("%s: its summary does not name the service's %s", r.Alert, l)
			}
		}
		if r.For == "" {
			t.Errorf("%s: no for: it would fire on one scrape", r.Alert)
		}
	}
	if want := []string{"PublicServiceNotReady", "PublicServiceConnectivityNotVerified"}; !slices.Equal(alerts, want) {
		t.Errorf("alerts %v, want %v", alerts, want)
	}
	// One service starting (no Ready yet), one Ready but more open than declared.
	services := []platformv1alpha1.PublicService{
		serviceWith("a", "starting", platformv1alpha1.ConditionConnectivityVerified, "True"),
		serviceWith("b", "open", platformv1alpha1.ConditionReady, "True", platformv1alpha1.ConditionConnectivityVerified, "False"),
	}
	c := &cityCollector{reader: servicesReader{services: services}, build: version.Get()}
	scrape := gatherSeries(t, c)
	if problems := checkRules(rules, scrape); len(problems) > 0 {
		t.Errorf("the rules use what the collector does not export:\n%s", strings.Join(problems, "\n"))
	}
	want := map[string][]string{"PublicServiceNotReady": {"a/starting"}, "PublicServiceConnectivityNotVerified": {"b/open"}}
	for _, r := range rules {
		got, err := selectedServices(r, scrape)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want[r.Alert]) {
			t.Errorf("%s selects %v, want %v", r.Alert, got, want[r.Alert])
		}
	}
	renamed := slices.Clone(gatherSeries(t, c))
	for i := range renamed {
		renamed[i].name = strings.Replace(renamed[i].name, "publicservice_condition", "publicservice_status", 1)
	}
	if problems := checkRules(rules, renamed); len(problems) != len(rules) {
		t.Errorf("with the metric renamed, %d problems, want one per rule: %v", len(problems), problems)
	}
}

// gatherSeries gathers collectors through a pedantic registry.
func gatherSeries(t *testing.T, cs ...prometheus.Collector) []promSeries {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(cs...)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range families {
		byName[f.GetName()] = f
	}
	return scrapeSeries(byName)
}
