package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/pprof/profile"
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
	want := Reconciles{Count: 100, P50: 0.1, P99: 0.982, Seconds: 20, ByResult: map[string]float64{"error": 10, "success": 90}}
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
			ChildWritesPerService: new(4.0), StatusWritesPerService: new(1.5), EventsPerService: new(0.5),
			StatusWritesByManager: map[string]float64{"smartcity-operator": 1, "smartcity-connectivity": 0.5},
			RestRequestsByManager: map[string]float64{"reads": seconds},
			Controllers: map[string]ControllerFigures{
				"publicservice": {Reconciles: 30, ReconcileP50Seconds: 0.01, ReconcileP99Seconds: 0.5, ReconcileSeconds: 8, APIShare: new(seconds / 100)},
				"networkzone":   {Reconciles: seconds, ReconcileP50Seconds: 0.001, ReconcileP99Seconds: 0.002},
			},
			CPUSeconds: map[string]float64{ProcessOperator: seconds, ProcessAPIServer: 40, ProcessEtcd: 9},
			RSSMiB:     new(100.0), PeakRSSMiB: new(120.0), AuditSeconds: new(3.0),
			RSSAnonMiB: new(60.0), RSSFileMiB: new(40.0), PeakRSSAnonMiB: new(80.0),
			ProofService: "city-tax/svc-0001", ProofFalseSeconds: new(1.0), ProofTrueSeconds: new(1.0),
			APILatency: &APILatency{
				Overall:  LatencyFigures{Count: 100, P50Seconds: 0.004, P99Seconds: seconds / 100, TotalSeconds: 3},
				ByCaller: map[string]LatencyFigures{CallerPublicService: {Count: 80, P50Seconds: 0.005, P99Seconds: 0.1, TotalSeconds: 2}},
			},
			APIShareOfPublicServiceReconcile: new(0.25),
			GoMemoryMiB: map[string]float64{"go_memstats_heap_inuse_bytes": 40, "go_memstats_heap_alloc_bytes": 35,
				"go_memstats_sys_bytes": 90, "go_memstats_next_gc_bytes": 60},
			PeakHeapInuseMiB: new(seconds * 5),
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
	if got := even.Operator.Controllers["networkzone"].Reconciles; got != 15 {
		t.Errorf("median of the networkzone controller's 10 and 20 reconciles = %v, want 15", got)
	}
	if got := even.Operator.Controllers["publicservice"].APIShare; got == nil || math.Abs(*got-0.15) > 1e-9 {
		t.Errorf("median of the publicservice controller's API shares 0.1 and 0.2 = %v, want 0.15", got)
	}
	if got := even.Operator.Controllers["networkzone"].APIShare; got != nil {
		t.Errorf("the networkzone controller's API share, known in no run = %v, want none", *got)
	}
	if got := even.Operator.CPUSeconds[ProcessOperator]; got != 15 {
		t.Errorf("median of the operator's 10 and 20 CPU seconds = %v, want 15", got)
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
	for _, want := range []string{"| N | floor | operator |", "| 20 | 10 s | 20 s | 2.00x | 30 | 0.010 s / 0.500 s |",
		"| 6.0 | 4.00 / 1.50 / 0.50 | networkzone 0.002 s, publicservice 0.500 s (API 10%) | 100 MiB / 120 MiB | 10 / 40 / 9 |"} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}

	alone := complete(10)
	alone.Floor = Floor{Progress: FloorSkipped}
	alone.Operator.Ratio = nil
	r = &Report{Commit: "abc", Results: []Result{{N: 20, Runs: []Run{alone}, Median: Median([]Run{alone})}}}
	if table := Table(Rows(r)); !strings.Contains(table, "| 20 | "+FloorSkipped+" | 20 s |") {
		t.Errorf("the operator measured alone: the floor's cell does not say it was skipped:\n%s", table)
	}
	if err := Check(r); err == nil || !strings.Contains(err.Error(), "floor is \""+FloorSkipped) {
		t.Errorf("the operator measured alone: check %v, want the skipped floor named", err)
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

func TestReadAllReconciles(t *testing.T) {
	got, err := ReadAllReconciles(strings.NewReader(metricsPage))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Reconciles{
		"publicservice": {Count: 100, P50: 0.1, P99: 0.982, Seconds: 20, ByResult: map[string]float64{"error": 10, "success": 90}},
		"networkzone":   {Count: 7, P50: 0.05, P99: 0.099, Seconds: 0.1, ByResult: map[string]float64{"success": 7}},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("ReadAllReconciles (-want +got):\n%s", diff)
	}
}

// Status writes by field manager: an apply names its manager; a merge patch without one gets
// the user agent's program name, as the API server derives it.
const statusLog = `{"auditID":"a","stage":"ResponseComplete","verb":"patch","user":{"username":"op"},"userAgent":"manager/v0.0.0 (linux/amd64) kubernetes/$Format","objectRef":{"resource":"publicservices","subresource":"status"},"requestURI":"/apis/platform.smartcity.io/v1alpha1/namespaces/a/publicservices/x/status","requestReceivedTimestamp":"2026-01-01T00:00:01.000000Z"}
{"auditID":"b","stage":"ResponseComplete","verb":"apply","user":{"username":"op"},"userAgent":"manager/v0.0.0","objectRef":{"resource":"publicservices","subresource":"status"},"requestURI":"/apis/platform.smartcity.io/v1alpha1/namespaces/a/publicservices/x/status?fieldManager=smartcity-connectivity\u0026force=true","requestReceivedTimestamp":"2026-01-01T00:00:02.000000Z"}
{"auditID":"c","stage":"ResponseComplete","verb":"patch","user":{"username":"op"},"userAgent":"manager/v0.0.0","objectRef":{"resource":"publicservices","subresource":"status"},"requestURI":"/apis/platform.smartcity.io/v1alpha1/namespaces/a/publicservices/y/status?fieldManager=smartcity-operator","requestReceivedTimestamp":"2026-01-01T00:00:03.000000Z"}
{"auditID":"d","stage":"ResponseComplete","verb":"get","user":{"username":"op"},"userAgent":"manager/v0.0.0","objectRef":{"resource":"publicservices","subresource":"status"},"requestURI":"/apis/platform.smartcity.io/v1alpha1/namespaces/a/publicservices/y/status?fieldManager=reader","requestReceivedTimestamp":"2026-01-01T00:00:04.000000Z"}
{"auditID":"e","stage":"ResponseComplete","verb":"apply","user":{"username":"op"},"userAgent":"manager/v0.0.0","objectRef":{"resource":"deployments","apiGroup":"apps"},"requestURI":"/apis/apps/v1/namespaces/a/deployments/x?fieldManager=smartcity-operator","requestReceivedTimestamp":"2026-01-01T00:00:05.000000Z"}
`

func TestStatusWritesByManager(t *testing.T) {
	events, err := ReadAudit(strings.NewReader(statusLog), "op")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"manager": 0.5, "smartcity-connectivity": 0.5, "smartcity-operator": 0.5}
	if diff := cmp.Diff(want, StatusWritesPerService(events, 2)); diff != "" {
		t.Errorf("StatusWritesPerService (-want +got):\n%s", diff)
	}
}

func TestWrites(t *testing.T) {
	children, status, events := Writes(map[string]float64{"Deployment": 3, "Service": 1, "PublicService status": 2,
		"NetworkZone status": 0.5, "Event": 4, "leases": 0.25})
	if children != 4.25 || status != 2.5 || events != 4 {
		t.Errorf("Writes = %v children, %v status, %v events; want 4.25, 2.5, 4", children, status, events)
	}
}

func TestProcCPUSeconds(t *testing.T) {
	// A command name with spaces and parentheses; utime 1234 and stime 566 ticks.
	stat := "4242 (kube (api) server) S 1 4242 4242 0 -1 4194560 5000 0 0 0 1234 566 0 0 20 0 12 0 100 1000000 5000 18446744073709551615"
	got, err := ProcCPUSeconds(stat)
	if err != nil {
		t.Fatal(err)
	}
	if got != 18 {
		t.Errorf("ProcCPUSeconds = %v, want 18", got)
	}
	for _, bad := range []string{"", "4242 (etcd) S 1 2", "4242 (etcd) S 1 4242 4242 0 -1 4194560 5000 0 0 0 x 566"} {
		if _, err := ProcCPUSeconds(bad); err == nil {
			t.Errorf("ProcCPUSeconds(%q): no error", bad)
		}
	}
}

func cpuProfile(t *testing.T, nanos int64) []byte {
	t.Helper()
	fn := &profile.Function{ID: 1, Name: "controllers.Reconcile"}
	loc := &profile.Location{ID: 1, Line: []profile.Line{{Function: fn}}}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"}, Period: 10_000_000,
		Sample:   []*profile.Sample{{Location: []*profile.Location{loc}, Value: []int64{nanos / 10_000_000, nanos}}},
		Location: []*profile.Location{loc}, Function: []*profile.Function{fn},
	}
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestMergeProfiles(t *testing.T) {
	merged, err := MergeProfiles([][]byte{cpuProfile(t, 2e9), cpuProfile(t, 3e9)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.ParseData(merged)
	if err != nil {
		t.Fatal(err)
	}
	var cpu int64
	for _, s := range p.Sample {
		cpu += s.Value[1]
	}
	if cpu != 5e9 {
		t.Errorf("merged CPU = %d ns, want 5e9", cpu)
	}
	if _, err := MergeProfiles(nil); err == nil {
		t.Error("merging no profiles: no error")
	}
	if _, err := MergeProfiles([][]byte{[]byte("not a profile")}); err == nil {
		t.Error("merging garbage: no error")
	}
}

// The reports committed before these figures existed still read, with the new cells missing.
func TestOldReportReads(t *testing.T) {
	data, err := os.ReadFile("../../docs/bench/bench-n440-ff3b42c.json")
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	rows := Rows(&r)
	if len(rows) != 1 || rows[0][0] != "440" || strings.Contains(rows[0][2], Missing) {
		t.Fatalf("rows of the old report: %v", rows)
	}
	if got := rows[0][slices.Index(Header, "children / status / events")]; got != "? / ? / ?" {
		t.Errorf("the new writes cell of an old report = %q, want \"? / ? / ?\"", got)
	}
}
