package gitops

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
	"github.com/google/go-cmp/cmp"
	lua "github.com/yuin/gopher-lua"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

// The health an Argo CD health check returns, and the status Flux computes.
const (
	healthy     = "Healthy"
	progressing = "Progressing"
	degraded    = "Degraded"

	fluxCurrent    = "Current"
	fluxFailed     = "Failed"
	fluxInProgress = "InProgress"
	// fluxError: an expression could not be evaluated (no status yet); Flux keeps waiting.
	fluxError = "error"
)

// kinds are the operator's kinds that have a health check, as Argo CD names them (group/kind).
var kinds = []string{"PublicService", "NetworkZone"}

const group = "platform.smartcity.io"

// healthCase is one sample status and what each tool makes of it.
type healthCase struct {
	name    string
	obj     runtime.Object
	health  string
	message string
	flux    string
}

// cond builds a condition; observed is its observedGeneration (0: unset).
func cond(typ string, status metav1.ConditionStatus, reason, message string, observed int64) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message, ObservedGeneration: observed,
		LastTransitionTime: metav1.Unix(1_700_000_000, 0)}
}

// service is a PublicService of generation 2 whose status observed generation observed, with
// conditions; without conditions and observed 0 it has no status at all.
func service(observed int64, conditions ...metav1.Condition) *platformv1alpha1.PublicService {
	return &platformv1alpha1.PublicService{
		TypeMeta:   metav1.TypeMeta{APIVersion: platformv1alpha1.GroupVersion.String(), Kind: "PublicService"},
		ObjectMeta: metav1.ObjectMeta{Name: "vneid", Namespace: "city-identity", Generation: 2},
		Spec:       platformv1alpha1.PublicServiceSpec{Profile: platformv1alpha1.ProfileIdentityVerification, Image: "registry.example/vneid:1.0"},
		Status:     platformv1alpha1.PublicServiceStatus{ObservedGeneration: observed, Conditions: conditions},
	}
}

// zone is a NetworkZone of generation 2, like service.
func zone(observed int64, conditions ...metav1.Condition) *platformv1alpha1.NetworkZone {
	return &platformv1alpha1.NetworkZone{
		TypeMeta:   metav1.TypeMeta{APIVersion: platformv1alpha1.GroupVersion.String(), Kind: "NetworkZone"},
		ObjectMeta: metav1.ObjectMeta{Name: "hospital-lan", Generation: 2},
		Spec:       platformv1alpha1.NetworkZoneSpec{CIDRs: []string{"192.168.100.0/24"}},
		Status:     platformv1alpha1.NetworkZoneStatus{ObservedGeneration: observed, Conditions: conditions},
	}
}

const (
	T = metav1.ConditionTrue
	F = metav1.ConditionFalse
	U = metav1.ConditionUnknown
)

var (
	available = cond(platformv1alpha1.ConditionAvailable, T, platformv1alpha1.ReasonDeploymentAvailable, "3 of 3 pods ready", 2)
	isolated  = cond(platformv1alpha1.ConditionNetworkIsolated, T, platformv1alpha1.ReasonPolicyApplied, "NetworkPolicy applied", 2)
	satisfied = cond(platformv1alpha1.ConditionDependenciesSatisfied, T, platformv1alpha1.ReasonDependenciesSatisfied, "no dependency", 2)
	ready     = cond(platformv1alpha1.ConditionReady, T, platformv1alpha1.ReasonReady, "Available, NetworkIsolated and DependenciesSatisfied", 2)
	notReady  = cond(platformv1alpha1.ConditionReady, F, platformv1alpha1.ReasonNotReady, "Available is False", 2)
	verified  = cond(platformv1alpha1.ConditionConnectivityVerified, T, platformv1alpha1.ReasonEffectiveMatchesIntent,
		"effective connectivity matches the intent", 2)
	zoneInUse   = cond(platformv1alpha1.ConditionZoneAccepted, T, platformv1alpha1.ReasonZoneAccepted, "used by 2 service(s)", 2)
	zoneRefuses = cond(platformv1alpha1.ConditionZoneAccepted, T, platformv1alpha1.ReasonZoneRefusedReferences,
		"used by 1 service(s); refused 1: city-portal/portal: spec.allowedNamespaces does not select their namespaces", 2)
)

var healthCases = []healthCase{
	{"a new service: no status yet", service(0), progressing, "Waiting for the operator to reconcile the service", fluxError},
	{"a status of the previous generation", service(1, available, isolated, satisfied, ready), progressing,
		"Waiting for the operator to observe generation 2", fluxInProgress},
	{"pods starting", service(2,
		cond(platformv1alpha1.ConditionAvailable, F, platformv1alpha1.ReasonDeploymentProgressing, "1 of 3 pods ready", 2),
		isolated, satisfied, notReady), progressing, "Ready: Available is False", fluxInProgress},
	{"a part of Ready not reached yet", service(2, available,
		cond(platformv1alpha1.ConditionNetworkIsolated, U, platformv1alpha1.ReasonWaiting, "waiting for the dependencies step", 2),
		satisfied, cond(platformv1alpha1.ConditionReady, U, platformv1alpha1.ReasonWaiting, "NetworkIsolated is Unknown", 2)),
		progressing, "Ready: NetworkIsolated is Unknown", fluxInProgress},
	{"observed, but Ready not written yet", service(2, available), progressing, "Waiting for the Ready condition", fluxInProgress},
	{"ready and verified", service(2, available, isolated, satisfied, ready, verified), healthy,
		"Ready: Available, NetworkIsolated and DependenciesSatisfied", fluxCurrent},
	{"ready, connectivity not verified yet", service(2, available, isolated, satisfied, ready), healthy,
		"Ready: Available, NetworkIsolated and DependenciesSatisfied", fluxCurrent},
	{"a condition without a message names its reason", service(2, available, isolated, satisfied,
		cond(platformv1alpha1.ConditionReady, T, platformv1alpha1.ReasonReady, "", 2)), healthy, "Ready: Ready", fluxCurrent},
	{"pods failing", service(2,
		cond(platformv1alpha1.ConditionAvailable, F, platformv1alpha1.ReasonPodsFailing, "0 of 3 pods ready: ImagePullBackOff", 2),
		isolated, satisfied, notReady), degraded, "Available: 0 of 3 pods ready: ImagePullBackOff", fluxFailed},
	{"the NetworkPolicy's name is taken", service(2, available,
		cond(platformv1alpha1.ConditionNetworkIsolated, F, platformv1alpha1.ReasonNameConflict, "NetworkPolicy vneid exists and belongs to someone else", 2),
		satisfied, notReady), degraded, "NetworkIsolated: NetworkPolicy vneid exists and belongs to someone else", fluxFailed},
	{"a provider does not consent", service(2, available, isolated,
		cond(platformv1alpha1.ConditionDependenciesSatisfied, F, platformv1alpha1.ReasonConsentMissing, "city-population/registry does not admit this service", 2),
		notReady), degraded, "DependenciesSatisfied: city-population/registry does not admit this service", fluxFailed},
	{"ready, but the effective connectivity differs from the intent", service(2, available, isolated, satisfied, ready,
		cond(platformv1alpha1.ConditionConnectivityVerified, F, platformv1alpha1.ReasonConnectivityMismatch,
			"1 flow allowed but not declared: {any-pod} -> vneid:8080", 2)),
		degraded, "ConnectivityVerified: 1 flow allowed but not declared: {any-pod} -> vneid:8080", fluxFailed},
	{"a mismatch found in the previous generation does not count", service(2, available, isolated, satisfied, ready,
		cond(platformv1alpha1.ConditionConnectivityVerified, F, platformv1alpha1.ReasonConnectivityMismatch, "1 flow allowed but not declared", 1)),
		healthy, "Ready: Available, NetworkIsolated and DependenciesSatisfied", fluxCurrent},

	{"a new zone: no status yet", zone(0), progressing, "Waiting for the operator to reconcile the zone", fluxError},
	{"a zone status of the previous generation", zone(1, zoneInUse), progressing, "Waiting for the operator to observe generation 2", fluxInProgress},
	{"a zone in use", zone(2, zoneInUse), healthy, "Accepted: used by 2 service(s)", fluxCurrent},
	{"a zone that refuses services is healthy itself", zone(2, zoneRefuses), healthy, "Accepted: " + zoneRefuses.Message, fluxCurrent},
	{"a zone not accepted", zone(2, cond(platformv1alpha1.ConditionZoneAccepted, F, "Invalid", "cidrs overlap", 2)), degraded,
		"Accepted: cidrs overlap", fluxFailed},
	{"a zone being evaluated", zone(2, cond(platformv1alpha1.ConditionZoneAccepted, U, "Evaluating", "", 2)), progressing,
		"Accepted: Evaluating", fluxInProgress},
	{"observed, but Accepted not written yet", zone(2), progressing, "Waiting for the Accepted condition", fluxInProgress},
}

// TestHealth runs the Argo CD health check and the Flux expressions of each sample's kind on it.
func TestHealth(t *testing.T) {
	scripts := map[string]string{}
	for _, k := range kinds {
		scripts[k] = readFile(t, luaPath(k))
	}
	flux := fluxChecks(t)
	for _, tc := range healthCases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			if st, _, _ := unstructured.NestedMap(u, "status"); len(st) == 0 {
				delete(u, "status") // as the API server serves an object nobody wrote a status for
			}
			kind := (&unstructured.Unstructured{Object: u}).GetKind()
			health, message := runLua(t, scripts[kind], u)
			if health != tc.health || message != tc.message {
				t.Errorf("Argo CD health check: got %s %q, want %s %q", health, message, tc.health, tc.message)
			}
			if got := flux[kind].evaluate(t, u); got != tc.flux {
				t.Errorf("Flux healthCheckExprs: got %s, want %s", got, tc.flux)
			}
		})
	}
}

// TestArgoCDConfigMap checks that argocd-cm.yaml installs exactly the scripts of this folder.
func TestArgoCDConfigMap(t *testing.T) {
	cm := &corev1.ConfigMap{}
	if err := yaml.UnmarshalStrict([]byte(readFile(t, filepath.Join("argocd", "argocd-cm.yaml"))), cm); err != nil {
		t.Fatal(err)
	}
	if cm.Name != "argocd-cm" || cm.Namespace != "argocd" {
		t.Errorf("argocd-cm.yaml is ConfigMap %s/%s, want argocd/argocd-cm", cm.Namespace, cm.Name)
	}
	want := map[string]string{}
	for _, k := range kinds {
		want["resource.customizations.health."+group+"_"+k] = readFile(t, luaPath(k))
	}
	if diff := cmp.Diff(want, cm.Data); diff != "" {
		t.Errorf("argocd-cm.yaml differs from argocd/%s/<Kind>/health.lua (-scripts +argocd-cm.yaml):\n%s", group, diff)
	}
}

func luaPath(kind string) string { return filepath.Join("argocd", group, kind, "health.lua") }

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// runLua runs an Argo CD health script as Argo CD does: obj is the object, the script returns
// a table with status and message.
func runLua(t *testing.T, script string, obj map[string]any) (string, string) {
	t.Helper()
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(script); err != nil {
		t.Fatalf("the health script failed: %v", err)
	}
	hs, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("the health script returned %s, want a table", L.Get(-1).Type())
	}
	return lua.LVAsString(hs.RawGetString("status")), lua.LVAsString(hs.RawGetString("message"))
}

// toLua converts a value of an unstructured object into Lua: maps and lists become tables.
func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := L.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range v {
			t.Append(toLua(L, e))
		}
		return t
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case nil:
		return lua.LNil
	}
	panic(fmt.Sprintf("toLua: unexpected %T", v))
}

// fluxCheck is one entry of healthCheckExprs, parsed.
type fluxCheck struct {
	inProgress, failed, current cel.Program
}

// fluxChecks reads the healthCheckExprs of flux/kustomization.flux.yaml, by kind, parsed as
// kustomize-controller parses them (not type-checked: the object is dynamic).
func fluxChecks(t *testing.T) map[string]fluxCheck {
	t.Helper()
	var k struct {
		Spec struct {
			HealthCheckExprs []struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				InProgress string `json:"inProgress"`
				Failed     string `json:"failed"`
				Current    string `json:"current"`
			} `json:"healthCheckExprs"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join("flux", "kustomization.flux.yaml"))), &k); err != nil {
		t.Fatal(err)
	}
	env, err := cel.NewEnv(cel.HomogeneousAggregateLiterals(), cel.EagerlyValidateDeclarations(true),
		cel.DefaultUTCTimeZone(true), cel.CrossTypeNumericComparisons(true), cel.OptionalTypes(),
		ext.Strings(), ext.Sets(), ext.Encoders())
	if err != nil {
		t.Fatal(err)
	}
	parse := func(expr string) cel.Program {
		if strings.TrimSpace(expr) == "" {
			return nil
		}
		ast, iss := env.Parse(expr)
		if iss.Err() != nil {
			t.Fatalf("%s: %v", expr, iss.Err())
		}
		p, err := env.Program(ast)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	checks := map[string]fluxCheck{}
	for _, e := range k.Spec.HealthCheckExprs {
		if e.APIVersion != platformv1alpha1.GroupVersion.String() {
			t.Errorf("healthCheckExprs for %s %s: want apiVersion %s", e.APIVersion, e.Kind, platformv1alpha1.GroupVersion)
		}
		if e.Current == "" {
			t.Errorf("healthCheckExprs for %s: current is required", e.Kind)
		}
		checks[e.Kind] = fluxCheck{inProgress: parse(e.InProgress), failed: parse(e.Failed), current: parse(e.Current)}
	}
	for _, kind := range kinds {
		if _, ok := checks[kind]; !ok {
			t.Errorf("flux/kustomization.flux.yaml has no healthCheckExprs for %s", kind)
		}
	}
	return checks
}

// evaluate computes the status as kustomize-controller does: in progress while
// status.observedGeneration differs from metadata.generation; then the first of inProgress,
// failed and current that is true; in progress when none is.
func (c fluxCheck) evaluate(t *testing.T, obj map[string]any) string {
	t.Helper()
	observed, ok, _ := unstructured.NestedInt64(obj, "status", "observedGeneration")
	if generation, _, _ := unstructured.NestedInt64(obj, "metadata", "generation"); ok && observed != generation {
		return fluxInProgress
	}
	for _, e := range []struct {
		prog   cel.Program
		status string
	}{{c.inProgress, fluxInProgress}, {c.failed, fluxFailed}, {c.current, fluxCurrent}} {
		if e.prog == nil {
			continue
		}
		v, _, err := e.prog.Eval(obj)
		if err != nil {
			return fluxError
		}
		if b, ok := v.(types.Bool); !ok {
			t.Fatalf("an expression returned %v, want a bool", v)
		} else if b {
			return e.status
		}
	}
	return fluxInProgress
}
