package bench

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestQuantile(t *testing.T) {
	inf := math.Inf(1)
	for _, tc := range []struct {
		name    string
		q       float64
		buckets []Bucket
		want    float64
	}{
		{"middle of the first bucket", 0.5, []Bucket{{0.1, 10}, {0.2, 10}, {inf, 10}}, 0.05},
		{"interpolated in the second bucket", 0.5, []Bucket{{0.1, 0}, {0.2, 4}, {inf, 4}}, 0.15},
		{"p99 at the top of a bucket", 0.99, []Bucket{{0.1, 50}, {1, 100}, {inf, 100}}, 0.982},
		{"in +Inf: the highest finite bound", 0.99, []Bucket{{0.1, 1}, {1, 2}, {inf, 100}}, 1},
		{"unsorted input", 0.5, []Bucket{{inf, 10}, {0.2, 10}, {0.1, 10}}, 0.05},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Quantile(tc.q, tc.buckets); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("Quantile(%v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
	if got := Quantile(0.5, []Bucket{{0.1, 0}, {inf, 0}}); !math.IsNaN(got) {
		t.Errorf("Quantile of no observations = %v, want NaN", got)
	}
}

const metricsPage = `# HELP controller_runtime_reconcile_total Total number of reconciliations per controller
# TYPE controller_runtime_reconcile_total counter
controller_runtime_reconcile_total{controller="publicservice",result="success"} 90
controller_runtime_reconcile_total{controller="publicservice",result="error"} 10
controller_runtime_reconcile_total{controller="networkzone",result="success"} 7
# HELP controller_runtime_reconcile_time_seconds Length of time per reconciliation per controller
# TYPE controller_runtime_reconcile_time_seconds histogram
controller_runtime_reconcile_time_seconds_bucket{controller="publicservice",le="0.1"} 50
controller_runtime_reconcile_time_seconds_bucket{controller="publicservice",le="1"} 100
controller_runtime_reconcile_time_seconds_bucket{controller="publicservice",le="+Inf"} 100
controller_runtime_reconcile_time_seconds_sum{controller="publicservice"} 20
controller_runtime_reconcile_time_seconds_count{controller="publicservice"} 100
controller_runtime_reconcile_time_seconds_bucket{controller="networkzone",le="0.1"} 7
controller_runtime_reconcile_time_seconds_bucket{controller="networkzone",le="1"} 7
controller_runtime_reconcile_time_seconds_bucket{controller="networkzone",le="+Inf"} 7
controller_runtime_reconcile_time_seconds_sum{controller="networkzone"} 0.1
controller_runtime_reconcile_time_seconds_count{controller="networkzone"} 7
`

func TestReadReconciles(t *testing.T) {
	got, err := ReadReconciles(strings.NewReader(metricsPage), "publicservice")
	if err != nil {
		t.Fatal(err)
	}
	want := Reconciles{Count: 100, P50: 0.1, P99: 0.982}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("ReadReconciles (-want +got):\n%s", diff)
	}
	if _, err := ReadReconciles(strings.NewReader(metricsPage), "other"); err == nil {
		t.Error("no error for a controller without a histogram")
	}
}

// Four requests of the operator (a watch logged twice, a patch, a status update, an event)
// and one of another user.
const auditLog = `{"auditID":"a","stage":"ResponseStarted","verb":"watch","user":{"username":"op"},"objectRef":{"resource":"pods"},"requestReceivedTimestamp":"2026-01-01T00:00:01.000000Z"}
{"auditID":"a","stage":"ResponseComplete","verb":"watch","user":{"username":"op"},"objectRef":{"resource":"pods"},"requestReceivedTimestamp":"2026-01-01T00:00:01.000000Z"}
{"auditID":"b","stage":"ResponseComplete","verb":"patch","user":{"username":"op"},"objectRef":{"resource":"deployments","apiGroup":"apps"},"requestReceivedTimestamp":"2026-01-01T00:00:02.000000Z"}
{"auditID":"c","stage":"ResponseComplete","verb":"update","user":{"username":"op"},"objectRef":{"resource":"publicservices","subresource":"status"},"requestReceivedTimestamp":"2026-01-01T00:00:03.000000Z"}
{"auditID":"d","stage":"ResponseComplete","verb":"create","user":{"username":"op"},"objectRef":{"resource":"events"},"requestReceivedTimestamp":"2026-01-01T00:00:04.000000Z"}
{"auditID":"e","stage":"ResponseComplete","verb":"create","user":{"username":"kwok-admin"},"objectRef":{"resource":"pods"},"requestReceivedTimestamp":"2026-01-01T00:00:02.000000Z"}
{"auditID":"f","stage":"ResponseComplete","verb":"get","user":{"username":"op"},"requestURI":"/readyz","requestReceivedTimestamp":"2026-01-01T00:01:30.000000Z"}
`

func TestAuditCounting(t *testing.T) {
	events, err := ReadAudit(strings.NewReader(auditLog), "op")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 5 {
		t.Fatalf("%d requests of op, want 5 (the watch once, the other user's left out)", len(events))
	}
	at := func(s int) time.Time { return time.Date(2026, 1, 1, 0, 0, s, 0, time.UTC) }
	convergence := Between(events, at(0), at(60))
	wantWrites := map[string]float64{"Deployment": 0.5, "PublicService status": 0.5, "Event": 0.5}
	if diff := cmp.Diff(wantWrites, WritesPerService(convergence, 2)); diff != "" {
		t.Errorf("WritesPerService (-want +got):\n%s", diff)
	}
	rest := Between(events, at(60), at(120))
	if diff := cmp.Diff(map[string]float64{"get /readyz": 1}, PerMinute(rest, time.Minute)); diff != "" {
		t.Errorf("PerMinute (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]float64{"watch pods": 2, "patch deployments": 2, "update publicservices/status": 2, "create events": 2},
		PerMinute(convergence[:4], 30*time.Second)); diff != "" {
		t.Errorf("PerMinute over 30 s (-want +got):\n%s", diff)
	}
	if _, err := ReadAudit(strings.NewReader("not json\n"), "op"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("ReadAudit of a broken line: %v, want an error naming line 1", err)
	}
}

func complete(seconds float64) Run {
	return Run{
		Floor: Floor{Converged: true, Seconds: new(seconds), ApplySeconds: new(1.0), Objects: 10},
		Operator: Operator{
			Converged: true, Seconds: new(2 * seconds), Ratio: new(2.0), Reconciles: new(30.0),
			ReconcileP50Seconds: new(0.01), ReconcileP99Seconds: new(0.5),
			RestRequestsPerMinute: new(seconds), RestRequests: map[string]float64{"list pods": seconds},
			WritesPerService: new(6.0), WritesPerServiceByKind: map[string]float64{"Deployment": 1},
			RSSMiB: new(100.0), PeakRSSMiB: new(120.0), AuditSeconds: new(3.0),
			ProofService: "city-tax/svc-0001", ProofFalseSeconds: new(1.0), ProofTrueSeconds: new(1.0),
		},
	}
}

func TestMedian(t *testing.T) {
	m := Median([]Run{complete(10), complete(30), complete(20)})
	if *m.Floor.Seconds != 20 || *m.Operator.Seconds != 40 || m.Operator.RestRequests["list pods"] != 20 {
		t.Errorf("median of 10, 30, 20: floor %v, operator %v, list pods %v; want 20, 40, 20",
			*m.Floor.Seconds, *m.Operator.Seconds, m.Operator.RestRequests["list pods"])
	}
	even := Median([]Run{complete(10), complete(20)})
	if *even.Floor.Seconds != 15 {
		t.Errorf("median of 10 and 20 = %v, want 15", *even.Floor.Seconds)
	}
	stuck := complete(10)
	stuck.Operator = Operator{Progress: "did not converge in 30m00s: 3/20"}
	m = Median([]Run{complete(10), stuck})
	if m.Operator.Converged || m.Operator.Progress != stuck.Operator.Progress {
		t.Errorf("a run that did not converge: median converged %v, progress %q", m.Operator.Converged, m.Operator.Progress)
	}
}

func TestCheckAndTable(t *testing.T) {
	r := &Report{Commit: "abc", Results: []Result{{N: 20, Runs: []Run{complete(10)}, Median: complete(10)}}}
	if err := Check(r); err != nil {
		t.Errorf("a complete report: %v", err)
	}
	table := Table(Rows(r))
	for _, want := range []string{"| N | floor | operator |", "| 20 | 10 s | 20 s | 2.00x | 30 | 0.010 s / 0.500 s |"} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}

	incomplete := complete(10)
	incomplete.Operator.ProofTrueSeconds = nil
	incomplete.Operator.Converged, incomplete.Operator.Progress = false, "did not converge in 1m00s: 3/20"
	r = &Report{Results: []Result{{N: 20, Median: incomplete}}}
	err := Check(r)
	if err == nil {
		t.Fatal("an incomplete report passed the check")
	}
	for _, want := range []string{"no commit", "no runs", "operator is \"did not converge", "proof → False / → True is \"1.0 s / ?\""} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the check does not say %q:\n%v", want, err)
		}
	}
}
