package bench

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Reconciles is what controller-runtime's metrics say about one controller.
type Reconciles struct {
	// Count is the number of reconciles (controller_runtime_reconcile_total, every result).
	Count float64
	// P50 and P99 are quantiles of controller_runtime_reconcile_time_seconds, in seconds,
	// interpolated within the histogram's buckets as Prometheus' histogram_quantile does.
	P50, P99 float64
	// Seconds is the time spent reconciling (the histogram's sum).
	Seconds float64
	// ByResult splits Count by controller_runtime_reconcile_total's result label (success,
	// requeue, requeue_after, error).
	ByResult map[string]float64
}

// ReadReconciles parses a /metrics page (Prometheus text format) for one controller.
func ReadReconciles(r io.Reader, controller string) (Reconciles, error) {
	all, err := ReadAllReconciles(r)
	if err != nil {
		return Reconciles{}, err
	}
	out, ok := all[controller]
	if !ok {
		return out, fmt.Errorf("no controller_runtime_reconcile_time_seconds histogram for controller %q", controller)
	}
	return out, nil
}

// ReadAllReconciles parses a /metrics page (Prometheus text format) for every controller that
// has a reconcile histogram, by the histogram's controller label.
func ReadAllReconciles(r io.Reader) (map[string]Reconciles, error) {
	families, err := parseMetrics(r)
	if err != nil {
		return nil, err
	}
	counts, byResult := map[string]float64{}, map[string]map[string]float64{}
	for _, m := range families["controller_runtime_reconcile_total"].GetMetric() {
		name, v := label(m, "controller"), m.GetCounter().GetValue()
		counts[name] += v
		if byResult[name] == nil {
			byResult[name] = map[string]float64{}
		}
		byResult[name][label(m, "result")] += v
	}
	out := map[string]Reconciles{}
	for _, m := range families["controller_runtime_reconcile_time_seconds"].GetMetric() {
		hist := m.GetHistogram()
		var bounds []Bucket
		for _, b := range hist.GetBucket() {
			bounds = append(bounds, Bucket{UpperBound: b.GetUpperBound(), Count: float64(b.GetCumulativeCount())})
		}
		bounds = append(bounds, Bucket{UpperBound: math.Inf(1), Count: float64(hist.GetSampleCount())})
		name := label(m, "controller")
		out[name] = Reconciles{Count: counts[name], P50: Quantile(0.5, bounds), P99: Quantile(0.99, bounds),
			Seconds: hist.GetSampleSum(), ByResult: byResult[name]}
	}
	return out, nil
}

// GoMemoryMetrics are the Go runtime's memory gauges the benchmark records (client_golang's Go
// collector, on every controller-runtime metrics endpoint).
var GoMemoryMetrics = []string{
	"go_memstats_heap_inuse_bytes",
	"go_memstats_heap_alloc_bytes",
	"go_memstats_sys_bytes",
	"go_memstats_next_gc_bytes",
}

// HeapInuseMetric is the gauge of the heap's spans in use.
const HeapInuseMetric = "go_memstats_heap_inuse_bytes"

// ReadGoMemory parses a /metrics page for GoMemoryMetrics, in MiB, by metric name; it fails
// when one is missing.
func ReadGoMemory(r io.Reader) (map[string]float64, error) {
	families, err := parseMetrics(r)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, name := range GoMemoryMetrics {
		ms := families[name].GetMetric()
		if len(ms) != 1 || ms[0].GetGauge() == nil {
			return nil, fmt.Errorf("the metrics have no gauge %s", name)
		}
		out[name] = ms[0].GetGauge().GetValue() / (1 << 20)
	}
	return out, nil
}

// ConnectivityAnalysisMetric is the histogram of the operator's connectivity analyses.
const ConnectivityAnalysisMetric = "smartcity_connectivity_audit_duration_seconds"

// ReadHistogramCount parses a /metrics page for the number of observations of the histogram
// name, over all its series; it fails when there is no such histogram.
func ReadHistogramCount(r io.Reader, name string) (float64, error) {
	families, err := parseMetrics(r)
	if err != nil {
		return 0, err
	}
	f, ok := families[name]
	if !ok {
		return 0, fmt.Errorf("the metrics have no histogram %s", name)
	}
	var n float64
	for _, m := range f.GetMetric() {
		n += float64(m.GetHistogram().GetSampleCount())
	}
	return n, nil
}

// parseMetrics parses a /metrics page (Prometheus text format) into its families, by name.
func parseMetrics(r io.Reader) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("failed to parse the metrics: %w", err)
	}
	return families, nil
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// Bucket is a cumulative histogram bucket.
type Bucket struct {
	UpperBound float64
	Count      float64
}

// Quantile estimates the q-quantile of cumulative buckets by linear interpolation within the
// bucket it falls in (Prometheus' histogram_quantile). A quantile in the +Inf bucket is the
// highest finite bound. NaN when there are no observations.
func Quantile(q float64, buckets []Bucket) float64 {
	buckets = slices.SortedFunc(slices.Values(buckets), func(a, b Bucket) int { return cmp.Compare(a.UpperBound, b.UpperBound) })
	if len(buckets) == 0 || buckets[len(buckets)-1].Count == 0 {
		return math.NaN()
	}
	rank := q * buckets[len(buckets)-1].Count
	i := slices.IndexFunc(buckets, func(b Bucket) bool { return b.Count >= rank }) // found: the last holds every count
	if math.IsInf(buckets[i].UpperBound, 1) {
		if i == 0 {
			return math.NaN()
		}
		return buckets[i-1].UpperBound
	}
	lower, below := 0.0, 0.0
	if i > 0 {
		lower, below = buckets[i-1].UpperBound, buckets[i-1].Count
	}
	in := buckets[i].Count - below
	if in == 0 {
		return buckets[i].UpperBound
	}
	return lower + (buckets[i].UpperBound-lower)*(rank-below)/in
}
