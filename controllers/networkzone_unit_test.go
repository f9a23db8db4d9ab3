package controllers

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

func TestNetworkZoneStatus(t *testing.T) {
	hospital := map[string]string{"platform.smartcity.io/network-access": "hospital"}
	zone := testutil.NetworkZone("hospital-lan").CIDRs("10.20.0.0/16").AllowNamespaces(hospital).Obj()
	zone.Generation = 2
	users := []platformv1alpha1.PublicService{
		*testutil.PublicService("checkin", "health").Obj(),
		*testutil.PublicService("kiosk", "lobby").Obj(),
		*testutil.PublicService("admission", "health").Obj(),
	}
	labels := map[string]map[string]string{"health": hospital, "lobby": {"team": "lobby"}}
	accepted := func(reason, message string) []metav1.Condition {
		return []metav1.Condition{{Type: platformv1alpha1.ConditionZoneAccepted, Status: metav1.ConditionTrue,
			Reason: reason, Message: message, ObservedGeneration: 2}}
	}
	cases := []struct {
		name     string
		users    []platformv1alpha1.PublicService
		nsLabels map[string]map[string]string
		want     platformv1alpha1.NetworkZoneStatus
	}{
		{"unused", nil, nil, platformv1alpha1.NetworkZoneStatus{ObservedGeneration: 2,
			Conditions: accepted(platformv1alpha1.ReasonZoneAccepted, "used by 0 service(s)")}},
		{"used and refused, sorted", users, labels, platformv1alpha1.NetworkZoneStatus{ObservedGeneration: 2,
			ReferencedBy: []string{"health/admission", "health/checkin"}, ReferencedByCount: 2,
			Refused: []string{"lobby/kiosk"}, RefusedCount: 1,
			Conditions: accepted(platformv1alpha1.ReasonZoneRefusedReferences,
				"used by 2 service(s); refused 1: lobby/kiosk: spec.allowedNamespaces does not select their namespaces")}},
		{"a namespace without labels is refused", users[:1], nil, platformv1alpha1.NetworkZoneStatus{ObservedGeneration: 2,
			Refused: []string{"health/checkin"}, RefusedCount: 1,
			Conditions: accepted(platformv1alpha1.ReasonZoneRefusedReferences,
				"used by 0 service(s); refused 1: health/checkin: spec.allowedNamespaces does not select their namespaces")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := zone.DeepCopy()
			got := networkZoneStatus(zone, tc.users, tc.nsLabels)
			if diff := cmp.Diff(tc.want, got, ignoreTimes); diff != "" {
				t.Errorf("networkZoneStatus (-want +got):\n%s", diff)
			}
			if got.Conditions[0].ObservedGeneration != 2 {
				t.Errorf("Accepted has observedGeneration %d, want 2", got.Conditions[0].ObservedGeneration)
			}
			if diff := cmp.Diff(before, zone); diff != "" {
				t.Errorf("networkZoneStatus changed the zone (-before +after):\n%s", diff)
			}
		})
	}
}

// TestNetworkZoneStatusOfACity: 300 services use the zone and 300 are refused; the lists keep
// their cap (the first 256, sorted), the counts are exact and the message names three.
func TestNetworkZoneStatusOfACity(t *testing.T) {
	hospital := map[string]string{"platform.smartcity.io/network-access": "hospital"}
	zone := testutil.NetworkZone("hospital-lan").CIDRs("10.20.0.0/16").AllowNamespaces(hospital).Obj()
	var users []platformv1alpha1.PublicService
	var wantUsed, wantRefused []string
	for i := 299; i >= 0; i-- { // created in reverse: the status sorts
		name := fmt.Sprintf("svc-%03d", i)
		users = append(users, *testutil.PublicService(name, "health").Obj(), *testutil.PublicService(name, "lobby").Obj())
		wantUsed = append([]string{"health/" + name}, wantUsed...)
		wantRefused = append([]string{"lobby/" + name}, wantRefused...)
	}
	got := networkZoneStatus(zone, users, map[string]map[string]string{"health": hospital})

	if got.ReferencedByCount != 300 || got.RefusedCount != 300 {
		t.Errorf("counts %d used, %d refused; want 300 and 300", got.ReferencedByCount, got.RefusedCount)
	}
	if diff := cmp.Diff(wantUsed[:256], got.ReferencedBy); diff != "" {
		t.Errorf("referencedBy (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantRefused[:256], got.Refused); diff != "" {
		t.Errorf("refused (-want +got):\n%s", diff)
	}
	want := "used by 300 service(s); refused 300: lobby/svc-000, lobby/svc-001, lobby/svc-002 and 297 more: " +
		"spec.allowedNamespaces does not select their namespaces"
	if msg := got.Conditions[0].Message; msg != want {
		t.Errorf("message %q, want %q", msg, want)
	}
}
