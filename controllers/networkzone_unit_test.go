package controllers

import (
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
			ReferencedBy: []string{"health/admission", "health/checkin"}, Refused: []string{"lobby/kiosk"},
			Conditions: accepted(platformv1alpha1.ReasonZoneRefusedReferences,
				"used by 2 service(s); refused lobby/kiosk: spec.allowedNamespaces does not select their namespaces")}},
		{"a namespace without labels is refused", users[:1], nil, platformv1alpha1.NetworkZoneStatus{ObservedGeneration: 2,
			Refused: []string{"health/checkin"},
			Conditions: accepted(platformv1alpha1.ReasonZoneRefusedReferences,
				"used by 0 service(s); refused health/checkin: spec.allowedNamespaces does not select their namespaces")}},
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
