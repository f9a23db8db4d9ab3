package v1alpha1

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestEffectiveAllowFrom: a service entry without a namespace gets the service's own; an entry
// with a namespace alone and a zone entry stay as written.
func TestEffectiveAllowFrom(t *testing.T) {
	svc := &PublicService{
		ObjectMeta: metav1.ObjectMeta{Name: "vneid", Namespace: "identity"},
		Spec: PublicServiceSpec{Profile: ProfileHospitalCheckIn, AllowFrom: []AllowSource{
			{Service: "kiosk"},
			{Service: "portal", Namespace: "citizens"},
			{Namespace: "health"},
			{Zone: "hospital-lan"},
		}},
	}
	before := svc.DeepCopy()
	want := []AllowSource{
		{Service: "kiosk", Namespace: "identity"},
		{Service: "portal", Namespace: "citizens"},
		{Namespace: "health"},
		{Zone: "hospital-lan"},
	}
	if diff := cmp.Diff(want, svc.Effective().AllowFrom); diff != "" {
		t.Errorf("Effective().AllowFrom (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, svc); diff != "" {
		t.Errorf("Effective changed the service (-before +after):\n%s", diff)
	}
}
