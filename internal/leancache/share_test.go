package leancache_test

import (
	"maps"
	"reflect"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
	"github.com/smartcity-io/smartcity-operator/internal/citygen"
	"github.com/smartcity-io/smartcity-operator/internal/leancache"
)

// same reports whether two maps are one map.
func same(a, b map[string]string) bool {
	return a != nil && reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// labelsOf returns a fresh map with the labels of a service's children, as each decoded object
// has its own.
func labelsOf(service string) map[string]string {
	return map[string]string{"app.kubernetes.io/name": service, "app.kubernetes.io/managed-by": "smartcity-operator"}
}

func selectorOf(service string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": service}}
}

func policy(name string, peers ...string) *networkingv1.NetworkPolicy {
	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "hanoi", Labels: labelsOf(name),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "platform.smartcity.io/v1alpha1", Kind: "PublicService",
				Name: name, UID: types.UID("uid-" + name)}}},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: *selectorOf(name)},
	}
	from := make([]networkingv1.NetworkPolicyPeer, 0, len(peers))
	for _, p := range peers {
		from = append(from, networkingv1.NetworkPolicyPeer{PodSelector: selectorOf(p),
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "hanoi"}}})
	}
	np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: from}}
	np.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{To: from}}
	return np
}

func share(t *testing.T, obj client.Object) client.Object {
	t.Helper()
	want := obj.DeepCopyObject()
	out := transform(t, leancache.Share, obj)
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("Share changed what %T holds (-before +after):\n%s", obj, diff)
	}
	return out
}

func TestShare(t *testing.T) {
	portal := share(t, policy("portal", "identity")).(*networkingv1.NetworkPolicy)
	identity := share(t, policy("identity", "portal")).(*networkingv1.NetworkPolicy)
	deploy := share(t, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "portal", Namespace: "hanoi", Labels: labelsOf("portal")},
		Spec: appsv1.DeploymentSpec{Selector: selectorOf("portal"),
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labelsOf("portal")}}}}).(*appsv1.Deployment)
	svc := share(t, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "portal", Namespace: "hanoi", Labels: labelsOf("portal")},
		Spec: corev1.ServiceSpec{Selector: selectorOf("portal").MatchLabels}}).(*corev1.Service)
	pdb := share(t, &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "portal", Namespace: "hanoi"},
		Spec: policyv1.PodDisruptionBudgetSpec{Selector: selectorOf("portal")}}).(*policyv1.PodDisruptionBudget)
	rs := share(t, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "hanoi"},
		Spec: appsv1.ReplicaSetSpec{Selector: selectorOf("identity"),
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labelsOf("identity")}}}}).(*appsv1.ReplicaSet)

	shared := []struct {
		name string
		a, b map[string]string
	}{
		{"children's labels", portal.Labels, deploy.Labels},
		{"labels and a template's labels", svc.Labels, deploy.Spec.Template.Labels},
		{"a policy's pod selector and a peer naming the same service", portal.Spec.PodSelector.MatchLabels, identity.Spec.Ingress[0].From[0].PodSelector.MatchLabels},
		{"a Deployment's selector and a Service's", deploy.Spec.Selector.MatchLabels, svc.Spec.Selector},
		{"a PodDisruptionBudget's selector and a Service's", pdb.Spec.Selector.MatchLabels, svc.Spec.Selector},
		{"namespace selectors of two policies", portal.Spec.Egress[0].To[0].NamespaceSelector.MatchLabels, identity.Spec.Ingress[0].From[0].NamespaceSelector.MatchLabels},
		{"a ReplicaSet's selector and a peer", rs.Spec.Selector.MatchLabels, portal.Spec.Ingress[0].From[0].PodSelector.MatchLabels},
		{"a ReplicaSet's template labels and labels", rs.Spec.Template.Labels, identity.Labels},
	}
	for _, s := range shared {
		if !same(s.a, s.b) {
			t.Errorf("%s: two maps, want one", s.name)
		}
	}
	apart := []struct {
		name string
		a, b map[string]string
	}{
		{"labels of two services", portal.Labels, identity.Labels},
		{"a selector and labels with more entries", portal.Spec.PodSelector.MatchLabels, portal.Labels},
	}
	for _, s := range apart {
		if same(s.a, s.b) {
			t.Errorf("%s: one map for two contents", s.name)
		}
	}
	if deploy.Namespace != "hanoi" || portal.OwnerReferences[0].UID != "uid-portal" {
		t.Errorf("namespace %q, owner UID %q: changed", deploy.Namespace, portal.OwnerReferences[0].UID)
	}
}

// TestShareLeavesEmptyAlone: an object without labels keeps nil, not an empty shared map, and
// an object that is not a Kubernetes object passes through.
func TestShareLeavesEmptyAlone(t *testing.T) {
	np := share(t, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny-all"}}).(*networkingv1.NetworkPolicy)
	if np.Labels != nil || np.Spec.PodSelector.MatchLabels != nil {
		t.Errorf("labels %v, pod selector %v: want nil", np.Labels, np.Spec.PodSelector.MatchLabels)
	}
	if out, err := leancache.Share("not an object"); err != nil || out != "not an object" {
		t.Errorf("Share(string) = %v, %v", out, err)
	}
}

// TestApplyShares: the caches' transforms, the default one and the kinds' own, share label
// maps, except a pod's (a new set at every rollout, which the bounded table would keep).
func TestApplyShares(t *testing.T) {
	o := leancache.Apply(cache.Options{})
	policy := transform(t, o.DefaultTransform, policy("portal"))
	var deploy, pod client.Object
	for obj, by := range o.ByObject {
		switch obj.(type) {
		case *appsv1.Deployment:
			d := deployment(t)
			d.Labels = labelsOf("portal")
			deploy = transform(t, by.Transform, d)
		case *corev1.Pod:
			pod = transform(t, by.Transform, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "portal-1", Labels: labelsOf("portal")}})
		}
	}
	if deploy == nil || !same(policy.GetLabels(), deploy.GetLabels()) {
		t.Error("a policy and a Deployment with the same labels, through the caches' transforms: two maps, want one")
	}
	if pod == nil {
		t.Fatal("no transform for pods")
	}
	if same(policy.GetLabels(), pod.GetLabels()) || !maps.Equal(pod.GetLabels(), labelsOf("portal")) {
		t.Errorf("a pod's labels %v: shared with a policy's, or changed", pod.GetLabels())
	}
}

// protoObject is an object the informers decode from protobuf.
type protoObject interface {
	client.Object
	Marshal() ([]byte, error)
	Unmarshal([]byte) error
}

// decoder is an object's protobuf encoding, and a new object of its kind to decode it into.
type decoder struct {
	raw []byte
	new func() protoObject
}

func encode(b *testing.B, obj protoObject, newObj func() protoObject) decoder {
	raw, err := obj.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	return decoder{raw, newObj}
}

// BenchmarkRetainedCity reports the heap that the rendered NetworkPolicies and Deployments of a
// generated city of 1,700 services hold in the cache, each decoded from its own protobuf as an
// informer does and passed through the caches' transforms, without Share and with it.
func BenchmarkRetainedCity(b *testing.B) {
	city, err := citygen.Generate(citygen.Options{Services: 1700, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	m := &audit.Model{}
	for _, obj := range city.Objects() {
		m.Add(obj)
	}
	rendered, err := audit.Rendered(m, audit.Options{}.Render)
	if err != nil {
		b.Fatal(err)
	}
	var objs []decoder
	for i := range rendered.NetworkPolicies {
		objs = append(objs, encode(b, &rendered.NetworkPolicies[i], func() protoObject { return &networkingv1.NetworkPolicy{} }))
	}
	for i := range rendered.Deployments {
		objs = append(objs, encode(b, &rendered.Deployments[i], func() protoObject { return &appsv1.Deployment{} }))
	}
	lean := leancache.Apply(cache.Options{})
	retained := func(sharing bool) float64 {
		kept := make([]any, len(objs))
		leancache.ForgetShared()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i, d := range objs {
			obj := d.new()
			if err := obj.Unmarshal(d.raw); err != nil {
				b.Fatal(err)
			}
			out, err := leancache.Form(obj)
			if err != nil {
				b.Fatal(err)
			}
			if sharing {
				_, _ = lean.DefaultTransform(out)
			}
			kept[i] = out
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(kept)
		return float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
	}
	var apart, shared float64
	for b.Loop() {
		apart, shared = retained(false), retained(true)
	}
	b.ReportMetric(float64(len(objs)), "objects")
	b.ReportMetric(apart, "MiB/unshared")
	b.ReportMetric(shared, "MiB/shared")
}
