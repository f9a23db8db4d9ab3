package controllers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
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

func TestSetReady(t *testing.T) {
	cond := func(typ string, s metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: s, Reason: reason, Message: "m"}
	}
	available := cond(platformv1alpha1.ConditionAvailable, metav1.ConditionTrue, platformv1alpha1.ReasonDeploymentAvailable)
	isolated := cond(platformv1alpha1.ConditionNetworkIsolated, metav1.ConditionTrue, platformv1alpha1.ReasonPolicyApplied)
	satisfied := cond(platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionTrue, platformv1alpha1.ReasonDependenciesSatisfied)
	cases := []struct {
		name       string
		conds      []metav1.Condition
		wantStatus metav1.ConditionStatus
		wantMsg    string
	}{
		{"all three true", []metav1.Condition{available, isolated, satisfied}, metav1.ConditionTrue,
			"available, network policy applied, dependencies satisfied"},
		{"consent missing", []metav1.Condition{available, isolated,
			cond(platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionFalse, platformv1alpha1.ReasonConsentMissing)},
			metav1.ConditionFalse, "DependenciesSatisfied=False (ConsentMissing: m)"},
		{"one missing, one unknown", []metav1.Condition{isolated,
			cond(platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionUnknown, platformv1alpha1.ReasonWaiting)},
			metav1.ConditionFalse, "Available=Unknown; DependenciesSatisfied=Unknown (Waiting: m)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &platformv1alpha1.PublicServiceStatus{Conditions: tc.conds}
			setReady(st, 4)
			got := meta.FindStatusCondition(st.Conditions, platformv1alpha1.ConditionReady)
			if got == nil || got.Status != tc.wantStatus || got.Message != tc.wantMsg || got.ObservedGeneration != 4 {
				t.Errorf("Ready = %+v, want status %s message %q generation 4", got, tc.wantStatus, tc.wantMsg)
			}
		})
	}
}

func TestMarkUnevaluated(t *testing.T) {
	st := &platformv1alpha1.PublicServiceStatus{}
	setCondition(st, 2, platformv1alpha1.ConditionNetworkIsolated, metav1.ConditionFalse, platformv1alpha1.ReasonNameConflict, "x")
	markUnevaluated(st, 2, map[string]bool{platformv1alpha1.ConditionNetworkIsolated: true}, "NetworkPolicy name conflict")
	for typ, want := range map[string]string{
		platformv1alpha1.ConditionNetworkIsolated:       platformv1alpha1.ReasonNameConflict,
		platformv1alpha1.ConditionAvailable:             platformv1alpha1.ReasonWaiting,
		platformv1alpha1.ConditionDependenciesSatisfied: platformv1alpha1.ReasonWaiting,
	} {
		if c := meta.FindStatusCondition(st.Conditions, typ); c == nil || c.Reason != want {
			t.Errorf("%s = %+v, want reason %s", typ, c, want)
		}
	}
	if c := meta.FindStatusCondition(st.Conditions, platformv1alpha1.ConditionAvailable); c.Message != "not evaluated: NetworkPolicy name conflict" {
		t.Errorf("Available message = %q", c.Message)
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
