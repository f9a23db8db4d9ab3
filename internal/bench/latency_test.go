package bench

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/smartcity-io/smartcity-operator/internal/citygen"
)

// auditLine is one audit event of user op, received at second 1 of the day and completed ms
// later.
func auditLine(id, stage, verb, resource, subresource, uri string, ms int) string {
	received := time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)
	done := received.Add(time.Duration(ms) * time.Millisecond)
	return `{"auditID":"` + id + `","stage":"` + stage + `","verb":"` + verb + `","user":{"username":"op"},` +
		`"userAgent":"manager/v0.0.0 (linux/amd64) kubernetes/$Format",` +
		`"objectRef":{"resource":"` + resource + `","subresource":"` + subresource + `"},"requestURI":"` + uri + `",` +
		`"requestReceivedTimestamp":"` + received.Format(time.RFC3339Nano) + `","stageTimestamp":"` + done.Format(time.RFC3339Nano) + `"}`
}

func readLines(t *testing.T, lines ...string) []AuditEvent {
	t.Helper()
	events, err := ReadAudit(strings.NewReader(strings.Join(lines, "\n")+"\n"), "op")
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func TestLatency(t *testing.T) {
	for _, tc := range []struct {
		name string
		line string
		want time.Duration
		ok   bool
	}{
		{"a completed get", auditLine("a", "ResponseComplete", "get", "pods", "", "/api/v1/namespaces/a/pods/p", 12), 12 * time.Millisecond, true},
		{"a watch, however long", auditLine("b", "ResponseComplete", "watch", "pods", "", "/api/v1/pods?watch=true", 60000), 0, false},
		{"a request not yet complete", auditLine("c", "ResponseStarted", "get", "pods", "", "/api/v1/pods", 5), 0, false},
		{"no stage timestamp", `{"auditID":"d","stage":"ResponseComplete","verb":"get","user":{"username":"op"},"requestReceivedTimestamp":"2026-01-01T00:00:01Z"}`, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := readLines(t, tc.line)[0].Latency()
			if got != tc.want || ok != tc.ok {
				t.Errorf("Latency() = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestCaller(t *testing.T) {
	for _, tc := range []struct {
		name, verb, resource, subresource, uri, want string
	}{
		{"an Event", "create", "events", "", "/api/v1/namespaces/a/events", CallerEvents},
		{"an informer's list", "list", "deployments", "", "/apis/apps/v1/deployments?limit=500", CallerInformers},
		{"an informer's watch", "watch", "publicservices", "", "/apis/platform.smartcity.io/v1alpha1/publicservices?watch=true", CallerInformers},
		{"a child's apply", "patch", "deployments", "", "/apis/apps/v1/namespaces/a/deployments/x?fieldManager=smartcity-operator&force=true", CallerPublicService},
		{"the replicas handoff", "patch", "deployments", "", "/apis/apps/v1/namespaces/a/deployments/x?fieldManager=smartcity-operator-replicas-handoff&force=true", CallerPublicService},
		{"an uncached read of a child", "get", "networkpolicies", "", "/apis/networking.k8s.io/v1/namespaces/a/networkpolicies/x", CallerPublicService},
		{"the PublicService status", "patch", "publicservices", "status", "/apis/platform.smartcity.io/v1alpha1/namespaces/a/publicservices/x/status?fieldManager=smartcity-operator&force=true", CallerPublicService},
		{"a status ownership migration", "patch", "publicservices", "status", "/apis/platform.smartcity.io/v1alpha1/namespaces/a/publicservices/x/status", CallerPublicService},
		{"the connectivity condition", "patch", "publicservices", "status", "/apis/platform.smartcity.io/v1alpha1/namespaces/a/publicservices/x/status?fieldManager=smartcity-operator-connectivity&force=true", CallerConnectivity},
		{"a zone's status", "patch", "networkzones", "status", "/apis/platform.smartcity.io/v1alpha1/networkzones/z/status", CallerNetworkZone},
		{"a lease", "update", "leases", "", "/apis/coordination.k8s.io/v1/namespaces/a/leases/l", CallerOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := readLines(t, auditLine("a", "ResponseComplete", tc.verb, tc.resource, tc.subresource, tc.uri, 1))[0]
			if got := e.Caller(); got != tc.want {
				t.Errorf("Caller() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLatencies(t *testing.T) {
	const apply = "/apis/apps/v1/namespaces/a/deployments/x?fieldManager=smartcity-operator"
	const status = "/apis/platform.smartcity.io/v1alpha1/namespaces/a/publicservices/x/status?fieldManager=smartcity-operator-connectivity"
	var lines []string
	// 100 applies (verb patch, as the audit log says) of 1..100 ms: p50 50 ms, p99 99 ms (nearest rank), 5.05 s in all.
	for i := 1; i <= 100; i++ {
		lines = append(lines, auditLine("apply"+strings.Repeat("x", i), "ResponseComplete", "patch", "deployments", "", apply, i))
	}
	lines = append(lines,
		auditLine("s1", "ResponseComplete", "patch", "publicservices", "status", status, 200),
		auditLine("s2", "ResponseComplete", "patch", "publicservices", "status", status, 400),
		auditLine("w", "ResponseStarted", "watch", "pods", "", "/api/v1/pods?watch=true", 0),
		auditLine("w", "ResponseComplete", "watch", "pods", "", "/api/v1/pods?watch=true", 90000))
	got := Latencies(readLines(t, lines...))
	want := &APILatency{
		// 102 requests: ranks 51 (51 ms) and 101 (200 ms); 5.05 + 0.6 s.
		Overall: LatencyFigures{Count: 102, P50Seconds: 0.051, P99Seconds: 0.2, TotalSeconds: 5.65},
		ByVerbResource: map[string]LatencyFigures{
			"patch deployments":           {Count: 100, P50Seconds: 0.05, P99Seconds: 0.099, TotalSeconds: 5.05},
			"patch publicservices/status": {Count: 2, P50Seconds: 0.2, P99Seconds: 0.4, TotalSeconds: 0.6},
		},
		ByCaller: map[string]LatencyFigures{
			CallerPublicService: {Count: 100, P50Seconds: 0.05, P99Seconds: 0.099, TotalSeconds: 5.05},
			CallerConnectivity:  {Count: 2, P50Seconds: 0.2, P99Seconds: 0.4, TotalSeconds: 0.6},
		},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("Latencies (-want +got):\n%s", diff)
	}
	if got := Latencies(readLines(t, lines[len(lines)-2:]...)); got != nil {
		t.Errorf("Latencies of a watch only = %+v, want nil", got)
	}
	share := APIShare(got, CallerPublicService, 20.2)
	if share == nil || math.Abs(*share-0.25) > 1e-9 {
		t.Errorf("APIShare(5.05 s of 20.2 s) = %v, want 0.25", share)
	}
	if share := APIShare(got, CallerPublicService, 0); share != nil {
		t.Errorf("APIShare of no reconcile time = %v, want nil", *share)
	}
	if share := APIShare(nil, CallerPublicService, 1); share != nil {
		t.Errorf("APIShare without latencies = %v, want nil", *share)
	}
}

func TestRequestsByManager(t *testing.T) {
	events := readLines(t,
		auditLine("a", "ResponseComplete", "patch", "publicservices", "status", "/x/status?fieldManager=smartcity-operator-connectivity", 1),
		auditLine("b", "ResponseComplete", "patch", "publicservices", "status", "/x/status?fieldManager=smartcity-operator-connectivity", 1),
		auditLine("c", "ResponseComplete", "patch", "networkzones", "status", "/z/status", 1),
		auditLine("d", "ResponseComplete", "patch", "deployments", "", "/d?fieldManager=smartcity-operator-replicas-handoff", 1),
		auditLine("e", "ResponseComplete", "get", "deployments", "", "/d", 1),
		auditLine("f", "ResponseStarted", "watch", "pods", "", "/p?watch=true", 1),
		auditLine("g", "ResponseComplete", "create", "events", "", "/e", 1))
	want := map[string]float64{"smartcity-operator-connectivity": 1, "manager": 0.5,
		"smartcity-operator-replicas-handoff": 0.5, "reads": 1, "events": 0.5}
	if diff := cmp.Diff(want, RequestsByManager(events, 2*time.Minute)); diff != "" {
		t.Errorf("RequestsByManager over 2 min (-want +got):\n%s", diff)
	}
}

const memoryPage = `# HELP go_memstats_heap_inuse_bytes Number of heap bytes that are in use.
# TYPE go_memstats_heap_inuse_bytes gauge
go_memstats_heap_inuse_bytes 4.194304e+07
# TYPE go_memstats_heap_alloc_bytes gauge
go_memstats_heap_alloc_bytes 3.145728e+07
# TYPE go_memstats_sys_bytes gauge
go_memstats_sys_bytes 1.048576e+08
# TYPE go_memstats_next_gc_bytes gauge
go_memstats_next_gc_bytes 6.291456e+07
# TYPE go_goroutines gauge
go_goroutines 120
`

func TestReadGoMemory(t *testing.T) {
	got, err := ReadGoMemory(strings.NewReader(memoryPage))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"go_memstats_heap_inuse_bytes": 40, "go_memstats_heap_alloc_bytes": 30,
		"go_memstats_sys_bytes": 100, "go_memstats_next_gc_bytes": 60}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadGoMemory (-want +got):\n%s", diff)
	}
	without := strings.Replace(memoryPage, "go_memstats_sys_bytes 1.048576e+08\n", "", 1)
	if _, err := ReadGoMemory(strings.NewReader(without)); err == nil || !strings.Contains(err.Error(), "go_memstats_sys_bytes") {
		t.Errorf("ReadGoMemory without go_memstats_sys_bytes: %v, want an error naming it", err)
	}
}

func TestMedianDiagnosis(t *testing.T) {
	m := Median([]Run{complete(10), complete(30), complete(20)})
	o := m.Operator
	if o.APILatency == nil || o.APILatency.Overall.P99Seconds != 0.2 || o.PeakHeapInuseMiB == nil || *o.PeakHeapInuseMiB != 100 {
		t.Errorf("median of p99 0.1, 0.3, 0.2 s and peak heap 50, 150, 100 MiB: %+v, %v", o.APILatency, o.PeakHeapInuseMiB)
	}
	if got := o.APILatency.ByCaller[CallerPublicService].TotalSeconds; got != 2 {
		t.Errorf("median of the PublicService controller's API time = %v, want 2", got)
	}
	first, second := complete(10), complete(20)
	first.Operator.HeapProfile, second.Operator.HeapProfile = "", "b-heap-n20-run2.pprof"
	first.Operator.HeapRestProfile, second.Operator.HeapRestProfile = "a-heap-rest-n20-run1.pprof", "b-heap-rest-n20-run2.pprof"
	m = Median([]Run{first, second})
	if m.Operator.HeapProfile != "b-heap-n20-run2.pprof" || m.Operator.HeapRestProfile != "a-heap-rest-n20-run1.pprof" {
		t.Errorf("median heap profiles %q, %q: want the first run's that has each", m.Operator.HeapProfile, m.Operator.HeapRestProfile)
	}
	if got := m.Operator.Controllers[CallerPublicService].ReconcileSeconds; got != 8 {
		t.Errorf("median reconcile seconds = %v, want 8", got)
	}
}

func TestDiagnosisAndCheck(t *testing.T) {
	res := Result{N: 20, Runs: []Run{complete(10)}, Median: complete(10)}
	want := "N=20: API latency during convergence: 100 requests, p50 4.0 ms, p99 100.0 ms, 3.0 s in all; " +
		"PublicService controller: 80 requests, 2.0 s of API time in 8.0 s of reconciles (share 0.25); " +
		"heap in use 40 MiB at rest, peak 50 MiB during convergence; " +
		"reconcile p99 against the API p99 of the controller's own requests: networkzone 2.0 ms / 0.0 ms (0 requests, API share ?), " +
		"publicservice 500.0 ms / 100.0 ms (80 requests, API share 0.10); " +
		"RSS at rest 60 MiB anonymous and 40 MiB of the binary's pages, anonymous peak 80 MiB"
	if got := Diagnosis(res); got != want {
		t.Errorf("Diagnosis =\n%s\nwant\n%s", got, want)
	}
	res.City = citygen.Stats{Services: 20, LaterPeer: 0.6}
	res.Median.Operator.WritesPerServiceByKind = map[string]float64{"NetworkPolicy": 1.45}
	want += "; NetworkPolicy writes per service 1.45, where rendering each service as it arrives takes at least 1.60 " +
		"(60% of the services have a peer applied after them)"
	if got := Diagnosis(res); got != want {
		t.Errorf("Diagnosis with the city's later peers =\n%s\nwant\n%s", got, want)
	}
	bare := complete(10)
	bare.Operator.APILatency, bare.Operator.APIShareOfPublicServiceReconcile, bare.Operator.PeakHeapInuseMiB = nil, nil, nil
	bare.Operator.RSSAnonMiB = nil
	delete(bare.Operator.GoMemoryMiB, "go_memstats_next_gc_bytes")
	bare.Operator.RestRequestsByManager = nil
	bare.Operator.CPUProfile, bare.Operator.HeapRestProfile = "r-cpu-n20-run1.pprof", "r-heap-rest-n20-run1.pprof"
	if got := Diagnosis(Result{N: 20, Median: bare}); got != "N=20: API latency during convergence: ? (share ?); heap in use 40 MiB at rest, peak ? during convergence" {
		t.Errorf("Diagnosis without figures = %q", got)
	}
	err := Check(&Report{Commit: "abc", Results: []Result{{N: 20, Runs: []Run{bare}, Median: bare}}})
	if err == nil {
		t.Fatal("a report without the diagnosis figures passed the check")
	}
	for _, want := range []string{"no API latency", "no API share", "no go_memstats_next_gc_bytes", "no peak heap",
		"not both heap profiles", "not split by field manager"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the check does not say %q:\n%v", want, err)
		}
	}
}

func TestReadHistogramCount(t *testing.T) {
	const page = `# HELP smartcity_connectivity_audit_duration_seconds How long each connectivity analysis took.
# TYPE smartcity_connectivity_audit_duration_seconds histogram
smartcity_connectivity_audit_duration_seconds_bucket{le="0.001"} 3
smartcity_connectivity_audit_duration_seconds_bucket{le="+Inf"} 42
smartcity_connectivity_audit_duration_seconds_sum 1.5
smartcity_connectivity_audit_duration_seconds_count 42
`
	got, err := ReadHistogramCount(strings.NewReader(page), ConnectivityAnalysisMetric)
	if err != nil {
		t.Fatal(err)
	}
	if got != 42 {
		t.Errorf("count %v, want 42", got)
	}
	if _, err := ReadHistogramCount(strings.NewReader(memoryPage), ConnectivityAnalysisMetric); err == nil {
		t.Error("a page without the histogram: no error")
	}
}

func TestSetControllersAPIShares(t *testing.T) {
	o := complete(10).Operator
	o.Controllers[CallerConnectivity] = ControllerFigures{ReconcileSeconds: 4}
	o.APILatency.ByCaller[CallerConnectivity] = LatencyFigures{Count: 10, TotalSeconds: 1}
	SetControllersAPIShares(&o)
	for name, want := range map[string]float64{CallerPublicService: 0.25, CallerConnectivity: 0.25} {
		if got := o.Controllers[name].APIShare; got == nil || *got != want {
			t.Errorf("%s: API share %v, want %v", name, got, want)
		}
	}
	// The networkzone controller made no request and spent no time reconciling: no share.
	if got := o.Controllers[CallerNetworkZone].APIShare; got != nil {
		t.Errorf("networkzone: API share %v, want none", *got)
	}
}
