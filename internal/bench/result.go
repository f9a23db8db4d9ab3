package bench

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/smartcity-io/smartcity-operator/internal/citygen"
)

// Report is the benchmark's JSON output.
type Report struct {
	// Commit is the git commit measured; Dirty is true when the work tree had changes.
	Commit   string    `json:"commit"`
	Dirty    bool      `json:"dirty"`
	Started  time.Time `json:"started"`
	Machine  Machine   `json:"machine"`
	Settings Settings  `json:"settings"`
	// Results has one entry per N, in the order of BENCH_N.
	Results []Result `json:"results"`
}

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs       int     `json:"cpus"`
	MemoryGiB  float64 `json:"memoryGiB"`
	GoVersion  string  `json:"goVersion"`
	Kubernetes string  `json:"kubernetes"`
	Cluster    string  `json:"cluster"`
	// LoadAverage is /proc/loadavg when the benchmark started: other work on the machine
	// slows every figure.
	LoadAverage string `json:"loadAverage"`
}

// Settings say how the figures were measured.
type Settings struct {
	Repeat      int     `json:"repeat"`
	CapMinutes  float64 `json:"capMinutes"`
	RestSeconds float64 `json:"restSeconds"`
	Seed        uint64  `json:"seed"`
	Shape       string  `json:"shape"`
	// Floor is how the floor applies the children.
	Floor ClientSettings `json:"floor"`
	// Operator is how the operator runs.
	Operator OperatorSettings `json:"operator"`
	// RequestCounting says where API request counts come from.
	RequestCounting string `json:"requestCounting"`
}

// ClientSettings describe the floor's client.
type ClientSettings struct {
	Parallelism     int    `json:"parallelism"`
	ClientRateLimit string `json:"clientRateLimit"`
	Method          string `json:"method"`
}

// OperatorSettings describe the operator's run.
type OperatorSettings struct {
	Flags           []string `json:"flags"`
	Parallelism     int      `json:"parallelism"`
	ClientRateLimit string   `json:"clientRateLimit"`
	// MemoryLimit is the operator container's memory limit in the shipped Deployment, and
	// GoMemLimit the Go soft limit (bytes) the operator ran with: what a pod of it gets.
	MemoryLimit string `json:"memoryLimit,omitempty"`
	GoMemLimit  string `json:"goMemLimit,omitempty"`
	// Env is the environment the shipped Deployment gives the operator (literal values).
	Env []string `json:"env,omitempty"`
}

// Result is one N: each repeat's run and their median.
type Result struct {
	N      int           `json:"n"`
	City   citygen.Stats `json:"city"`
	Nodes  int           `json:"nodes"`
	Runs   []Run         `json:"runs"`
	Median Run           `json:"median"`
}

// Run is one repeat: the floor and the operator, each on a fresh cluster.
type Run struct {
	Floor    Floor    `json:"floor"`
	Operator Operator `json:"operator"`
}

// FloorSkipped is a floor's Progress when the benchmark ran the operator alone (-floor=false).
const FloorSkipped = "skipped (-floor=false)"

// Floor is the children applied directly.
type Floor struct {
	Converged bool `json:"converged"`
	// Seconds from the first apply until every Deployment has replicas.min ready pods.
	Seconds *float64 `json:"seconds"`
	// ApplySeconds is the time spent applying.
	ApplySeconds *float64 `json:"applySeconds"`
	// Objects is the number of children applied.
	Objects int `json:"objects"`
	// Progress says how far it got when it did not converge.
	Progress string `json:"progress,omitempty"`
}

// Operator is the same city through the operator.
type Operator struct {
	Converged bool `json:"converged"`
	// Seconds from applying the PublicServices until every service has replicas.min ready
	// pods, NetworkIsolated=True and ConnectivityVerified evaluated, for its generation.
	Seconds  *float64 `json:"seconds"`
	Progress string   `json:"progress,omitempty"`
	// Ratio is Seconds over the floor's.
	Ratio *float64 `json:"ratio"`
	// Reconciles, ReconcileP50Seconds and ReconcileP99Seconds are the PublicService
	// controller's, until convergence.
	Reconciles          *float64 `json:"reconciles"`
	ReconcileP50Seconds *float64 `json:"reconcileP50Seconds"`
	ReconcileP99Seconds *float64 `json:"reconcileP99Seconds"`
	// RestRequestsPerMinute is the operator's API requests per minute at rest, in total and
	// by "verb resource".
	RestRequestsPerMinute *float64           `json:"restRequestsPerMinute"`
	RestRequests          map[string]float64 `json:"restRequestsByVerbResource"`
	// RestRequestsByManager splits RestRequestsPerMinute by who asks: writes by field manager,
	// Events as "events", every other request as "reads" (RequestsByManager).
	RestRequestsByManager map[string]float64 `json:"restRequestsByManager"`
	// WritesPerService is the operator's writes during convergence per service, in total and
	// by child kind, status and Event.
	WritesPerService       *float64           `json:"writesPerService"`
	WritesPerServiceByKind map[string]float64 `json:"writesPerServiceByKind"`
	// ChildWritesPerService, StatusWritesPerService and EventsPerService split
	// WritesPerService: writes to children, to status, and Events (counted apart).
	ChildWritesPerService  *float64 `json:"childWritesPerService"`
	StatusWritesPerService *float64 `json:"statusWritesPerService"`
	EventsPerService       *float64 `json:"eventsPerService"`
	// StatusWritesByManager is the PublicService status writes during convergence per
	// service, by field manager (one per controller).
	StatusWritesByManager map[string]float64 `json:"statusWritesPerServiceByManager"`
	// Controllers has each controller's reconciles and reconcile p50/p99 (controller-runtime's
	// histogram, by its controller label), until convergence.
	Controllers map[string]ControllerFigures `json:"controllers"`
	// CPUSeconds is the CPU time (user and system) spent during convergence by the operator,
	// kube-apiserver and etcd (from /proc/<pid>/stat), by process.
	CPUSeconds map[string]float64 `json:"cpuSecondsDuringConvergence"`
	// CPUProfile is the file of the operator's CPU profile during convergence, next to the
	// JSON (BENCH_PROFILE=1 only).
	CPUProfile string `json:"cpuProfile,omitempty"`
	// HeapProfile and HeapRestProfile are the files of the operator's heap profile
	// (/debug/pprof/heap) right after convergence and at the end of the rest, next to the JSON
	// (BENCH_PROFILE=1 only).
	HeapProfile     string `json:"heapProfile,omitempty"`
	HeapRestProfile string `json:"heapRestProfile,omitempty"`
	// GoMemoryMiB is the Go runtime's memory at the end of the rest, from the operator's
	// metrics (GoMemoryMetrics), in MiB by metric name.
	GoMemoryMiB map[string]float64 `json:"goMemoryMiB"`
	// PeakHeapInuseMiB is the highest go_memstats_heap_inuse_bytes sampled during convergence
	// (one scrape every few seconds), in MiB.
	PeakHeapInuseMiB *float64 `json:"peakHeapInuseMiB"`
	// ConnectivityAnalysesPerService is how many connectivity analyses the operator ran per
	// service until convergence (the count of smartcity_connectivity_audit_duration_seconds):
	// what the connectivity controller's CPU grows with.
	ConnectivityAnalysesPerService *float64 `json:"connectivityAnalysesPerService,omitempty"`
	// APILatency is the API server's latency of the operator's requests received during
	// convergence, from the audit log (Latencies).
	APILatency *APILatency `json:"apiLatency,omitempty"`
	// APIShareOfPublicServiceReconcile is the API time of the requests attributed to the
	// PublicService controller (APILatency.ByCaller["publicservice"].TotalSeconds) over its
	// reconcile time until convergence (Controllers["publicservice"].ReconcileSeconds).
	APIShareOfPublicServiceReconcile *float64 `json:"apiShareOfPublicServiceReconcile"`
	// RSSMiB is the resident set at the end of the rest, PeakRSSMiB its peak (VmHWM).
	RSSMiB     *float64 `json:"rssMiB"`
	PeakRSSMiB *float64 `json:"peakRssMiB"`
	// RSSAnonMiB and RSSFileMiB split RSSMiB into its anonymous part (the Go heap, stacks and
	// runtime: RssAnon) and its file-backed part (the pages of the binary that were read:
	// RssFile); PeakRSSAnonMiB is the highest RssAnon sampled during convergence (the kernel
	// keeps no peak of it).
	RSSAnonMiB     *float64 `json:"rssAnonMiB,omitempty"`
	RSSFileMiB     *float64 `json:"rssFileMiB,omitempty"`
	PeakRSSAnonMiB *float64 `json:"peakRssAnonMiB,omitempty"`
	// AuditSeconds is the time of `kubectl city audit -f` on the whole city's manifests.
	AuditSeconds *float64 `json:"auditSeconds"`
	// ProofFalseSeconds: from creating a foreign allow-all policy next to ProofService until it
	// reports ConnectivityVerified=False; ProofTrueSeconds: from deleting it until True again.
	ProofService      string   `json:"proofService"`
	ProofFalseSeconds *float64 `json:"proofFalseSeconds"`
	ProofTrueSeconds  *float64 `json:"proofTrueSeconds"`
	// ProofNote says which change the service did not report within the time allowed.
	ProofNote string `json:"proofNote,omitempty"`
}

// ControllerFigures are one controller's reconciles until convergence.
type ControllerFigures struct {
	Reconciles          float64 `json:"reconciles"`
	ReconcileP50Seconds float64 `json:"reconcileP50Seconds"`
	ReconcileP99Seconds float64 `json:"reconcileP99Seconds"`
	// ReconcileSeconds is the time spent reconciling (the histogram's sum).
	ReconcileSeconds float64 `json:"reconcileSeconds"`
	// ReconcilesByResult splits Reconciles by result (success, requeue, requeue_after, error).
	ReconcilesByResult map[string]float64 `json:"reconcilesByResult,omitempty"`
	// APIShare is the share of ReconcileSeconds spent waiting for the API server on the
	// requests attributed to this controller (APIShare); absent when unknown.
	APIShare *float64 `json:"apiShare,omitempty"`
}

// Median returns the median run: each figure's median over the runs that have it (the mean of
// the two middle values for an even count). A run converged only when every run did; the
// progress is the first run's that did not.
func Median(runs []Run) Run {
	if len(runs) == 1 {
		return runs[0]
	}
	var out Run
	out.Floor.Converged, out.Operator.Converged = true, true
	for _, r := range runs {
		if !r.Floor.Converged {
			out.Floor.Converged = false
			if out.Floor.Progress == "" {
				out.Floor.Progress = r.Floor.Progress
			}
		}
		if !r.Operator.Converged {
			out.Operator.Converged = false
			if out.Operator.Progress == "" {
				out.Operator.Progress = r.Operator.Progress
			}
		}
		out.Floor.Objects = r.Floor.Objects
		out.Operator.ProofService = r.Operator.ProofService
		if out.Operator.ProofNote == "" {
			out.Operator.ProofNote = r.Operator.ProofNote
		}
	}
	pick := func(get func(Run) *float64) *float64 {
		var v []float64
		for _, r := range runs {
			if p := get(r); p != nil {
				v = append(v, *p)
			}
		}
		return median(v)
	}
	out.Floor.Seconds = pick(func(r Run) *float64 { return r.Floor.Seconds })
	out.Floor.ApplySeconds = pick(func(r Run) *float64 { return r.Floor.ApplySeconds })
	o := &out.Operator
	o.Seconds = pick(func(r Run) *float64 { return r.Operator.Seconds })
	o.Ratio = pick(func(r Run) *float64 { return r.Operator.Ratio })
	o.Reconciles = pick(func(r Run) *float64 { return r.Operator.Reconciles })
	o.ReconcileP50Seconds = pick(func(r Run) *float64 { return r.Operator.ReconcileP50Seconds })
	o.ReconcileP99Seconds = pick(func(r Run) *float64 { return r.Operator.ReconcileP99Seconds })
	o.RestRequestsPerMinute = pick(func(r Run) *float64 { return r.Operator.RestRequestsPerMinute })
	o.WritesPerService = pick(func(r Run) *float64 { return r.Operator.WritesPerService })
	o.RSSMiB = pick(func(r Run) *float64 { return r.Operator.RSSMiB })
	o.PeakRSSMiB = pick(func(r Run) *float64 { return r.Operator.PeakRSSMiB })
	o.RSSAnonMiB = pick(func(r Run) *float64 { return r.Operator.RSSAnonMiB })
	o.RSSFileMiB = pick(func(r Run) *float64 { return r.Operator.RSSFileMiB })
	o.PeakRSSAnonMiB = pick(func(r Run) *float64 { return r.Operator.PeakRSSAnonMiB })
	o.AuditSeconds = pick(func(r Run) *float64 { return r.Operator.AuditSeconds })
	o.ProofFalseSeconds = pick(func(r Run) *float64 { return r.Operator.ProofFalseSeconds })
	o.ProofTrueSeconds = pick(func(r Run) *float64 { return r.Operator.ProofTrueSeconds })
	o.PeakHeapInuseMiB = pick(func(r Run) *float64 { return r.Operator.PeakHeapInuseMiB })
	o.APIShareOfPublicServiceReconcile = pick(func(r Run) *float64 { return r.Operator.APIShareOfPublicServiceReconcile })
	o.ConnectivityAnalysesPerService = pick(func(r Run) *float64 { return r.Operator.ConnectivityAnalysesPerService })
	o.GoMemoryMiB = medianMap(runs, func(r Run) map[string]float64 { return r.Operator.GoMemoryMiB })
	o.RestRequestsByManager = medianMap(runs, func(r Run) map[string]float64 { return r.Operator.RestRequestsByManager })
	o.APILatency = medianLatency(runs)
	o.RestRequests = medianMap(runs, func(r Run) map[string]float64 { return r.Operator.RestRequests })
	o.WritesPerServiceByKind = medianMap(runs, func(r Run) map[string]float64 { return r.Operator.WritesPerServiceByKind })
	o.ChildWritesPerService = pick(func(r Run) *float64 { return r.Operator.ChildWritesPerService })
	o.StatusWritesPerService = pick(func(r Run) *float64 { return r.Operator.StatusWritesPerService })
	o.EventsPerService = pick(func(r Run) *float64 { return r.Operator.EventsPerService })
	o.StatusWritesByManager = medianMap(runs, func(r Run) map[string]float64 { return r.Operator.StatusWritesByManager })
	o.CPUSeconds = medianMap(runs, func(r Run) map[string]float64 { return r.Operator.CPUSeconds })
	for _, r := range runs {
		if o.CPUProfile == "" {
			o.CPUProfile = r.Operator.CPUProfile
		}
		if o.HeapProfile == "" {
			o.HeapProfile = r.Operator.HeapProfile
		}
		if o.HeapRestProfile == "" {
			o.HeapRestProfile = r.Operator.HeapRestProfile
		}
	}
	o.Controllers = medianControllers(runs)
	return out
}

// medianControllers takes each controller's figures' medians over the runs that have it.
func medianControllers(runs []Run) map[string]ControllerFigures {
	out := map[string]ControllerFigures{}
	figure := func(name string, get func(ControllerFigures) float64) float64 {
		var v []float64
		for _, r := range runs {
			if c, ok := r.Operator.Controllers[name]; ok {
				v = append(v, get(c))
			}
		}
		return *median(v)
	}
	share := func(name string) *float64 {
		var v []float64
		for _, r := range runs {
			if c, ok := r.Operator.Controllers[name]; ok && c.APIShare != nil {
				v = append(v, *c.APIShare)
			}
		}
		return median(v)
	}
	for _, r := range runs {
		for name := range r.Operator.Controllers {
			out[name] = ControllerFigures{
				Reconciles:          figure(name, func(c ControllerFigures) float64 { return c.Reconciles }),
				ReconcileP50Seconds: figure(name, func(c ControllerFigures) float64 { return c.ReconcileP50Seconds }),
				ReconcileP99Seconds: figure(name, func(c ControllerFigures) float64 { return c.ReconcileP99Seconds }),
				ReconcileSeconds:    figure(name, func(c ControllerFigures) float64 { return c.ReconcileSeconds }),
				ReconcilesByResult: medianMap(runs, func(r Run) map[string]float64 {
					return r.Operator.Controllers[name].ReconcilesByResult
				}),
				APIShare: share(name),
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// medianLatency takes each latency figure's median over the runs that have it, overall, by
// verb and resource, and by caller.
func medianLatency(runs []Run) *APILatency {
	var overall []map[string]LatencyFigures
	var byVerb, byCaller []map[string]LatencyFigures
	for _, r := range runs {
		if l := r.Operator.APILatency; l != nil {
			overall = append(overall, map[string]LatencyFigures{"": l.Overall})
			byVerb = append(byVerb, l.ByVerbResource)
			byCaller = append(byCaller, l.ByCaller)
		}
	}
	if len(overall) == 0 {
		return nil
	}
	return &APILatency{Overall: medianFigures(overall)[""], ByVerbResource: medianFigures(byVerb), ByCaller: medianFigures(byCaller)}
}

// medianFigures takes, for each key, each figure's median over the maps of all that have the key.
func medianFigures(all []map[string]LatencyFigures) map[string]LatencyFigures {
	out := map[string]LatencyFigures{}
	for _, m := range all {
		for k := range m {
			if _, done := out[k]; done {
				continue
			}
			figure := func(get func(LatencyFigures) float64) float64 {
				var v []float64
				for _, m := range all {
					if f, ok := m[k]; ok {
						v = append(v, get(f))
					}
				}
				return *median(v)
			}
			out[k] = LatencyFigures{
				Count:        figure(func(f LatencyFigures) float64 { return f.Count }),
				P50Seconds:   figure(func(f LatencyFigures) float64 { return f.P50Seconds }),
				P99Seconds:   figure(func(f LatencyFigures) float64 { return f.P99Seconds }),
				TotalSeconds: figure(func(f LatencyFigures) float64 { return f.TotalSeconds }),
			}
		}
	}
	return out
}

func median(v []float64) *float64 {
	if len(v) == 0 {
		return nil
	}
	slices.Sort(v)
	m := len(v) / 2
	if len(v)%2 == 1 {
		return new(v[m])
	}
	return new((v[m-1] + v[m]) / 2)
}

// medianMap takes each key's median; a run without the key counts as 0.
func medianMap(runs []Run, get func(Run) map[string]float64) map[string]float64 {
	keys := map[string]bool{}
	for _, r := range runs {
		for k := range get(r) {
			keys[k] = true
		}
	}
	if len(keys) == 0 {
		return nil
	}
	out := map[string]float64{}
	for k := range keys {
		v := make([]float64, 0, len(runs))
		for _, r := range runs {
			v = append(v, get(r)[k])
		}
		out[k] = *median(v)
	}
	return out
}

// Missing is the cell of a figure that was not measured.
const Missing = "?"

// Header is the table's header row.
var Header = []string{"N", "floor", "operator", "ratio", "reconciles", "p50 / p99", "req/min at rest",
	"writes/service", "children / status / events", "p99 by controller", "RSS / peak", "CPU s: operator / apiserver / etcd",
	"audit -f", "proof → False / → True"}

// Rows returns the table's rows, one per N, from the median runs.
func Rows(r *Report) [][]string {
	rows := make([][]string, 0, len(r.Results))
	for _, res := range r.Results {
		m := res.Median
		o := m.Operator
		row := []string{fmt.Sprint(res.N), secs(m.Floor.Seconds), secs(o.Seconds), ratio(o.Ratio),
			num(o.Reconciles, "%.0f"), pair(o.ReconcileP50Seconds, o.ReconcileP99Seconds, "%.3f s"),
			num(o.RestRequestsPerMinute, "%.0f"), num(o.WritesPerService, "%.1f"),
			num(o.ChildWritesPerService, "%.2f") + " / " + num(o.StatusWritesPerService, "%.2f") + " / " + num(o.EventsPerService, "%.2f"),
			controllersP99(o.Controllers),
			pair(o.RSSMiB, o.PeakRSSMiB, "%.0f MiB"), cpu(o.CPUSeconds), secs(o.AuditSeconds),
			pair(o.ProofFalseSeconds, o.ProofTrueSeconds, "%.1f s")}
		switch {
		case m.Floor.Progress == FloorSkipped:
			row[1] = FloorSkipped
		case !m.Floor.Converged:
			row[1] = "did not converge: " + m.Floor.Progress
		}
		if !o.Converged {
			row[2] = "did not converge: " + o.Progress
		}
		if o.ProofNote != "" {
			row[len(row)-1] += " (" + o.ProofNote + ")"
		}
		rows = append(rows, row)
	}
	return rows
}

// controllersP99 is "name p99" for each controller, by name.
func controllersP99(c map[string]ControllerFigures) string {
	if len(c) == 0 {
		return Missing
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(c)) {
		part := fmt.Sprintf("%s %.3f s", name, c[name].ReconcileP99Seconds)
		if share := c[name].APIShare; share != nil {
			part += fmt.Sprintf(" (API %.0f%%)", 100**share)
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", ")
}

// Processes whose CPU seconds the benchmark reads.
const (
	ProcessOperator  = "operator"
	ProcessAPIServer = "kube-apiserver"
	ProcessEtcd      = "etcd"
)

func cpu(m map[string]float64) string {
	cell := func(name string) string {
		v, ok := m[name]
		if !ok {
			return Missing
		}
		return fmt.Sprintf("%.0f", v)
	}
	return cell(ProcessOperator) + " / " + cell(ProcessAPIServer) + " / " + cell(ProcessEtcd)
}

func secs(v *float64) string {
	if v == nil {
		return Missing
	}
	if *v < 10 {
		return fmt.Sprintf("%.1f s", *v)
	}
	return fmt.Sprintf("%.0f s", *v)
}

func ratio(v *float64) string {
	if v == nil {
		return Missing
	}
	return fmt.Sprintf("%.2fx", *v)
}

func num(v *float64, format string) string {
	if v == nil || math.IsNaN(*v) {
		return Missing
	}
	return fmt.Sprintf(format, *v)
}

func pair(a, b *float64, format string) string {
	return num(a, format) + " / " + num(b, format)
}

// Table renders the header and rows as a Markdown table.
func Table(rows [][]string) string {
	var b strings.Builder
	line := func(cells []string) { b.WriteString("| " + strings.Join(cells, " | ") + " |\n") }
	line(Header)
	sep := make([]string, len(Header))
	for i := range sep {
		sep[i] = "---"
	}
	line(sep)
	for _, r := range rows {
		line(r)
	}
	return b.String()
}

// Check reports every figure a report lacks: what the bench smoke requires (never timings'
// values, only that each was measured and the services converged).
func Check(r *Report) error {
	var errs []error
	if r.Commit == "" {
		errs = append(errs, errors.New("no commit"))
	}
	if len(r.Results) == 0 {
		errs = append(errs, errors.New("no results"))
	}
	for _, res := range r.Results {
		if len(res.Runs) == 0 {
			errs = append(errs, fmt.Errorf("%d services: no runs", res.N))
		}
		for i, cell := range Rows(&Report{Results: []Result{res}})[0] {
			if strings.Contains(cell, Missing) || strings.HasPrefix(cell, "did not converge") || cell == FloorSkipped {
				errs = append(errs, fmt.Errorf("%d services: %s is %q", res.N, Header[i], cell))
			}
		}
		o := res.Median.Operator
		if len(o.RestRequests) == 0 && o.RestRequestsPerMinute != nil && *o.RestRequestsPerMinute > 0 {
			errs = append(errs, fmt.Errorf("%d services: requests at rest are not split by verb and resource", res.N))
		}
		if len(o.WritesPerServiceByKind) == 0 {
			errs = append(errs, fmt.Errorf("%d services: no writes counted during convergence", res.N))
		}
		if len(o.StatusWritesByManager) == 0 {
			errs = append(errs, fmt.Errorf("%d services: status writes are not split by field manager", res.N))
		}
		if o.ProofService == "" {
			errs = append(errs, fmt.Errorf("%d services: no proof service", res.N))
		}
		if len(o.RestRequestsByManager) == 0 && o.RestRequestsPerMinute != nil && *o.RestRequestsPerMinute > 0 {
			errs = append(errs, fmt.Errorf("%d services: requests at rest are not split by field manager", res.N))
		}
		errs = append(errs, checkDiagnosis(res.N, o)...)
	}
	return errors.Join(errs...)
}

// checkDiagnosis reports the figures that say where the time and memory go and are missing.
func checkDiagnosis(n int, o Operator) []error {
	var errs []error
	if o.APILatency == nil || o.APILatency.Overall.Count == 0 {
		errs = append(errs, fmt.Errorf("%d services: no API latency during convergence", n))
	}
	if o.APIShareOfPublicServiceReconcile == nil {
		errs = append(errs, fmt.Errorf("%d services: no API share of the PublicService controller's reconcile time", n))
	}
	for _, name := range GoMemoryMetrics {
		if _, ok := o.GoMemoryMiB[name]; !ok {
			errs = append(errs, fmt.Errorf("%d services: no %s at rest", n, name))
		}
	}
	if o.PeakHeapInuseMiB == nil {
		errs = append(errs, fmt.Errorf("%d services: no peak heap in use during convergence", n))
	}
	if o.CPUProfile != "" && (o.HeapProfile == "" || o.HeapRestProfile == "") {
		errs = append(errs, fmt.Errorf("%d services: a CPU profile but not both heap profiles", n))
	}
	return errs
}

// Diagnosis is the line per N that says where the operator's time and memory go: the API
// server's latency of its requests during convergence, the PublicService controller's API time
// against its reconcile time, and the heap in use at rest and at its peak.
func Diagnosis(res Result) string {
	o := res.Median.Operator
	var b strings.Builder
	fmt.Fprintf(&b, "N=%d: API latency during convergence: ", res.N)
	if l := o.APILatency; l == nil {
		b.WriteString(Missing)
	} else {
		fmt.Fprintf(&b, "%.0f requests, p50 %s, p99 %s, %.1f s in all", l.Overall.Count,
			millis(l.Overall.P50Seconds), millis(l.Overall.P99Seconds), l.Overall.TotalSeconds)
		ps := l.ByCaller[CallerPublicService]
		fmt.Fprintf(&b, "; PublicService controller: %.0f requests, %.1f s of API time in %.1f s of reconciles", ps.Count,
			ps.TotalSeconds, o.Controllers[CallerPublicService].ReconcileSeconds)
	}
	fmt.Fprintf(&b, " (share %s); heap in use %s at rest, peak %s during convergence",
		num(o.APIShareOfPublicServiceReconcile, "%.2f"), num(mapValue(o.GoMemoryMiB, HeapInuseMetric), "%.0f MiB"),
		num(o.PeakHeapInuseMiB, "%.0f MiB"))
	if l := o.APILatency; l != nil && len(o.Controllers) > 0 {
		// A reconcile that writes cannot be faster than its write: a controller whose
		// requests' p99 is near its reconcile p99 has its tail set by the API server.
		b.WriteString("; reconcile p99 against the API p99 of the controller's own requests:")
		for i, name := range slices.Sorted(maps.Keys(o.Controllers)) {
			c, api := o.Controllers[name], l.ByCaller[name]
			sep := ","
			if i == 0 {
				sep = ""
			}
			fmt.Fprintf(&b, "%s %s %s / %s (%.0f requests, API share %s)", sep, name, millis(c.ReconcileP99Seconds),
				millis(api.P99Seconds), api.Count, num(c.APIShare, "%.2f"))
		}
	}
	if o.RSSAnonMiB != nil && o.RSSFileMiB != nil {
		fmt.Fprintf(&b, "; RSS at rest %.0f MiB anonymous and %.0f MiB of the binary's pages, anonymous peak %s",
			*o.RSSAnonMiB, *o.RSSFileMiB, num(o.PeakRSSAnonMiB, "%.0f MiB"))
	}
	if o.ConnectivityAnalysesPerService != nil {
		fmt.Fprintf(&b, "; %.1f connectivity analyses per service", *o.ConnectivityAnalysesPerService)
	}
	if w, ok := o.WritesPerServiceByKind["NetworkPolicy"]; ok && res.City.Services > 0 {
		fmt.Fprintf(&b, "; NetworkPolicy writes per service %.2f, where rendering each service as it arrives takes at least %.2f "+
			"(%.0f%% of the services have a peer applied after them)", w, 1+res.City.LaterPeer, 100*res.City.LaterPeer)
	}
	return b.String()
}

func millis(s float64) string { return fmt.Sprintf("%.1f ms", s*1000) }

func mapValue(m map[string]float64, key string) *float64 {
	if v, ok := m[key]; ok {
		return &v
	}
	return nil
}

// Sum adds up a map's values.
func Sum(m map[string]float64) float64 {
	total := 0.0
	for _, v := range m {
		total += v
	}
	return total
}

// SortedKeys returns a map's keys by decreasing value, then name.
func SortedKeys(m map[string]float64) []string {
	return slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b))
	})
}
