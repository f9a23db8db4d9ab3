package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	cityoptions "github.com/smartcity-io/smartcity-operator/internal/options"
)

const sampleCity = "../../config/samples"

func topology(name string) string {
	return filepath.Join("..", "..", "internal", "audit", "testdata", "topologies", name)
}

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want int
		// stdout or stderr must contain it
		contains string
	}{
		{"sample city is clean", []string{"audit", "-f", sampleCity}, exitOK, "no violations"},
		{"violations fail", []string{"audit", "-f", sampleCity, "-f", topology("foreign-allow-all"), "-o", "json"}, exitViolations, `"kind": "TooOpen"`},
		{"recursive folder", []string{"audit", "-R", "-f", sampleCity}, exitOK, "3 of 3 services verified"},
		{"missing file", []string{"audit", "-f", "does-not-exist"}, exitError, `the path "does-not-exist" does not exist`},
		{"unknown format", []string{"audit", "-f", sampleCity, "-o", "xml"}, exitError, "--output must be one of"},
		{"unknown flag", []string{"audit", "--bogus"}, exitError, "unknown flag"},
		{"unknown command", []string{"bogus"}, exitError, "unknown command"},
		{"no kubeconfig", []string{"audit", "--kubeconfig", filepath.Join(t.TempDir(), "none")}, exitError, "failed to load the kubeconfig"},
		{"bad operator flag", []string{"audit", "-f", sampleCity, "--gateway", "nope"}, exitError, "--gateway must be"},
		{"explain needs two peers", []string{"explain", "city-portal/portal"}, exitError, "explain needs FROM and TO"},
		{"explain an allowed flow", []string{"explain", "city-portal/portal", "city-identity/vneid", "-f", sampleCity}, exitOK, "ALLOWED"},
		{"explain a violation", []string{"explain", "{any-pod}", "city-identity/vneid", "--port", "22", "-f", sampleCity, "-f", topology("foreign-allow-all")},
			exitViolations, "allowed by NetworkPolicy city-identity/allow-all-ingress"},
		{"explain an unknown peer", []string{"explain", "nowhere/nothing", "city-identity/vneid", "-f", sampleCity}, exitError, "is not a service"},
		{"render needs files", []string{"render"}, exitError, "render needs manifests"},
		{"connectivity of the sample city", []string{"connectivity", "-f", sampleCity}, exitOK,
			"city-portal/portal[Deployment] => city-identity/vneid[Deployment] : TCP 8080\n"},
		{"connectivity as CSV", []string{"connectivity", "-f", sampleCity, "-o", "csv"}, exitOK,
			"src,dst,conn\n192.168.100.0-192.168.100.239,city-health/checkin[Deployment],TCP 8080\n"},
		{"connectivity with a foreign allow-all", []string{"connectivity", "-f", sampleCity, "-f", topology("foreign-allow-all")}, exitOK,
			"0.0.0.0-192.168.99.255 => city-identity/vneid[Deployment] : All Connections\n"},
		{"connectivity, unknown format", []string{"connectivity", "-f", sampleCity, "-o", "svg"}, exitError, "--output must be one of txt, json, csv, md, dot"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tc.args...)
			if code != tc.want {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.want, out, errOut)
			}
			if !strings.Contains(out+errOut, tc.contains) {
				t.Errorf("output does not contain %q\nstdout:\n%s\nstderr:\n%s", tc.contains, out, errOut)
			}
		})
	}
}

func TestAuditFromStdin(t *testing.T) {
	manifests := make([]string, 0, 5)
	for _, f := range []string{"namespaces.yaml", "platform_v1alpha1_networkzones.yaml", "platform_v1alpha1_publicservice_portal.yaml",
		"platform_v1alpha1_publicservice_vneid.yaml", "platform_v1alpha1_publicservice_checkin.yaml"} {
		manifests = append(manifests, "---\n"+readFile(t, filepath.Join(sampleCity, f)))
	}
	code, out, errOut := runCLI(t, strings.Join(manifests, "\n"), "audit", "-f", "-", "-o", "markdown")
	if code != exitOK || !strings.Contains(out, "**Verified**") {
		t.Errorf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func TestAuditSVG(t *testing.T) {
	code, out, errOut := runCLI(t, "", "audit", "-f", sampleCity, "-o", "svg")
	if code != exitOK || !strings.HasPrefix(out, "<?xml") || !strings.Contains(out, "</svg>") {
		t.Errorf("exit code %d, stdout starts %.80q\nstderr:\n%s", code, out, errOut)
	}
}

func TestRender(t *testing.T) {
	code, out, errOut := runCLI(t, "", "render", "-f", sampleCity)
	if code != exitOK {
		t.Fatalf("exit code %d\nstderr:\n%s", code, errOut)
	}
	kinds := make([]string, 0, 19)
	for doc := range strings.SplitSeq(out, "\n---\n") {
		var obj struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name, Namespace string
				OwnerReferences []map[string]any `json:"ownerReferences"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("document is not YAML: %v\n%s", err, doc)
		}
		if obj.APIVersion == "" || obj.Metadata.Namespace == "" || len(obj.Metadata.OwnerReferences) != 1 {
			t.Errorf("incomplete object: %+v", obj)
		}
		if _, ok := obj.Metadata.OwnerReferences[0]["uid"]; ok {
			t.Errorf("%s %s: owner reference with an empty uid", obj.Kind, obj.Metadata.Name)
		}
		kinds = append(kinds, obj.Kind+" "+obj.Metadata.Namespace+"/"+obj.Metadata.Name)
	}
	want := []string{"NetworkPolicy", "ServiceAccount", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"}
	if len(kinds) != 3*len(want)+1 || kinds[0] != "NetworkPolicy city-health/checkin" || kinds[len(kinds)-1] != "Ingress city-portal/portal" {
		t.Errorf("rendered %v", kinds)
	}

	code, out, _ = runCLI(t, "", "render", "-f", sampleCity, "-o", "json", "--gateway", "gateway-system/city")
	var list struct {
		Kind  string           `json:"kind"`
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); code != exitOK || err != nil || list.Kind != "List" || list.Items[len(list.Items)-1]["kind"] != "HTTPRoute" {
		t.Errorf("exit code %d, err %v, %s with %d items", code, err, list.Kind, len(list.Items))
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// The plugin takes the operator's render flags, with the operator's defaults: both binaries
// bind them with options.AddRenderFlags, and this checks that neither redefines one.
func TestRenderFlagsMatchTheOperator(t *testing.T) {
	renderFlags := pflag.NewFlagSet("render", pflag.ContinueOnError)
	cityoptions.AddRenderFlags(renderFlags, &cityoptions.Render{})
	operator := pflag.NewFlagSet("operator", pflag.ContinueOnError)
	cityoptions.AddManagerFlags(operator, &cityoptions.Manager{})
	plugin := newRootCommand(genericiooptions.NewTestIOStreamsDiscard()).PersistentFlags()

	n := 0
	renderFlags.VisitAll(func(want *pflag.Flag) {
		n++
		for bin, fs := range map[string]*pflag.FlagSet{"operator": operator, "kubectl city": plugin} {
			got := fs.Lookup(want.Name)
			if got == nil {
				t.Errorf("%s has no --%s", bin, want.Name)
				continue
			}
			if got.DefValue != want.DefValue || got.Value.Type() != want.Value.Type() {
				t.Errorf("%s --%s: %s default %q, want %s default %q", bin, want.Name, got.Value.Type(), got.DefValue,
					want.Value.Type(), want.DefValue)
			}
		}
	})
	if n != 6 {
		t.Errorf("%d render flags, want 6 (--gateway, --ingress-class, --ingress-controller-namespace, --dns-namespace, "+
			"--dns-pod-labels, --zone-service-type)", n)
	}
}
