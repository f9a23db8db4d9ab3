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

// TestEffectivePort: EffectivePort is Effective().Port, given or defaulted.
func TestEffectivePort(t *testing.T) {
	for _, port := range []*int32{nil, new(int32(9443))} {
		svc := &PublicService{Spec: PublicServiceSpec{Port: port}}
		if got, want := svc.EffectivePort(), *svc.Effective().Port; got != want {
			t.Errorf("port %v: EffectivePort() = %d, Effective().Port = %d", port, got, want)
		}
	}
	if got := (&PublicService{}).EffectivePort(); got != DefaultPort {
		t.Errorf("EffectivePort() of a service without port = %d, want %d", got, DefaultPort)
	}
}
