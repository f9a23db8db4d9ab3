package roles

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// Verbs a request of the suite can use: the RBAC verbs, and "update status" (update of the
// status subresource).
const (
	verbCreate           = "create"
	verbGet              = "get"
	verbList             = "list"
	verbUpdate           = "update"
	verbPatch            = "patch"
	verbDelete           = "delete"
	verbDeleteCollection = "deletecollection"
	verbUpdateStatus     = "update status"
)

// fixtureLabel marks the objects of one request, so that deletecollection touches only them.
const fixtureLabel = "roles.smartcity.io/fixture"

// Templates of the objects requested: each request works on a copy with a name of its own.
func publicService(ns string) client.Object {
	return testutil.PublicService("svc", ns).Obj()
}

func networkZone() client.Object {
	return testutil.NetworkZone("zone").CIDRs("192.0.2.0/24").Obj()
}

func secret(ns string) client.Object {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "secret", Namespace: ns}, StringData: map[string]string{"k": "v"}}
}

func configMap(ns string) client.Object {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "config", Namespace: ns}}
}

func service(ns string) client.Object {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "service", Namespace: ns},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
	}
}

func namespace() client.Object {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns"}}
}

func networkPolicy(ns string) client.Object {
	return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "policy", Namespace: ns}}
}

func deployment(ns string) client.Object {
	labels := map[string]string{"app": "web"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: testutil.DefaultImage}}},
			},
		},
	}
}

func pod(ns string) client.Object {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pod", Namespace: ns},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: testutil.DefaultImage}}},
	}
}

func statefulSets(ns string) client.Object {
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns}}
}

func daemonSets(ns string) client.Object {
	return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns}}
}

func replicaSets(ns string) client.Object {
	return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns}}
}

// request makes one request as c: verb on a copy of template. Except for create and list, the
// object exists first (created by admin). It returns the API server's answer.
func request(ctx context.Context, c client.Client, verb string, template client.Object) error {
	GinkgoHelper()
	id := utilrand.String(6)
	obj := template.DeepCopyObject().(client.Object)
	obj.SetName(obj.GetName() + "-" + id)
	obj.SetLabels(map[string]string{fixtureLabel: id})
	switch verb {
	case verbCreate, verbList, verbDeleteCollection:
	default:
		Expect(admin.Create(ctx, obj)).To(Succeed(), "fixture %s", obj.GetName())
	}
	switch verb {
	case verbCreate:
		return c.Create(ctx, obj)
	case verbGet:
		return c.Get(ctx, client.ObjectKeyFromObject(obj), obj)
	case verbList:
		return c.List(ctx, listOf(obj), client.InNamespace(obj.GetNamespace()))
	case verbUpdate:
		obj.SetLabels(map[string]string{fixtureLabel: id, "updated": "true"})
		return c.Update(ctx, obj)
	case verbPatch:
		return c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"patched":"true"}}}`)))
	case verbDelete:
		return c.Delete(ctx, obj)
	case verbDeleteCollection:
		return c.DeleteAllOf(ctx, obj, client.InNamespace(obj.GetNamespace()), client.MatchingLabels{fixtureLabel: id})
	case verbUpdateStatus:
		return c.Status().Update(ctx, obj)
	}
	Fail("unknown verb " + verb)
	return nil
}

// listOf returns an empty list of obj's kind.
func listOf(obj client.Object) client.ObjectList {
	GinkgoHelper()
	gvk, err := apiutil.GVKForObject(obj, scheme)
	Expect(err).NotTo(HaveOccurred())
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	return l
}

// kindOf names obj's kind, for the specs' descriptions.
func kindOf(obj client.Object) string {
	gvk, err := apiutil.GVKForObject(obj, scheme)
	if err != nil {
		return fmt.Sprintf("%T", obj)
	}
	return gvk.Kind
}
