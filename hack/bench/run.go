package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/smartcity-io/smartcity-operator/internal/bench"
	"github.com/smartcity-io/smartcity-operator/internal/citygen"
	"github.com/smartcity-io/smartcity-operator/internal/options"
)

// Node sizes of hack/cluster (CLUSTER_NODE_PODS, _CPU, _MEMORY defaults): the benchmark sizes
// its clusters from N with them.
const (
	nodePods   = 1500
	nodeCPU    = 500
	nodeMemory = "1Ti"
	// headroom over the city's pods and requests, for rolling updates.
	headroom = 1.5
)

// benchmark is one `bench run`.
type benchmark struct {
	root, workdir   string
	clusterName     string
	ns              []int
	repeat          int
	cap, rest       time.Duration
	workers         int
	city            cityFlags
	out             string
	manager         string
	kubectlCity     string
	auditPolicyFile string
	// container is the operator's container in the shipped Deployment; the operator runs with
	// the Go soft limit and the environment a pod of it gets (memory.go).
	container managerContainer
	// floor runs the floor before the operator (-floor=false measures the operator alone, with
	// no ratio: for exploring the operator's settings).
	floor bool
	// profile takes the operator's CPU profile during convergence and its heap profiles at
	// convergence and at the end of the rest (BENCH_PROFILE=1).
	profile bool
}

// nRun is one N and one repeat.
type nRun struct {
	n, rep  int
	nodes   int
	city    *citygen.City
	dir     string
	mins    map[string]int32
	groups  [][]*unstructured.Unstructured
	objects int
}

func runCommand(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	b := &benchmark{}
	b.city.add(fs)
	nList := fs.String("n", "440", "Numbers of PublicServices, comma-separated (BENCH_N).")
	fs.IntVar(&b.repeat, "repeat", 1, "Runs per N; the table shows their medians (BENCH_REPEAT).")
	fs.DurationVar(&b.cap, "cap", 30*time.Minute, "Time cap of each floor and operator run (BENCH_CAP).")
	fs.DurationVar(&b.rest, "rest", time.Minute, "How long the operator is measured at rest after converging.")
	fs.StringVar(&b.clusterName, "cluster", "smartcity-bench", "Name of the benchmark's local cluster (created and deleted per run).")
	fs.StringVar(&b.workdir, "workdir", "bin/bench", "Folder for the cities, binaries and operator logs of the run.")
	fs.StringVar(&b.out, "out", "", "JSON report to write (default <workdir>/bench-<time>.json).")
	fs.BoolVar(&b.floor, "floor", true, "Run the floor before the operator; -floor=false measures the operator alone, without a ratio.")
	fs.BoolVar(&b.profile, "profile", os.Getenv("BENCH_PROFILE") == "1",
		"Save the operator's CPU profile during convergence and heap profiles at convergence and at rest next to the JSON (default: BENCH_PROFILE=1).")
	_ = fs.Parse(args)
	var err error
	if b.ns, err = parseNs(*nList); err != nil {
		return err
	}
	if b.repeat < 1 {
		return fmt.Errorf("-repeat must be at least 1, not %d", b.repeat)
	}
	// The floor applies services as many at a time as the operator reconciles by default.
	b.workers = options.DefaultPublicServiceConcurrency
	if b.root, err = os.Getwd(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(b.root, "hack/cluster/cluster.sh")); err != nil {
		return fmt.Errorf("run bench from the repository's root (make bench does): %w", err)
	}
	if b.container, err = readManagerContainer(b.root); err != nil {
		return err
	}
	if !filepath.IsAbs(b.workdir) {
		b.workdir = filepath.Join(b.root, b.workdir)
	}
	if b.out == "" {
		b.out = filepath.Join(b.workdir, "bench-"+time.Now().UTC().Format("20060102-150405")+".json")
	}
	// Refuse a city beyond the API's limits before building anything.
	for _, n := range b.ns {
		if _, err := citygen.Generate(b.city.options(n)); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(b.workdir, 0o755); err != nil {
		return err
	}
	report, err := b.prepare(ctx)
	if err != nil {
		return err
	}
	for _, n := range b.ns {
		res, err := b.runN(ctx, n)
		if err != nil {
			return fmt.Errorf("a city of %d services: %w", n, err)
		}
		report.Results = append(report.Results, res)
		if err := writeReport(b.out, report); err != nil {
			return err
		}
	}
	printReport(report)
	fmt.Printf("\nJSON: %s\n", b.out)
	return nil
}

// prepare builds the operator and the plugin from this tree, writes the audit policy and
// describes the machine and settings.
func (b *benchmark) prepare(ctx context.Context) (*bench.Report, error) {
	step("Building the operator and kubectl-city from this tree")
	b.manager = filepath.Join(b.workdir, "manager")
	b.kubectlCity = filepath.Join(b.workdir, "kubectl-city")
	for _, build := range [][]string{{"-o", b.manager, "."}, {"-o", b.kubectlCity, "./cmd/kubectl-city"}} {
		cmd := exec.CommandContext(ctx, "go", append([]string{"build"}, build...)...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = b.root, os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("go build %s failed: %w", build[len(build)-1], err)
		}
	}
	b.auditPolicyFile = filepath.Join(b.workdir, "audit-policy.yaml")
	if err := os.WriteFile(b.auditPolicyFile, []byte(auditPolicy), 0o644); err != nil {
		return nil, err
	}
	pprof := "" // the operator's flags as the report shows them
	if b.profile {
		pprof = "127.0.0.1:<port>"
	}
	commit, _ := output(ctx, b.root, "git", "rev-parse", "HEAD")
	status, _ := output(ctx, b.root, "git", "status", "--porcelain", "--untracked-files=no")
	return &bench.Report{
		Commit:  commit,
		Dirty:   status != "",
		Started: time.Now().UTC().Truncate(time.Second),
		Machine: bench.Machine{
			CPUs: runtime.NumCPU(), MemoryGiB: memoryGiB(), GoVersion: runtime.Version(), Kubernetes: "v1.37.2",
			LoadAverage: loadAverage(),
			Cluster:     "hack/cluster: kwokctl --runtime binary (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok fake nodes), no metrics-server",
		},
		Settings: bench.Settings{
			Repeat: b.repeat, CapMinutes: b.cap.Minutes(), RestSeconds: b.rest.Seconds(), Seed: b.city.seed, Shape: b.city.shape,
			Floor: bench.ClientSettings{
				Parallelism:     b.workers,
				ClientRateLimit: "none (rest.Config QPS -1)",
				Method:          "kubectl city render -o json, owner references removed, Deployments at replicas.min, server-side apply service by service",
			},
			Operator: bench.OperatorSettings{
				Flags:           operatorFlags("127.0.0.1:<port>", "127.0.0.1:<port>", pprof),
				Parallelism:     options.DefaultPublicServiceConcurrency,
				ClientRateLimit: "none (main.go: rest.Config QPS -1; the API server's Priority and Fairness)",
				MemoryLimit:     b.container.memoryLimit.String(),
				GoMemLimit:      goMemLimit(b.container.memoryLimit),
				Env:             b.container.env,
			},
			RequestCounting: "kube-apiserver audit log at Metadata level, filtered on the operator's user " + operatorUser +
				" (a client certificate of its own, group system:masters); one count per request (auditID)",
		},
	}, nil
}

func (b *benchmark) runN(ctx context.Context, n int) (bench.Result, error) {
	city, err := citygen.Generate(b.city.options(n))
	if err != nil {
		return bench.Result{}, err
	}
	r := &nRun{n: n, city: city, dir: filepath.Join(b.workdir, fmt.Sprintf("city-n%d", n)), mins: map[string]int32{}}
	step("N=%d: generating the city (seed %d, shape %s) into %s", n, b.city.seed, city.Options.Shape, r.dir)
	if err := os.RemoveAll(r.dir); err != nil {
		return bench.Result{}, err
	}
	if err := city.WriteDir(r.dir); err != nil {
		return bench.Result{}, err
	}
	for i := range city.Services {
		s := &city.Services[i]
		r.mins[s.Namespace+"/"+s.Name] = *s.Effective().Replicas.Min
	}
	r.nodes = nodesFor(city.Stats)
	info("%d services in %d namespaces (largest %d), %d pods at replicas.min; %d one-sided consumes; %d kwok nodes",
		len(city.Services), len(city.Namespaces), city.Stats.Largest, city.Stats.Pods, city.Stats.OneSided, r.nodes)
	if r.groups, r.objects, err = renderChildren(ctx, b.kubectlCity, r.dir, r.mins); err != nil {
		return bench.Result{}, err
	}
	res := bench.Result{N: n, City: city.Stats, Nodes: r.nodes}
	for rep := 1; rep <= b.repeat; rep++ {
		r.rep = rep
		var run bench.Run
		run.Floor.Progress = bench.FloorSkipped
		if b.floor {
			if run.Floor, err = b.runFloor(ctx, r); err != nil {
				return res, fmt.Errorf("floor: %w", err)
			}
		}
		if run.Operator, err = b.runOperator(ctx, r); err != nil {
			return res, fmt.Errorf("operator: %w", err)
		}
		if run.Floor.Seconds != nil && run.Operator.Seconds != nil {
			run.Operator.Ratio = new(*run.Operator.Seconds / *run.Floor.Seconds)
		}
		res.Runs = append(res.Runs, run)
	}
	res.Median = bench.Median(res.Runs)
	return res, nil
}

// nodesFor sizes the cluster: enough fake nodes of hack/cluster's size for the city's pods and
// requests with headroom, a multiple of 3 (one per zone), at least 3.
func nodesFor(s citygen.Stats) int {
	mem := resource.MustParse(nodeMemory)
	need := math.Max(float64(s.Pods)/nodePods, math.Max(float64(s.CPUMilli)/1000/nodeCPU, float64(s.MemoryBytes)/float64(mem.Value())))
	n := int(math.Ceil(need * headroom))
	return max(3, (n+2)/3*3)
}

func writeReport(path string, r *bench.Report) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func printReport(r *bench.Report) {
	fmt.Printf("\nsmartcity-operator %s%s on %d CPUs; medians of %d run(s) per N; floor and operator each on a fresh cluster\n\n",
		shortCommit(r.Commit), map[bool]string{true: " (dirty)", false: ""}[r.Dirty], r.Machine.CPUs, r.Settings.Repeat)
	fmt.Print(bench.Table(bench.Rows(r)))
	for _, res := range r.Results {
		o := res.Median.Operator
		fmt.Printf("\nN=%d: requests per minute at rest, by verb and resource:", res.N)
		if len(o.RestRequests) == 0 {
			fmt.Print(" none")
		}
		for _, k := range bench.SortedKeys(o.RestRequests) {
			fmt.Printf(" %s %.1f;", k, o.RestRequests[k])
		}
		fmt.Printf("\nN=%d: requests per minute at rest, by field manager (reads and Events apart):", res.N)
		if len(o.RestRequestsByManager) == 0 {
			fmt.Print(" none")
		}
		for _, k := range bench.SortedKeys(o.RestRequestsByManager) {
			fmt.Printf(" %s %.1f;", k, o.RestRequestsByManager[k])
		}
		fmt.Printf("\nN=%d: writes per service during convergence:", res.N)
		for _, k := range bench.SortedKeys(o.WritesPerServiceByKind) {
			fmt.Printf(" %s %.2f;", k, o.WritesPerServiceByKind[k])
		}
		fmt.Printf("\nN=%d: status writes per service during convergence, by field manager:", res.N)
		for _, k := range bench.SortedKeys(o.StatusWritesByManager) {
			fmt.Printf(" %s %.2f;", k, o.StatusWritesByManager[k])
		}
		fmt.Printf("\n%s", bench.Diagnosis(res))
		if o.CPUProfile != "" {
			fmt.Printf("\nN=%d: the operator's CPU profile: %s", res.N, o.CPUProfile)
		}
		if o.HeapProfile != "" {
			fmt.Printf("\nN=%d: the operator's heap profiles: %s (converged), %s (end of the rest)", res.N, o.HeapProfile, o.HeapRestProfile)
		}
		fmt.Println()
	}
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

func output(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var b bytes.Buffer
	cmd.Stdout = &b
	err := cmd.Run()
	return strings.TrimSpace(b.String()), err
}

// kubectl runs the project's kubectl (bin/ first on PATH) against a kubeconfig.
func (b *benchmark) kubectl(ctx context.Context, kubeconfig string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(b.root, "bin/kubectl"), append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kubectl %s failed: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return nil
}

func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	return strings.Join(strings.Fields(string(data))[:3], " ")
}

func memoryGiB() float64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var kb float64
	if _, err := fmt.Sscanf(string(data), "MemTotal: %f kB", &kb); err != nil {
		return 0
	}
	return math.Round(kb/1024/1024*10) / 10
}
