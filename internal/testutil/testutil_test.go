package testutil_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

const health = "health"

func TestPublicService(t *testing.T) {
	got := testutil.PublicService("hospital-checkin", health).
		UID("uid-1").
		Label("team", health).
		Profile(platformv1alpha1.ProfileHospitalCheckIn).
		Image("registry.example/checkin:1").
		Port(9090).
		HealthPath("/ready").
		Replicas(2, 6).
		TargetCPU(60).
		Requests(corev1.ResourceCPU, "250m").
		Limits(corev1.ResourceMemory, "512Mi").
		Exposure(platformv1alpha1.ExposureCityNetwork).
		Host("checkin.example").
		TLS("checkin-tls").
		Consumes("vneid", "identity").
		ConsumesPort("audit", "", 9000).
		AllowFromService("kiosk", "").
		AllowFromZone("hospital-lan").
		EgressToZone("population-db", 5432, 5433).
		Classification(platformv1alpha1.ClassificationConfidential).
		Env("LOG_LEVEL", "info").
		EnvFromSecret("DB_PASSWORD", "db", "password").
		Obj()

	want := &platformv1alpha1.PublicService{
		ObjectMeta: metav1.ObjectMeta{Name: "hospital-checkin", Namespace: health, UID: "uid-1", Labels: map[string]string{"team": health}},
		Spec: platformv1alpha1.PublicServiceSpec{
			Profile:    platformv1alpha1.ProfileHospitalCheckIn,
			Image:      "registry.example/checkin:1",
			Port:       new(int32(9090)),
			HealthPath: "/ready",
			Env: []platformv1alpha1.EnvVar{
				{Name: "LOG_LEVEL", Value: "info"},
				{Name: "DB_PASSWORD", SecretKeyRef: &platformv1alpha1.SecretKeySelector{Name: "db", Key: "password"}},
			},
			Resources: &platformv1alpha1.Resources{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
			},
			Replicas: &platformv1alpha1.Replicas{Min: new(int32(2)), Max: new(int32(6)), TargetCPUUtilizationPercentage: new(int32(60))},
			Exposure: &platformv1alpha1.Exposure{Mode: platformv1alpha1.ExposureCityNetwork, Host: "checkin.example", TLS: &platformv1alpha1.TLS{SecretName: "checkin-tls"}},
			Consumes: []platformv1alpha1.ServiceReference{
				{Service: "vneid", Namespace: "identity"},
				{Service: "audit", Port: new(int32(9000))},
			},
			AllowFrom:          []platformv1alpha1.AllowSource{{Service: "kiosk"}, {Zone: "hospital-lan"}},
			EgressTo:           []platformv1alpha1.ZoneEgress{{Zone: "population-db", Ports: []int32{5432, 5433}}},
			DataClassification: platformv1alpha1.ClassificationConfidential,
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PublicService builder (-want +got):\n%s", diff)
	}
}

func TestPublicServiceDefaults(t *testing.T) {
	got := testutil.PublicService("a", "ns").Obj()
	want := &platformv1alpha1.PublicService{
		ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns"},
		Spec:       platformv1alpha1.PublicServiceSpec{Profile: platformv1alpha1.ProfileCustom, Image: testutil.DefaultImage},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PublicService defaults (-want +got):\n%s", diff)
	}
}

func TestObjReturnsCopies(t *testing.T) {
	ports := []int32{443}
	w := testutil.PublicService("a", "ns").Replicas(1, 3).EgressToZone("z", ports...)
	first := w.Obj()
	first.Spec.Replicas.Min = new(int32(9))
	first.Spec.EgressTo[0].Ports[0] = 1
	ports[0] = 2
	if second := w.Obj(); *second.Spec.Replicas.Min != 1 || second.Spec.EgressTo[0].Ports[0] != 443 {
		t.Errorf("Obj shares memory with the builder or its arguments: %+v", second.Spec)
	}

	labels := map[string]string{"zone-access": health}
	z := testutil.NetworkZone("z").AllowNamespaces(labels)
	zone := z.Obj()
	zone.Spec.AllowedNamespaces.MatchLabels["zone-access"] = "other"
	labels["zone-access"] = "changed"
	if got := z.Obj().Spec.AllowedNamespaces.MatchLabels["zone-access"]; got != health {
		t.Errorf("NetworkZone Obj shares memory: allowedNamespaces label is %q", got)
	}
}

func TestNetworkZone(t *testing.T) {
	got := testutil.NetworkZone("hospital-lan").
		CIDRs("10.20.0.0/16").
		CIDRs("10.21.0.0/16").
		Except("10.20.99.0/24").
		AllowNamespaces(map[string]string{"kubernetes.io/metadata.name": health}).
		Provider("VNPT").
		Description("Hospital reception LANs").
		Obj()
	want := &platformv1alpha1.NetworkZone{
		ObjectMeta: metav1.ObjectMeta{Name: "hospital-lan"},
		Spec: platformv1alpha1.NetworkZoneSpec{
			CIDRs:             []string{"10.20.0.0/16", "10.21.0.0/16"},
			Except:            []string{"10.20.99.0/24"},
			Provider:          "VNPT",
			Description:       "Hospital reception LANs",
			AllowedNamespaces: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": health}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NetworkZone builder (-want +got):\n%s", diff)
	}
}

// TestListsAndNulls: the builders tell an empty list from an absent one, which the API
// server's validation does too.
func TestListsAndNulls(t *testing.T) {
	svc := testutil.PublicService("a", "ns").Name("b").
		MinReplicas(2).MaxReplicas(4).
		Host("h").TLS("s").WithoutTLS().
		ConsumesRefs(platformv1alpha1.ServiceReference{Service: "x"}).
		AllowFrom(platformv1alpha1.AllowSource{Zone: "z"}).WithoutAllowFrom().
		EgressToZone("none").EgressToZoneNullPorts("null").
		EnvVars(platformv1alpha1.EnvVar{Name: "A", Value: "1"}).
		Obj()
	want := &platformv1alpha1.PublicService{
		ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "ns"},
		Spec: platformv1alpha1.PublicServiceSpec{
			Profile: platformv1alpha1.ProfileCustom, Image: testutil.DefaultImage,
			Replicas: &platformv1alpha1.Replicas{Min: new(int32(2)), Max: new(int32(4))},
			Exposure: &platformv1alpha1.Exposure{Host: "h"},
			Consumes: []platformv1alpha1.ServiceReference{{Service: "x"}},
			EgressTo: []platformv1alpha1.ZoneEgress{{Zone: "none", Ports: []int32{}}, {Zone: "null"}},
			Env:      []platformv1alpha1.EnvVar{{Name: "A", Value: "1"}},
		},
	}
	if diff := cmp.Diff(want, svc); diff != "" {
		t.Errorf("PublicService builder (-want +got):\n%s", diff)
	}
	if got := testutil.PublicService("a", "ns").EmptyReplicas().Obj().Spec.Replicas; got == nil || *got != (platformv1alpha1.Replicas{}) {
		t.Errorf("EmptyReplicas: spec.replicas = %+v, want {}", got)
	}

	zone := testutil.NetworkZone("z").Name("lan").CIDRs().Obj()
	if zone.Name != "lan" || zone.Spec.CIDRs == nil || len(zone.Spec.CIDRs) != 0 {
		t.Errorf("CIDRs() with none: name %q, cidrs %#v, want lan and an empty list", zone.Name, zone.Spec.CIDRs)
	}
	if got := testutil.NetworkZone("z").CIDRs("10.0.0.0/8").WithoutCIDRs().Obj().Spec.CIDRs; got != nil {
		t.Errorf("WithoutCIDRs: cidrs %#v, want nil", got)
	}
}
