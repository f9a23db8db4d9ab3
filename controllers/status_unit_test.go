package controllers

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// Plain table tests of the pure status functions; the envtest specs check them end to end.

func TestDependencies(t *testing.T) {
	cases := []struct {
		name       string
		problems   []intent.Problem
		wantStatus metav1.ConditionStatus
		wantReason string
		wantMsg    string
	}{
		{"none", nil, metav1.ConditionTrue, platformv1alpha1.ReasonDependenciesSatisfied,
			"every consumed service and referenced zone exists and consents"},
		{"consent only", []intent.Problem{{Reason: platformv1alpha1.ReasonConsentMissing, Message: "a"}},
			metav1.ConditionFalse, platformv1alpha1.ReasonConsentMissing, "a; the rules for these are left out of the NetworkPolicy"},
		{"not found wins over consent and zones", []intent.Problem{
			{Reason: platformv1alpha1.ReasonConsentMissing, Message: "a"},
			{Reason: platformv1alpha1.ReasonDependencyNotFound, Message: "b"},
			{Reason: platformv1alpha1.ReasonZoneNotAllowed, Message: "c"},
		}, metav1.ConditionFalse, platformv1alpha1.ReasonDependencyNotFound, "a; b; c; the rules for these are left out of the NetworkPolicy"},
		{"at most three problems named, and the count", []intent.Problem{
			{Reason: platformv1alpha1.ReasonConsentMissing, Message: "a"},
			{Reason: platformv1alpha1.ReasonConsentMissing, Message: "b"},
			{Reason: platformv1alpha1.ReasonConsentMissing, Message: "c"},
			{Reason: platformv1alpha1.ReasonConsentMissing, Message: "d"},
			{Reason: platformv1alpha1.ReasonConsentMissing, Message: "e"},
		}, metav1.ConditionFalse, platformv1alpha1.ReasonConsentMissing, "a; b; c; and 2 more (5 problems); the rules for these are left out of the NetworkPolicy"},
		{"zone not found before zone not allowed", []intent.Problem{
			{Reason: platformv1alpha1.ReasonZoneNotAllowed, Message: "c"},
			{Reason: platformv1alpha1.ReasonZoneNotFound, Message: "d"},
		}, metav1.ConditionFalse, platformv1alpha1.ReasonZoneNotFound, "c; d; the rules for these are left out of the NetworkPolicy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, reason, msg := dependencies(intent.Resolved{Problems: tc.problems})
			if diff := cmp.Diff([]string{string(tc.wantStatus), tc.wantReason, tc.wantMsg}, []string{string(status), reason, msg}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// cond builds a condition for table tests; generation and transition time are not compared.
func cond(typ string, status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message}
}

// findCondition returns the condition of type typ, failing the test when there is none.
func findCondition(t *testing.T, conds []metav1.Condition, typ string) metav1.Condition {
	t.Helper()
	c := meta.FindStatusCondition(conds, typ)
	if c == nil {
		t.Fatalf("no %s condition in %+v", typ, conds)
	}
	return *c
}

// ignoreTimes leaves out what the table does not set: transition times and generations.
var ignoreTimes = cmpopts.IgnoreFields(metav1.Condition{}, "LastTransitionTime", "ObservedGeneration")

func TestSetReady(t *testing.T) {
	available := cond(platformv1alpha1.ConditionAvailable, metav1.ConditionTrue, platformv1alpha1.ReasonDeploymentAvailable, "m")
	isolated := cond(platformv1alpha1.ConditionNetworkIsolated, metav1.ConditionTrue, platformv1alpha1.ReasonPolicyApplied, "m")
	satisfied := cond(platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionTrue, platformv1alpha1.ReasonDependenciesSatisfied, "m")
	cases := []struct {
		name       string
		conds      []metav1.Condition
		wantStatus metav1.ConditionStatus
		wantMsg    string
	}{
		{"all three true", []metav1.Condition{available, isolated, satisfied}, metav1.ConditionTrue,
			"available, network policy applied, dependencies satisfied"},
		{"consent missing", []metav1.Condition{available, isolated,
			cond(platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionFalse, platformv1alpha1.ReasonConsentMissing, "m")},
			metav1.ConditionFalse, "DependenciesSatisfied=False (ConsentMissing: m)"},
		{"one missing, one unknown", []metav1.Condition{isolated,
			cond(platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionUnknown, platformv1alpha1.ReasonWaiting, "m")},
			metav1.ConditionFalse, "Available=Unknown; DependenciesSatisfied=Unknown (Waiting: m)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &platformv1alpha1.PublicServiceStatus{Conditions: tc.conds}
			setReady(st, 4)
			got := findCondition(t, st.Conditions, platformv1alpha1.ConditionReady)
			if got.Status != tc.wantStatus || got.Message != tc.wantMsg || got.ObservedGeneration != 4 {
				t.Errorf("Ready = %+v, want status %s message %q generation 4", got, tc.wantStatus, tc.wantMsg)
			}
		})
	}
}

const (
	stoppedByPolicy = "NetworkPolicy name conflict: no pods are created without the policy"
	stoppedByError  = "the service account step failed; the error is in a Warning event"
)

// invalidErr is what the API server answers to an invalid object.
var invalidErr = apierrors.NewInvalid(schema.GroupKind{Kind: "Deployment"}, "forms", field.ErrorList{
	field.Invalid(field.NewPath("spec", "replicas"), -1, "must be greater than or equal to 0")})

// forbiddenErr is an API error whose text must not reach a condition.
var forbiddenErr = apierrors.NewForbidden(schema.GroupResource{Resource: "deployments"}, "forms", errors.New("secret detail"))

func deploymentWith(replicas, ready int32) *appsv1.Deployment {
	return &appsv1.Deployment{Status: appsv1.DeploymentStatus{Replicas: replicas, ReadyReplicas: ready}}
}

// conditionCase is one row of a table test of a set function: what a reconcile observed, and
// the condition it must give.
type conditionCase struct {
	name string
	obs  observations
	want metav1.Condition
}

// testCondition runs set on a status holding prev, for every case, and compares the
// condition of type want.Type.
func testCondition(t *testing.T, cases []conditionCase, prev []metav1.Condition,
	set func(*platformv1alpha1.PublicServiceStatus, *observations)) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &platformv1alpha1.PublicServiceStatus{Conditions: slices.Clone(prev)}
			set(st, &tc.obs)
			if diff := cmp.Diff(tc.want, findCondition(t, st.Conditions, tc.want.Type), ignoreTimes); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.want.Type, diff)
			}
		})
	}
}

func TestSetAvailable(t *testing.T) {
	const typ = platformv1alpha1.ConditionAvailable
	cases := []conditionCase{
		{"enough pods ready", observations{availability: true, deployment: deploymentWith(3, 2)},
			cond(typ, metav1.ConditionTrue, platformv1alpha1.ReasonDeploymentAvailable, "2 of 3 pods ready (replicas.min 2)")},
		{"pods starting", observations{availability: true, deployment: deploymentWith(2, 1)},
			cond(typ, metav1.ConditionFalse, platformv1alpha1.ReasonDeploymentProgressing, "1 of 2 pods ready, replicas.min is 2")},
		{"pods failing", observations{availability: true, deployment: deploymentWith(2, 0), podFailure: "pod p: container app: ImagePullBackOff: x"},
			cond(typ, metav1.ConditionFalse, platformv1alpha1.ReasonPodsFailing, "pod p: container app: ImagePullBackOff: x")},
		{"a child's name is taken", observations{stopped: "Deployment name conflict",
			child: &childApply{kind: "Deployment", err: &conflictError{kind: "Deployment", key: key("ns", "forms")}}},
			cond(typ, metav1.ConditionFalse, platformv1alpha1.ReasonNameConflict,
				"Deployment ns/forms already exists and is not owned by this PublicService; the operator never takes it over: rename or delete it")},
		{"an API error names the kind, not the error", observations{stopped: stoppedByError,
			child: &childApply{kind: "ServiceAccount", err: &applyError{kind: "ServiceAccount", err: forbiddenErr}}},
			cond(typ, metav1.ConditionFalse, platformv1alpha1.ReasonApplyFailed, "failed to apply the ServiceAccount; the error is in a Warning event")},
		{"an invalid child names the fields to change", observations{stopped: stoppedByError,
			child: &childApply{kind: "Deployment", err: reconcile.TerminalError(&applyError{kind: "Deployment", err: invalidErr})}},
			cond(typ, metav1.ConditionFalse, platformv1alpha1.ReasonApplyFailed,
				"the API server rejected the Deployment as invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0")},
		{"not observed: the NetworkPolicy step stopped", observations{stopped: stoppedByPolicy, resolved: true},
			cond(typ, metav1.ConditionUnknown, platformv1alpha1.ReasonWaiting, "not evaluated: "+stoppedByPolicy)},
		{"not observed: a step failed", observations{stopped: stoppedByError},
			cond(typ, metav1.ConditionUnknown, platformv1alpha1.ReasonWaiting, "not evaluated: "+stoppedByError)},
	}
	testCondition(t, cases, nil,
		func(st *platformv1alpha1.PublicServiceStatus, o *observations) { setAvailable(st, 1, 2, o) })
}

func TestSetNetworkIsolated(t *testing.T) {
	const typ = platformv1alpha1.ConditionNetworkIsolated
	flows := intent.Resolved{IngressServices: []intent.ServicePeer{{Namespace: "a", Name: "x"}}, IngressGateway: true}
	cases := []conditionCase{
		{"applied", observations{resolved: true, flows: flows, policy: &childApply{kind: "NetworkPolicy"}},
			cond(typ, metav1.ConditionTrue, platformv1alpha1.ReasonPolicyApplied, policySummary(flows))},
		{"name taken", observations{stopped: stoppedByPolicy,
			policy: &childApply{kind: "NetworkPolicy", err: &conflictError{kind: "NetworkPolicy", key: key("ns", "forms")}}},
			cond(typ, metav1.ConditionFalse, platformv1alpha1.ReasonNameConflict,
				"NetworkPolicy ns/forms already exists and is not owned by this PublicService; the operator never takes it over: rename or delete it")},
		{"an API error names the kind, not the error", observations{stopped: "the network policy step failed",
			policy: &childApply{kind: "NetworkPolicy", err: &applyError{kind: "NetworkPolicy", err: forbiddenErr}}},
			cond(typ, metav1.ConditionFalse, platformv1alpha1.ReasonApplyFailed, "failed to apply the NetworkPolicy; the error is in a Warning event")},
		{"not observed: resolving the intent failed", observations{stopped: "the resolve intent step failed"},
			cond(typ, metav1.ConditionUnknown, platformv1alpha1.ReasonWaiting, "not evaluated: the resolve intent step failed")},
	}
	testCondition(t, cases, nil,
		func(st *platformv1alpha1.PublicServiceStatus, o *observations) { setNetworkIsolated(st, 1, o) })
}

func TestSetDependenciesSatisfied(t *testing.T) {
	const typ = platformv1alpha1.ConditionDependenciesSatisfied
	cases := []conditionCase{
		{"resolved", observations{resolved: true},
			cond(typ, metav1.ConditionTrue, platformv1alpha1.ReasonDependenciesSatisfied, "every consumed service and referenced zone exists and consents")},
		{"resolved with a problem", observations{resolved: true, flows: intent.Resolved{Problems: []intent.Problem{
			{Reason: platformv1alpha1.ReasonZoneNotFound, Message: "zone lan does not exist"}}}},
			cond(typ, metav1.ConditionFalse, platformv1alpha1.ReasonZoneNotFound,
				"zone lan does not exist; the rules for these are left out of the NetworkPolicy")},
		{"not observed: resolving the intent failed", observations{stopped: "the resolve intent step failed; the error is in a Warning event"},
			cond(typ, metav1.ConditionUnknown, platformv1alpha1.ReasonWaiting,
				"not evaluated: the resolve intent step failed; the error is in a Warning event")},
	}
	testCondition(t, cases, nil,
		func(st *platformv1alpha1.PublicServiceStatus, o *observations) { setDependenciesSatisfied(st, 1, o) })
}

// TestComputeStatus checks the fields beside the conditions, and that a stopped reconcile
// marks every part of Ready it did not reach.
func TestComputeStatus(t *testing.T) {
	svc := testutil.PublicService("forms", "ns").Obj()
	spec := svc.Effective()
	prev := &platformv1alpha1.PublicServiceStatus{Endpoint: "forms.ns.svc.cluster.local:8080", Replicas: 2, ReadyReplicas: 2,
		Conditions: []metav1.Condition{cond(platformv1alpha1.ConditionAvailable, metav1.ConditionTrue, platformv1alpha1.ReasonDeploymentAvailable, "m")}}
	before := prev.DeepCopy()

	got := computeStatus(prev, 3, &spec, &observations{stopped: stoppedByPolicy, resolved: true,
		policy: &childApply{kind: "NetworkPolicy", err: &conflictError{kind: "NetworkPolicy", key: key("ns", "forms")}}})
	want := platformv1alpha1.PublicServiceStatus{
		ObservedGeneration: 3, Exposure: platformv1alpha1.ExposureInternal, Endpoint: prev.Endpoint,
		Conditions: []metav1.Condition{
			cond(platformv1alpha1.ConditionAvailable, metav1.ConditionUnknown, platformv1alpha1.ReasonWaiting, "not evaluated: "+stoppedByPolicy),
			cond(platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionTrue, platformv1alpha1.ReasonDependenciesSatisfied,
				"every consumed service and referenced zone exists and consents"),
			cond(platformv1alpha1.ConditionNetworkIsolated, metav1.ConditionFalse, platformv1alpha1.ReasonNameConflict,
				"NetworkPolicy ns/forms already exists and is not owned by this PublicService; the operator never takes it over: rename or delete it"),
			cond(platformv1alpha1.ConditionReady, metav1.ConditionFalse, platformv1alpha1.ReasonNotReady,
				"Available=Unknown (Waiting: not evaluated: "+stoppedByPolicy+"); NetworkIsolated=False (NameConflict: NetworkPolicy ns/forms "+
					"already exists and is not owned by this PublicService; the operator never takes it over: rename or delete it)"),
		},
	}
	if diff := cmp.Diff(want, got, ignoreTimes, cmpopts.SortSlices(func(a, b metav1.Condition) bool { return a.Type < b.Type })); diff != "" {
		t.Errorf("computeStatus (-want +got):\n%s", diff)
	}
	for _, c := range got.Conditions {
		if c.ObservedGeneration != 3 {
			t.Errorf("%s has observedGeneration %d, want 3", c.Type, c.ObservedGeneration)
		}
	}
	if diff := cmp.Diff(before, prev); diff != "" {
		t.Errorf("computeStatus changed the previous status (-before +after):\n%s", diff)
	}
}

func TestTruncate(t *testing.T) {
	cases := []struct {
		name, in string
		n        int
		want     string
	}{
		{"short enough", "abc", 3, "abc"},
		{"ascii", "abcdefgh", 6, "abc..."},
		{"never inside a rune", "ab\u1ec7fgh", 6, "ab..."}, // ệ takes 3 bytes: "ab" + its first byte would split it
		{"a rune that fits", "ab\u1ec7fghij", 8, "ab\u1ec7..."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := truncate(tc.in, tc.n)
			if got != tc.want || len(got) > tc.n || !utf8.ValidString(got) {
				t.Errorf("truncate(%q, %d) = %q, want %q (valid UTF-8, at most %d bytes)", tc.in, tc.n, got, tc.want, tc.n)
			}
		})
	}
}

func TestFlowStatus(t *testing.T) {
	f := intent.Resolved{
		IngressServices: []intent.ServicePeer{{Namespace: "b", Name: "y", Port: 80}, {Namespace: "a", Name: "x", Port: 80}},
		IngressZones:    []intent.ZonePeer{{Name: "lan"}},
		EgressServices:  []intent.ServicePeer{{Namespace: "id", Name: "vneid", Port: 8080}},
		EgressZones:     []intent.ZonePeer{{Name: "db", Ports: []int32{443, 5432}}},
		Unadmitted:      []types.NamespacedName{{Namespace: "k", Name: "kiosk"}},
	}
	consumers, zones, destinations, unadmitted := flowStatus(f)
	want := [][]string{{"a/x", "b/y"}, {"lan"}, {"id/vneid:8080", "zone/db:443,5432"}, {"k/kiosk"}}
	if diff := cmp.Diff(want, [][]string{consumers, zones, destinations, unadmitted}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestComputeStatusOfACity: 300 admitted and 300 unadmitted consumers; the lists keep their cap
// (the first 64, sorted), the counts are exact, and no condition message names them all.
func TestComputeStatusOfACity(t *testing.T) {
	svc := testutil.PublicService("vneid", "identity").Obj()
	spec := svc.Effective()
	var f intent.Resolved
	wantAdmitted, wantUnadmitted := make([]string, 0, 300), make([]string, 0, 300)
	for i := range 300 {
		name := fmt.Sprintf("svc-%03d", i)
		wantAdmitted = append(wantAdmitted, "portal/"+name)
		wantUnadmitted = append(wantUnadmitted, "tax/"+name)
		// Resolved is sorted; the status must not depend on it.
		f.IngressServices = append([]intent.ServicePeer{{Namespace: "portal", Name: name, Port: 8080}}, f.IngressServices...)
		f.Unadmitted = append([]types.NamespacedName{{Namespace: "tax", Name: name}}, f.Unadmitted...)
	}
	got := computeStatus(&platformv1alpha1.PublicServiceStatus{}, 1, &spec, &observations{resolved: true, flows: f,
		policy: &childApply{kind: "NetworkPolicy"}})
	if got.AdmittedConsumerCount != 300 || got.UnadmittedConsumerCount != 300 {
		t.Errorf("counts %d admitted, %d unadmitted; want 300 and 300", got.AdmittedConsumerCount, got.UnadmittedConsumerCount)
	}
	if diff := cmp.Diff(wantAdmitted[:maxServiceStatusList], got.AdmittedConsumers); diff != "" {
		t.Errorf("admittedConsumers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantUnadmitted[:maxServiceStatusList], got.UnadmittedConsumers); diff != "" {
		t.Errorf("unadmittedConsumers (-want +got):\n%s", diff)
	}
	for _, c := range got.Conditions {
		if strings.Contains(c.Message, "svc-") {
			t.Errorf("%s names consumers: %q", c.Type, c.Message)
		}
	}
}

func TestSomeNames(t *testing.T) {
	for _, tc := range []struct {
		names []string
		want  string
	}{
		{nil, ""},
		{[]string{"a"}, "a"},
		{[]string{"a", "b", "c"}, "a, b, c"},
		{[]string{"a", "b", "c", "d", "e"}, "a, b, c and 2 more"},
	} {
		if got := someNames(tc.names); got != tc.want {
			t.Errorf("someNames(%v) = %q, want %q", tc.names, got, tc.want)
		}
	}
}

// TestUnadmittedEvent: one event per reconcile, naming at most three new consumers and the
// count; none when nothing is new, even when the previous list was truncated.
func TestUnadmittedEvent(t *testing.T) {
	names := func(from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, fmt.Sprintf("ns/svc-%03d", i))
		}
		return out
	}
	cases := []struct {
		name       string
		prev       platformv1alpha1.PublicServiceStatus
		unadmitted []string
		want       string // "" means no event
	}{
		{"nothing unadmitted", platformv1alpha1.PublicServiceStatus{}, nil, ""},
		{"one new", platformv1alpha1.PublicServiceStatus{}, []string{"ns/a"},
			"ns/a consumes this service but spec.allowFrom does not admit it; its calls are denied (1 unadmitted consumer(s) in all)"},
		{"already listed", platformv1alpha1.PublicServiceStatus{UnadmittedConsumers: []string{"ns/a"}, UnadmittedConsumerCount: 1},
			[]string{"ns/a"}, ""},
		{"listed before the count field existed", platformv1alpha1.PublicServiceStatus{UnadmittedConsumers: []string{"ns/a"}},
			[]string{"ns/a"}, ""},
		{"300 new at once", platformv1alpha1.PublicServiceStatus{}, names(0, 300),
			"ns/svc-000, ns/svc-001, ns/svc-002 and 297 more consume this service but spec.allowFrom does not admit them; " +
				"their calls are denied (300 unadmitted consumer(s) in all)"},
		{"the same 300, the previous list truncated", platformv1alpha1.PublicServiceStatus{
			UnadmittedConsumers: names(0, 64), UnadmittedConsumerCount: 300}, names(0, 300), ""},
		{"one more beyond the truncated list", platformv1alpha1.PublicServiceStatus{
			UnadmittedConsumers: names(0, 64), UnadmittedConsumerCount: 300}, names(0, 301),
			"1 more service(s) consume this service but spec.allowFrom does not admit them; their calls are denied (301 unadmitted consumer(s) in all)"},
		{"a new one inside the truncated list", platformv1alpha1.PublicServiceStatus{
			UnadmittedConsumers: names(1, 65), UnadmittedConsumerCount: 299}, names(0, 300),
			"ns/svc-000 consumes this service but spec.allowFrom does not admit it; its calls are denied (300 unadmitted consumer(s) in all)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := unadmittedEvent(&tc.prev, tc.unadmitted)
			if ok != (tc.want != "") || got != tc.want {
				t.Errorf("unadmittedEvent = %q, %t; want %q", got, ok, tc.want)
			}
		})
	}
}
