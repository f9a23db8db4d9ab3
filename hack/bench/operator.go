package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/bench"
	"github.com/smartcity-io/smartcity-operator/internal/citygen"
)

// proofTimeout bounds each half of the proof-latency measurement.
const proofTimeout = 5 * time.Minute

// profileChunk is the length of each CPU profile taken during convergence; they are merged.
const profileChunk = 10 * time.Second

// Samples during convergence: the operator's resident set is read from /proc every
// memorySampleEvery (which costs the operator nothing), its heap in use scraped from /metrics
// every heapScrapeEvery, as often as a Prometheus Operator ServiceMonitor scrapes by default.
// A scrape is not free: at 1,700 services it builds 8,500 condition series (about 10 MB).
const (
	memorySampleEvery = 5 * time.Second
	heapScrapeEvery   = 30 * time.Second
)

// operatorProcess is the operator running as a local process.
type operatorProcess struct {
	cmd         *exec.Cmd
	metricsAddr string
	// pprofAddr serves /debug/pprof when the benchmark profiles, else "".
	pprofAddr string
	// exited is closed when the process has exited; waitErr is then Wait's result.
	exited  chan struct{}
	waitErr error
}

// operatorFlags are the flags the benchmark gives the operator: its defaults, plus metrics on
// loopback without authentication (a scrape costs no API request), local health probes and,
// when pprof is set, the profiling endpoints on loopback.
func operatorFlags(metrics, health, pprof string) []string {
	flags := []string{
		"--metrics-bind-address=" + metrics,
		"--metrics-secure=false",
		"--health-probe-bind-address=" + health,
	}
	if pprof != "" {
		flags = append(flags, "--pprof-bind-address="+pprof)
	}
	return flags
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

func (b *benchmark) startOperator(ctx context.Context, kubeconfig, logFile string) (*operatorProcess, error) {
	metrics, err := freePort()
	if err != nil {
		return nil, err
	}
	health, err := freePort()
	if err != nil {
		return nil, err
	}
	var pprof string
	if b.profile {
		if pprof, err = freePort(); err != nil {
			return nil, err
		}
	}
	log, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	// KUBECONFIG rather than --kubeconfig: it does not depend on how the operator parses flags.
	cmd := exec.Command(b.manager, operatorFlags(metrics, health, pprof)...)
	// GOMEMLIMIT and the container's environment: what the operator's runtime takes in a pod of
	// the shipped Deployment (memory.go).
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "GOMEMLIMIT="+goMemLimit(b.container.memoryLimit))
	cmd.Env = append(cmd.Env, b.container.env...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C reaches us, and we stop it
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("failed to start the operator: %w", err)
	}
	p := &operatorProcess{cmd: cmd, metricsAddr: metrics, pprofAddr: pprof, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		_ = log.Close()
		close(p.exited)
	}()
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get("http://" + health + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("the operator exited at start (%v); its log: %s", p.waitErr, logFile)
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("the operator is not ready after 90 s; its log: %s", logFile)
		}
	}
}

// stop sends SIGTERM, then SIGKILL after 20 s; it returns once the process has exited.
func (p *operatorProcess) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// procMemory is the operator's memory as /proc/<pid>/status tells it, in MiB: its resident
// set and the set's peak (VmRSS, VmHWM), and the resident set's anonymous part (the Go heap,
// stacks and runtime) and file-backed part (the binary's pages that were read).
type procMemory struct {
	RSS, Peak, Anon, File float64
}

// memory reads the operator's procMemory.
func (p *operatorProcess) memory() (procMemory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return procMemory{}, err
	}
	defer func() { _ = f.Close() }()
	return readProcMemory(f)
}

// readProcMemory reads a /proc/<pid>/status page.
func readProcMemory(r io.Reader) (procMemory, error) {
	var m procMemory
	fields := map[string]*float64{"VmRSS": &m.RSS, "VmHWM": &m.Peak, "RssAnon": &m.Anon, "RssFile": &m.File}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		value := strings.Fields(v)
		into, ok := fields[k]
		if !ok || len(value) != 2 || value[1] != "kB" {
			continue
		}
		if kb, err := strconv.ParseFloat(value[0], 64); err == nil {
			*into = kb / 1024
		}
	}
	if m.RSS == 0 || m.Peak == 0 || m.Anon == 0 {
		return m, errors.New("no VmRSS, VmHWM or RssAnon in /proc/<pid>/status")
	}
	return m, sc.Err()
}

// scrape returns the operator's /metrics page.
func (p *operatorProcess) scrape(ctx context.Context) ([]byte, error) {
	return p.get(ctx, "http://"+p.metricsAddr+"/metrics", "scrape the operator's metrics")
}

// get returns the body of a GET of url, which must answer 200.
func (p *operatorProcess) get(ctx context.Context, url, what string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("failed to %s: %w", what, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("failed to %s: %s", what, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// reconciles scrapes controller-runtime's reconcile figures of every controller.
func (p *operatorProcess) reconciles(ctx context.Context) (map[string]bench.Reconciles, error) {
	page, err := p.scrape(ctx)
	if err != nil {
		return nil, err
	}
	all, err := bench.ReadAllReconciles(bytes.NewReader(page))
	if err != nil {
		return nil, err
	}
	if _, ok := all["publicservice"]; !ok {
		return nil, errors.New("the operator's metrics have no reconcile histogram of the publicservice controller")
	}
	return all, nil
}

// connectivityAnalyses scrapes how many connectivity analyses the operator ran, per service;
// nil, with a warning, when its metrics have none.
func (p *operatorProcess) connectivityAnalyses(ctx context.Context, services int) *float64 {
	page, err := p.scrape(ctx)
	if err == nil {
		var analyses float64
		if analyses, err = bench.ReadHistogramCount(bytes.NewReader(page), bench.ConnectivityAnalysisMetric); err == nil {
			return new(analyses / float64(services))
		}
	}
	info("warning: no connectivity analyses: %v", err)
	return nil
}

// goMemory scrapes the Go runtime's memory gauges (bench.GoMemoryMetrics), in MiB.
func (p *operatorProcess) goMemory(ctx context.Context) (map[string]float64, error) {
	page, err := p.scrape(ctx)
	if err != nil {
		return nil, err
	}
	return bench.ReadGoMemory(bytes.NewReader(page))
}

// loop runs a step in the background again and again, pausing between steps, until stopped or
// a step fails.
type loop struct {
	stopping chan struct{}
	done     chan struct{}
	err      error
}

func startLoop(pause time.Duration, step func() error) *loop {
	l := &loop{stopping: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for {
			if err := step(); err != nil {
				l.err = err
				return
			}
			select {
			case <-l.stopping:
				return
			default:
			}
			select {
			case <-l.stopping:
				return
			case <-time.After(pause):
			}
		}
	}()
	return l
}

// stop returns once the step under way has ended, with the first error of a step.
func (l *loop) stop() error {
	close(l.stopping)
	<-l.done
	return l.err
}

// heapSampler reads the operator's anonymous resident set every memorySampleEvery and its heap
// in use every heapScrapeEvery until stopped, and keeps the highest of each.
type heapSampler struct {
	loop           *loop
	peak, peakAnon float64
}

func (p *operatorProcess) sampleHeap(ctx context.Context) *heapSampler {
	h := &heapSampler{}
	var last time.Time
	h.loop = startLoop(memorySampleEvery, func() error {
		if time.Since(last) >= heapScrapeEvery {
			mem, err := p.goMemory(ctx)
			if err != nil {
				return err
			}
			h.peak, last = max(h.peak, mem[bench.HeapInuseMetric]), time.Now()
		}
		proc, err := p.memory()
		if err != nil {
			return err
		}
		h.peakAnon = max(h.peakAnon, proc.Anon)
		return nil
	})
	return h
}

// stop returns the peaks of the heap in use and the anonymous resident set, in MiB.
func (h *heapSampler) stop() (heap, anon float64, err error) {
	err = h.loop.stop()
	return h.peak, h.peakAnon, err
}

// heapProfile takes the operator's heap profile (/debug/pprof/heap: in use and allocated since
// the start, as of the last GC).
func (p *operatorProcess) heapProfile(ctx context.Context) ([]byte, error) {
	return p.get(ctx, "http://"+p.pprofAddr+"/debug/pprof/heap", "take the operator's heap profile")
}

// profiler takes the operator's CPU profile in chunks of profileChunk until stopped: stop
// returns once the chunk under way has ended, with the chunks merged.
type profiler struct {
	loop  *loop
	parts [][]byte
}

func (p *operatorProcess) startProfile(ctx context.Context) *profiler {
	pr := &profiler{}
	pr.loop = startLoop(0, func() error {
		part, err := p.profile(ctx, profileChunk)
		if err != nil {
			return err
		}
		pr.parts = append(pr.parts, part)
		return nil
	})
	return pr
}

func (pr *profiler) stop() ([]byte, error) {
	if err := pr.loop.stop(); err != nil {
		return nil, err
	}
	return bench.MergeProfiles(pr.parts)
}

func (p *operatorProcess) profile(ctx context.Context, d time.Duration) ([]byte, error) {
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.pprofAddr, int(d.Seconds()))
	return p.get(ctx, url, "profile the operator")
}

// cpuSeconds reads the CPU seconds so far of the operator, kube-apiserver and etcd (kwokctl
// runs them as local processes and writes their pid files).
func cpuSeconds(cl *cluster, op *operatorProcess) (map[string]float64, error) {
	pids := map[string]string{bench.ProcessOperator: strconv.Itoa(op.cmd.Process.Pid)}
	for _, name := range []string{bench.ProcessAPIServer, bench.ProcessEtcd} {
		pid, err := os.ReadFile(filepath.Join(cl.kwokDir(), "pids", name+".pid"))
		if err != nil {
			return nil, fmt.Errorf("failed to find the %s process: %w", name, err)
		}
		pids[name] = strings.TrimSpace(string(pid))
	}
	out := map[string]float64{}
	for name, pid := range pids {
		stat, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return nil, fmt.Errorf("failed to read the CPU time of %s: %w", name, err)
		}
		if out[name], err = bench.ProcCPUSeconds(string(stat)); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return out, nil
}

// serviceState is how far one service is.
type serviceState struct{ available, isolated, verified bool }

func (s serviceState) done() bool { return s.available && s.isolated && s.verified }

func stateOf(p *platformv1alpha1.PublicService, dep *appsv1.Deployment, minReady int32) serviceState {
	cond := func(t string) *metav1.Condition {
		c := meta.FindStatusCondition(p.Status.Conditions, t)
		if c == nil || c.ObservedGeneration != p.Generation {
			return nil
		}
		return c
	}
	iso, ver := cond(platformv1alpha1.ConditionNetworkIsolated), cond(platformv1alpha1.ConditionConnectivityVerified)
	avail := cond(platformv1alpha1.ConditionAvailable)
	return serviceState{
		// The pods are ready, and the service's status says so.
		available: dep != nil && dep.Status.ReadyReplicas >= minReady && avail != nil && avail.Status == metav1.ConditionTrue,
		isolated:  iso != nil && iso.Status == metav1.ConditionTrue,
		verified:  ver != nil && ver.Status != metav1.ConditionUnknown,
	}
}

// runOperator runs the operator on a fresh cluster, from applying the PublicServices until
// every one has converged, then measures it at rest, the offline audit and the proof latency.
func (b *benchmark) runOperator(ctx context.Context, n *nRun) (bench.Operator, error) {
	var out bench.Operator
	cl := &cluster{root: b.root, name: b.clusterName, nodes: n.nodes}
	step("N=%d, run %d/%d: the operator, cluster %s", n.n, n.rep, b.repeat, cl.name)
	if err := cl.up(ctx, b.auditPolicyFile); err != nil {
		return out, err
	}
	defer func() {
		if err := cl.down(); err != nil {
			info("warning: %v", err)
		}
	}()
	c, op, err := b.setupOperator(ctx, cl, n)
	if err != nil {
		return out, err
	}
	defer c.cancel()
	defer op.stop()

	cpuBefore, err := cpuSeconds(cl, op)
	if err != nil {
		return out, err
	}
	var prof *profiler
	if b.profile {
		prof = op.startProfile(ctx)
	}
	heap := op.sampleHeap(ctx)
	info("applying %d PublicServices", len(n.city.Services))
	start := time.Now()
	services := make([]runtime.Object, len(n.city.Services))
	for i := range n.city.Services {
		services[i] = &n.city.Services[i]
	}
	if err := c.apply(ctx, services...); err != nil {
		return out, err
	}
	done, progress, err := waitFor(ctx, start, b.cap, "services converged", func() (bool, string, error) {
		return converged(ctx, c, n)
	})
	if err != nil {
		return out, err
	}
	convergedAt := time.Now()
	out.Converged = done
	cpuAfter, err := cpuSeconds(cl, op)
	if err != nil {
		return out, err
	}
	out.CPUSeconds = map[string]float64{}
	for name, after := range cpuAfter {
		out.CPUSeconds[name] = after - cpuBefore[name]
	}
	peakHeap, peakAnon, err := heap.stop()
	if err != nil {
		return out, err
	}
	out.PeakHeapInuseMiB, out.PeakRSSAnonMiB = new(peakHeap), new(peakAnon)
	if prof != nil {
		if out.HeapProfile, err = b.saveHeapProfile(ctx, op, "heap", n); err != nil {
			return out, err
		}
		if out.CPUProfile, err = b.saveProfile(prof, n); err != nil {
			return out, err
		}
	}
	all, err := op.reconciles(ctx)
	if err != nil {
		return out, err
	}
	out.Controllers = map[string]bench.ControllerFigures{}
	for name, r := range all {
		out.Controllers[name] = bench.ControllerFigures{Reconciles: r.Count, ReconcileP50Seconds: r.P50, ReconcileP99Seconds: r.P99,
			ReconcileSeconds: r.Seconds, ReconcilesByResult: r.ByResult}
	}
	out.ConnectivityAnalysesPerService = op.connectivityAnalyses(ctx, len(n.city.Services))
	rec := all["publicservice"]
	out.Reconciles, out.ReconcileP50Seconds, out.ReconcileP99Seconds = new(rec.Count), new(rec.P50), new(rec.P99)
	info("CPU during convergence: operator %.0f s, kube-apiserver %.0f s, etcd %.0f s",
		out.CPUSeconds[bench.ProcessOperator], out.CPUSeconds[bench.ProcessAPIServer], out.CPUSeconds[bench.ProcessEtcd])
	if !done {
		out.Progress = fmt.Sprintf("did not converge in %s: %s", fmtDur(b.cap), progress)
	} else {
		out.Seconds = new(convergedAt.Sub(start).Seconds())
		info("converged in %s; %0.f reconciles, p50 %.3f s, p99 %.3f s", fmtDur(convergedAt.Sub(start)), rec.Count, rec.P50, rec.P99)
	}

	// At rest: nothing changes for b.rest.
	restEnd := convergedAt
	if done {
		info("at rest for %s", b.rest)
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(b.rest):
		}
		restEnd = time.Now()
	}
	mem, err := op.memory()
	if err != nil {
		return out, err
	}
	out.RSSMiB, out.PeakRSSMiB, out.RSSAnonMiB, out.RSSFileMiB = new(mem.RSS), new(mem.Peak), new(mem.Anon), new(mem.File)
	if out.GoMemoryMiB, err = op.goMemory(ctx); err != nil {
		return out, err
	}
	info("at the end of the rest: RSS %.0f MiB (peak %.0f; anonymous %.0f, peak sampled %.0f; file %.0f), heap in use %.0f MiB (peak during convergence %.0f)",
		mem.RSS, mem.Peak, mem.Anon, peakAnon, mem.File, out.GoMemoryMiB[bench.HeapInuseMetric], peakHeap)
	if b.profile {
		if out.HeapRestProfile, err = b.saveHeapProfile(ctx, op, "heap-rest", n); err != nil {
			return out, err
		}
	}
	if done {
		if err := b.proof(ctx, c, n.city, &out); err != nil {
			return out, err
		}
	}
	op.stop()
	if err := b.countRequests(cl, start, convergedAt, restEnd, len(n.city.Services), &out); err != nil {
		return out, err
	}
	out.APIShareOfPublicServiceReconcile = bench.APIShare(out.APILatency, bench.CallerPublicService, rec.Seconds)
	bench.SetControllersAPIShares(&out)
	if done {
		if out.AuditSeconds, err = b.auditTime(ctx, n.dir); err != nil {
			return out, err
		}
	}
	return out, nil
}

// setupOperator installs the CRDs, applies the city's namespaces, zones and foreign policies,
// and starts the operator with a client certificate of its own.
func (b *benchmark) setupOperator(ctx context.Context, cl *cluster, n *nRun) (*clients, *operatorProcess, error) {
	if err := b.kubectl(ctx, cl.kubeconfig(), "apply", "--server-side", "-k", filepath.Join(b.root, "config/crd")); err != nil {
		return nil, nil, err
	}
	// kubectl wait fails at once while a new CRD has no status.conditions yet: retry.
	for deadline := time.Now().Add(time.Minute); ; {
		err := b.kubectl(ctx, cl.kubeconfig(), "wait", "--for=condition=Established", "--timeout=10s",
			"crd/publicservices.platform.smartcity.io", "crd/networkzones.platform.smartcity.io")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, nil, err
		}
		time.Sleep(time.Second)
	}
	c, err := connect(ctx, cl.kubeconfig())
	if err != nil {
		return nil, nil, err
	}
	setup := make([]runtime.Object, 0, len(n.city.Namespaces)+len(n.city.Zones)+len(n.city.Policies))
	for i := range n.city.Namespaces {
		setup = append(setup, &n.city.Namespaces[i])
	}
	for i := range n.city.Zones {
		setup = append(setup, &n.city.Zones[i])
	}
	for i := range n.city.Policies {
		setup = append(setup, &n.city.Policies[i])
	}
	fail := func(err error) (*clients, *operatorProcess, error) {
		c.cancel()
		return nil, nil, err
	}
	if err := c.apply(ctx, setup...); err != nil {
		return fail(err)
	}
	// The informers start before the clock does.
	if err := c.cache.List(ctx, &appsv1.DeploymentList{}); err != nil {
		return fail(err)
	}
	if err := c.cache.List(ctx, &platformv1alpha1.PublicServiceList{}); err != nil {
		return fail(err)
	}
	opKubeconfig, err := cl.operatorKubeconfig()
	if err != nil {
		return fail(err)
	}
	logFile := filepath.Join(b.workdir, fmt.Sprintf("operator-n%d-run%d.log", n.n, n.rep))
	op, err := b.startOperator(ctx, opKubeconfig, logFile)
	if err != nil {
		return fail(err)
	}
	info("operator running (pid %d, metrics on %s, log %s)", op.cmd.Process.Pid, op.metricsAddr, logFile)
	return c, op, nil
}

// converged reports whether every service has converged, and how many have so far.
func converged(ctx context.Context, c *clients, n *nRun) (bool, string, error) {
	deps := &appsv1.DeploymentList{}
	if err := c.cache.List(ctx, deps); err != nil {
		return false, "", err
	}
	byKey := map[string]*appsv1.Deployment{}
	for i := range deps.Items {
		byKey[deps.Items[i].Namespace+"/"+deps.Items[i].Name] = &deps.Items[i]
	}
	svcs := &platformv1alpha1.PublicServiceList{}
	if err := c.cache.List(ctx, svcs); err != nil {
		return false, "", err
	}
	var avail, iso, ver, all int
	for i := range svcs.Items {
		key := svcs.Items[i].Namespace + "/" + svcs.Items[i].Name
		s := stateOf(&svcs.Items[i], byKey[key], n.mins[key])
		avail += btoi(s.available)
		iso += btoi(s.isolated)
		ver += btoi(s.verified)
		all += btoi(s.done())
	}
	total := len(n.city.Services)
	return all == total, fmt.Sprintf("%d/%d (pods ready and Available %d, NetworkIsolated %d, ConnectivityVerified %d)",
		all, total, avail, iso, ver), nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// proof measures the proof latency on the first service (by name) whose connectivity is
// verified, in a namespace without the city's foreign policies.
func (b *benchmark) proof(ctx context.Context, c *clients, city *citygen.City, out *bench.Operator) error {
	foreign := map[string]bool{}
	for _, p := range city.Policies {
		foreign[p.Namespace] = true
	}
	svcs := &platformv1alpha1.PublicServiceList{}
	if err := c.cache.List(ctx, svcs); err != nil {
		return err
	}
	slices.SortFunc(svcs.Items, func(a, b platformv1alpha1.PublicService) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	var target *platformv1alpha1.PublicService
	for i := range svcs.Items {
		s := &svcs.Items[i]
		if !foreign[s.Namespace] && meta.IsStatusConditionTrue(s.Status.Conditions, platformv1alpha1.ConditionConnectivityVerified) {
			target = s
			break
		}
	}
	if target == nil {
		return errors.New("no service has ConnectivityVerified=True: the proof latency cannot be measured")
	}
	key := types.NamespacedName{Namespace: target.Namespace, Name: target.Name}
	out.ProofService = key.String()
	verified := func() (metav1.ConditionStatus, error) {
		p := &platformv1alpha1.PublicService{}
		if err := c.cache.Get(ctx, key, p); err != nil {
			return "", err
		}
		cnd := meta.FindStatusCondition(p.Status.Conditions, platformv1alpha1.ConditionConnectivityVerified)
		if cnd == nil {
			return metav1.ConditionUnknown, nil
		}
		return cnd.Status, nil
	}
	// waitStatus returns the seconds from start (just before the request that changes the
	// policies was sent) until the condition has the status wanted, or nil (and a note in
	// out.ProofNote) when it does not within proofTimeout.
	waitStatus := func(start time.Time, want metav1.ConditionStatus, what string) (*float64, error) {
		ok, progress, err := waitFor(ctx, start, proofTimeout, what, func() (bool, string, error) {
			got, err := verified()
			return got == want, "ConnectivityVerified=" + string(got), err
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			out.ProofNote = fmt.Sprintf("no ConnectivityVerified=%s within %s (still %s)", want, fmtDur(proofTimeout), progress)
			info("%s: %s", key, out.ProofNote)
			return nil, nil
		}
		return new(time.Since(start).Seconds()), nil
	}
	policy := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "bench-proof-allow-all", Namespace: key.Namespace},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": key.Name}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{}},
		},
	}
	info("proof latency: a foreign allow-all NetworkPolicy next to %s", key)
	// The clock starts before each request: the operator can react before the API server's
	// answer reaches the benchmark.
	created := time.Now()
	if err := c.Create(ctx, policy); err != nil {
		return fmt.Errorf("failed to create the proof policy: %w", err)
	}
	var err error
	if out.ProofFalseSeconds, err = waitStatus(created, metav1.ConditionFalse, "until ConnectivityVerified=False"); err != nil {
		return err
	}
	deleted := time.Now()
	if err := c.Delete(ctx, policy); err != nil {
		return fmt.Errorf("failed to delete the proof policy: %w", err)
	}
	if out.ProofFalseSeconds == nil {
		return nil
	}
	out.ProofTrueSeconds, err = waitStatus(deleted, metav1.ConditionTrue, "deleted; until ConnectivityVerified=True")
	return err
}

// saveProfile stops the profiler (after the chunk under way) and writes the merged profile
// next to the JSON report; it returns the file's name.
func (b *benchmark) saveProfile(prof *profiler, n *nRun) (string, error) {
	data, err := prof.stop()
	if err != nil {
		return "", err
	}
	name, err := b.writeProfile("cpu", n, data)
	if err != nil {
		return "", err
	}
	info("CPU profile of the operator during convergence: %s (go tool pprof -top %s)", name, filepath.Join(filepath.Dir(b.out), name))
	return name, nil
}

// saveHeapProfile takes the operator's heap profile and writes it next to the JSON report as
// kind ("heap" or "heap-rest"); it returns the file's name.
func (b *benchmark) saveHeapProfile(ctx context.Context, op *operatorProcess, kind string, n *nRun) (string, error) {
	data, err := op.heapProfile(ctx)
	if err != nil {
		return "", err
	}
	name, err := b.writeProfile(kind, n, data)
	if err != nil {
		return "", err
	}
	info("heap profile of the operator: %s (go tool pprof -sample_index=inuse_space -top %s)", name, filepath.Join(filepath.Dir(b.out), name))
	return name, nil
}

// writeProfile writes <report>-<kind>-n<N>-run<k>.pprof next to the JSON report and returns
// its name.
func (b *benchmark) writeProfile(kind string, n *nRun, data []byte) (string, error) {
	name := fmt.Sprintf("%s-%s-n%d-run%d.pprof", strings.TrimSuffix(filepath.Base(b.out), ".json"), kind, n.n, n.rep)
	if err := os.MkdirAll(filepath.Dir(b.out), 0o755); err != nil {
		return "", err
	}
	return name, os.WriteFile(filepath.Join(filepath.Dir(b.out), name), data, 0o644)
}

// countRequests reads the operator's requests from the audit log: writes per service and the
// API server's latency during convergence, and requests per minute at rest.
func (b *benchmark) countRequests(cl *cluster, start, converged, restEnd time.Time, services int, out *bench.Operator) error {
	f, err := os.Open(cl.auditLog())
	if err != nil {
		return fmt.Errorf("failed to read the audit log: %w", err)
	}
	defer func() { _ = f.Close() }()
	events, err := bench.ReadAudit(f, operatorUser)
	if err != nil {
		return err
	}
	if len(events) == 0 {
		return fmt.Errorf("the audit log %s holds no request of user %s", cl.auditLog(), operatorUser)
	}
	convergence := bench.Between(events, start, converged)
	out.WritesPerServiceByKind = bench.WritesPerService(convergence, services)
	out.WritesPerService = new(bench.Sum(out.WritesPerServiceByKind))
	children, status, evts := bench.Writes(out.WritesPerServiceByKind)
	out.ChildWritesPerService, out.StatusWritesPerService, out.EventsPerService = new(children), new(status), new(evts)
	out.StatusWritesByManager = bench.StatusWritesPerService(convergence, services)
	out.APILatency = bench.Latencies(convergence)
	if restEnd.After(converged) {
		rest := bench.Between(events, converged, restEnd)
		out.RestRequests = bench.PerMinute(rest, restEnd.Sub(converged))
		out.RestRequestsByManager = bench.RequestsByManager(rest, restEnd.Sub(converged))
		out.RestRequestsPerMinute = new(bench.Sum(out.RestRequests))
	}
	return nil
}

// auditRuns is how many times the benchmark times the audit; it reports their median, as one
// run of a second or two on a shared machine varies by half.
const auditRuns = 3

// auditTime times `kubectl city audit -f` on the city's manifests auditRuns times and returns
// the median (exit 1, violations, is a result like any other: the generated city has one-sided
// consumes).
func (b *benchmark) auditTime(ctx context.Context, dir string) (*float64, error) {
	info("kubectl city audit -f (the whole city, offline), %d runs", auditRuns)
	times := make([]float64, 0, auditRuns)
	for range auditRuns {
		elapsed, err := b.auditOnce(ctx, dir)
		if err != nil {
			return nil, err
		}
		times = append(times, elapsed.Seconds())
	}
	slices.Sort(times)
	info("took %s (median; %s)", fmtDur(time.Duration(times[auditRuns/2]*float64(time.Second))), fmtSeconds(times))
	return new(times[auditRuns/2]), nil
}

// auditOnce runs `kubectl city audit -f dir` once and returns how long it took.
func (b *benchmark) auditOnce(ctx context.Context, dir string) (time.Duration, error) {
	actx, cancel := context.WithTimeout(ctx, b.cap)
	defer cancel()
	cmd := exec.CommandContext(actx, b.kubectlCity, "audit", "-f", dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	var exit *exec.ExitError
	if err != nil && (!errors.As(err, &exit) || exit.ExitCode() != 1) {
		return 0, fmt.Errorf("kubectl city audit -f %s failed: %w\n%s", dir, err, stderr.String())
	}
	return elapsed, nil
}

// fmtSeconds lists durations in seconds, to a hundredth.
func fmtSeconds(s []float64) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = fmt.Sprintf("%.2f s", v)
	}
	return strings.Join(parts, ", ")
}
