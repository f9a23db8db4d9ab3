package chart

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
	appsv1 "k8s.io/api/apps/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/smartcity-io/smartcity-operator/internal/options"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

const (
	root      = "../.."
	chartDir  = root + "/charts/smartcity-operator"
	release   = "smartcity-operator"
	namespace = "smartcity-system"
)

// valueSets are the goldens' value files besides the defaults (testdata/values-<name>.yaml).
var valueSets = []string{"production", "minimal"}

// runHelm runs the helm binary of hack/ensure-bins.sh (bin/helm, or $LOCALBIN/helm) with a home
// of its own, and returns its stdout, or its stdout and stderr with the error.
func runHelm(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	bin := filepath.Join(root, "bin", "helm")
	if d := os.Getenv("LOCALBIN"); d != "" {
		bin = filepath.Join(d, "helm")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("no helm binary at %s: run `make helm` (hack/ensure-bins.sh helm) first: %v", bin, err)
	}
	home := t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return append(stdout.Bytes(), stderr.Bytes()...), err
	}
	return stdout.Bytes(), nil
}

// helm is runHelm that fails the test on an error.
func helm(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := runHelm(t, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// template renders the chart as `helm template smartcity-operator charts/smartcity-operator
// --namespace smartcity-system` with the value files, and more flags.
func template(t *testing.T, valueFiles []string, more ...string) []byte {
	t.Helper()
	args := []string{"template", release, chartDir, "--namespace", namespace}
	for _, f := range valueFiles {
		args = append(args, "--values", f)
	}
	return helm(t, append(args, more...)...)
}

func valueFile(name string) string { return filepath.Join("testdata", "values-"+name+".yaml") }

func TestLint(t *testing.T) {
	helm(t, "lint", "--strict", chartDir)
	for _, name := range valueSets {
		t.Run(name, func(t *testing.T) {
			helm(t, "lint", "--strict", chartDir, "--values", valueFile(name))
		})
	}
}

// TestTemplateGoldens: the defaults and each value set render as testdata/<name>.golden.yaml
// (make golden rewrites them). The CRDs are left out: TestDefaultsAreInstallYAML covers them.
func TestTemplateGoldens(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		testutil.Golden(t, filepath.Join("testdata", "defaults.golden.yaml"), template(t, nil))
	})
	for _, name := range valueSets {
		t.Run(name, func(t *testing.T) {
			testutil.Golden(t, filepath.Join("testdata", name+".golden.yaml"), template(t, []string{valueFile(name)}))
		})
	}
}

// TestServiceMonitorVerifiesTLS: a ServiceMonitor is refused without the metrics certificate it
// would verify, and never skips verification.
func TestServiceMonitorVerifiesTLS(t *testing.T) {
	out, err := runHelm(t, "template", release, chartDir, "--namespace", namespace, "--set", "metrics.serviceMonitor.enabled=true")
	if err == nil || !strings.Contains(string(out), "needs metrics.certSecret") {
		t.Errorf("a ServiceMonitor without metrics.certSecret rendered (err %v):\n%s", err, out)
	}
	got := template(t, []string{valueFile("production")})
	if bytes.Contains(got, []byte("insecureSkipVerify")) {
		t.Error("the chart renders insecureSkipVerify")
	}
	if !bytes.Contains(got, []byte("kind: ServiceMonitor")) {
		t.Error("the production values render no ServiceMonitor")
	}
}

// managerHelpFlags builds the manager (as make build does, without its ldflags) and returns the
// long flags its --help lists.
func managerHelpFlags(t *testing.T) []string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "manager")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build the manager: %v\n%s", err, out)
	}
	// pflag prints the usage on stderr and exits 0 for --help.
	out, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("manager --help: %v\n%s", err, out)
	}
	matches := regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z0-9-]+)`).FindAllStringSubmatch(string(out), -1)
	flags := make([]string, 0, len(matches))
	for _, m := range matches {
		flags = append(flags, m[1])
	}
	if len(flags) == 0 {
		t.Fatalf("no flag in the manager's --help:\n%s", out)
	}
	return flags
}

// notOperatorFlags are the manager's flags that are not the operator's own (the shared flag set):
// controller-runtime's kubeconfig (in-cluster, the ServiceAccount), logging and --version.
func notOperatorFlag(name string) bool {
	return name == "kubeconfig" || name == "version" || strings.HasPrefix(name, "zap-")
}

// flagValues: for every flag of the shared flag set, the chart value that sets it (a path in
// values.yaml), a value other than the default, and the argument it must give the manager.
var flagValues = map[string]struct {
	path  string
	value any
	arg   string
}{
	"metrics-bind-address":         {"metrics.port", 9443, "--metrics-bind-address=:9443"},
	"health-probe-bind-address":    {"health.port", 9081, "--health-probe-bind-address=:9081"},
	"metrics-secure":               {"metrics.secure", false, "--metrics-secure=false"},
	"enable-http2":                 {"metrics.enableHTTP2", true, "--enable-http2=true"},
	"leader-elect":                 {"leaderElection.enabled", true, "--leader-elect"},
	"leader-election-namespace":    {"leaderElection.namespace", "leases", "--leader-election-namespace=leases"},
	"cluster-domain":               {"operator.clusterDomain", "city.local", "--cluster-domain=city.local"},
	"verify-connectivity":          {"operator.verifyConnectivity", false, "--verify-connectivity=false"},
	"publicservice-concurrency":    {"operator.publicServiceConcurrency", 7, "--publicservice-concurrency=7"},
	"networkzone-concurrency":      {"operator.networkZoneConcurrency", 5, "--networkzone-concurrency=5"},
	"connectivity-concurrency":     {"operator.connectivityConcurrency", 3, "--connectivity-concurrency=3"},
	"first-render-hold":            {"operator.firstRenderHold", "5m", "--first-render-hold=5m"},
	"pprof-bind-address":           {"operator.pprofBindAddress", "127.0.0.1:6060", "--pprof-bind-address=127.0.0.1:6060"},
	"gateway":                      {"operator.gateway", "gw/public", "--gateway=gw/public"},
	"ingress-class":                {"operator.ingressClass", "nginx", "--ingress-class=nginx"},
	"ingress-controller-namespace": {"operator.ingressControllerNamespace", "ingress", "--ingress-controller-namespace=ingress"},
	"dns-namespace":                {"operator.dnsNamespace", "dns", "--dns-namespace=dns"},
	"dns-pod-labels":               {"operator.dnsPodLabels", map[string]any{"b": "2", "a": "1"}, "--dns-pod-labels=a=1,b=2"},
	"zone-service-type":            {"operator.zoneServiceType", "NodePort", "--zone-service-type=NodePort"},
}

// TestEveryFlagHasAValue: every flag of the manager's --help is the shared flag set's
// (internal/options) or one the chart leaves out on purpose; each of the shared set has a chart
// value, and setting it gives the manager that argument.
func TestEveryFlagHasAValue(t *testing.T) {
	var shared []string
	fs := pflag.NewFlagSet("shared", pflag.ContinueOnError)
	options.AddManagerFlags(fs, &options.Manager{})
	fs.VisitAll(func(f *pflag.Flag) { shared = append(shared, f.Name) })

	var help []string
	for _, f := range managerHelpFlags(t) {
		if !notOperatorFlag(f) {
			help = append(help, f)
		}
	}
	slices.Sort(help)
	slices.Sort(shared)
	if diff := cmp.Diff(shared, help); diff != "" {
		t.Fatalf("the manager's --help (less kubeconfig, zap-*, version) differs from internal/options' flag set (-shared +help):\n%s", diff)
	}

	values := map[string]any{}
	for _, name := range shared {
		fv, ok := flagValues[name]
		if !ok {
			t.Errorf("--%s has no chart value: add one to charts/smartcity-operator/values.yaml and the Deployment, and to flagValues", name)
			continue
		}
		setPath(values, fv.path, fv.value)
	}
	for name := range flagValues {
		if !slices.Contains(shared, name) {
			t.Errorf("flagValues names --%s, which the manager does not have", name)
		}
	}
	raw, err := yaml.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	args := deployment(t, template(t, []string{file})).Spec.Template.Spec.Containers[0].Args
	for _, name := range shared {
		if fv, ok := flagValues[name]; ok && !slices.Contains(args, fv.arg) {
			t.Errorf("%s=%v does not give the manager %s; its args: %v", fv.path, fv.value, fv.arg, args)
		}
	}
}

// setPath sets a dotted path in nested maps.
func setPath(m map[string]any, path string, value any) {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = value
}

// deployment returns the one Deployment of a rendering.
func deployment(t *testing.T, rendered []byte) appsv1.Deployment {
	t.Helper()
	var found []appsv1.Deployment
	for _, obj := range objects(t, rendered) {
		if obj["kind"] == "Deployment" {
			raw, _ := yaml.Marshal(obj)
			var d appsv1.Deployment
			if err := yaml.UnmarshalStrict(raw, &d); err != nil {
				t.Fatal(err)
			}
			found = append(found, d)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d Deployments rendered, want 1", len(found))
	}
	return found[0]
}

// objects splits a multi-document YAML stream into objects (empty documents left out).
func objects(t *testing.T, stream []byte) []map[string]any {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufioReader(stream))
	var objs []map[string]any
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return objs
		}
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		if len(obj) > 0 {
			objs = append(objs, obj)
		}
	}
}

// helmLabels are the labels the chart adds and install.yaml has not (install.yaml's
// app.kubernetes.io/managed-by says kustomize).
var helmLabels = []string{"helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance", "app.kubernetes.io/version"}

// key names an object: kind, namespace and name.
func key(obj map[string]any) string {
	md, _ := obj["metadata"].(map[string]any)
	return fmt.Sprintf("%v %v/%v", obj["kind"], md["namespace"], md["name"])
}

// withoutHelmLabels drops helmLabels from an object's labels (and the labels when none is left).
func withoutHelmLabels(obj map[string]any) map[string]any {
	md, _ := obj["metadata"].(map[string]any)
	if l, ok := md["labels"].(map[string]any); ok {
		for _, k := range helmLabels {
			delete(l, k)
		}
		if len(l) == 0 {
			delete(md, "labels")
		}
	}
	return obj
}

// TestDefaultsAreInstallYAML: `helm template smartcity-operator charts/smartcity-operator
// --namespace smartcity-system --include-crds` renders the objects of install.yaml for the
// chart's image, apart from Helm's labels and the Namespace, which `helm install
// --create-namespace` (or the user) creates.
func TestDefaultsAreInstallYAML(t *testing.T) {
	chart := objects(t, template(t, nil, "--include-crds"))
	img := deployment(t, template(t, nil)).Spec.Template.Spec.Containers[0].Image
	cmd := exec.Command(filepath.Join(root, "hack", "render-config.sh"), img)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/render-config.sh %s: %v\n%s", img, err, stderr.String())
	}
	want := map[string]map[string]any{}
	for _, obj := range objects(t, out) {
		if obj["kind"] == "Namespace" {
			continue
		}
		want[key(obj)] = withoutHelmLabels(obj)
	}
	got := map[string]map[string]any{}
	for _, obj := range chart {
		got[key(obj)] = withoutHelmLabels(obj)
	}
	if len(want) < 10 {
		t.Fatalf("install.yaml has only %d objects besides the Namespace", len(want))
	}
	wantKeys, gotKeys := slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(got))
	if diff := cmp.Diff(wantKeys, gotKeys); diff != "" {
		t.Errorf("the chart's defaults render other objects than install.yaml (-install.yaml +chart):\n%s", diff)
	}
	for _, k := range wantKeys {
		if g, ok := got[k]; ok {
			if diff := cmp.Diff(want[k], g); diff != "" {
				t.Errorf("%s differs from install.yaml's (-install.yaml +chart):\n%s", k, diff)
			}
		}
	}
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// TestPrometheusRule: the chart's PrometheusRule, off by default, carries the example alerts of
// config/prometheus/rule.yaml (the envtest metrics spec checks those against a scrape), and
// none without metrics.
func TestPrometheusRule(t *testing.T) {
	rules := func(rendered []byte) []map[string]any {
		var out []map[string]any
		for _, obj := range objects(t, rendered) {
			if obj["kind"] == "PrometheusRule" {
				out = append(out, obj)
			}
		}
		return out
	}
	if n := len(rules(template(t, nil))); n != 0 {
		t.Errorf("the defaults render %d PrometheusRules, want none", n)
	}
	if n := len(rules(template(t, []string{valueFile("production")}, "--set", "metrics.enabled=false"))); n != 0 {
		t.Errorf("without metrics, %d PrometheusRules, want none", n)
	}
	got := rules(template(t, []string{valueFile("production")}))
	if len(got) != 1 {
		t.Fatalf("the production values render %d PrometheusRules, want 1", len(got))
	}
	raw, err := os.ReadFile(filepath.Join(root, "config", "prometheus", "rule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := yaml.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want["spec"], got[0]["spec"]); diff != "" {
		t.Errorf("the chart's alerts differ from config/prometheus/rule.yaml's (-config +chart):\n%s", diff)
	}
}
