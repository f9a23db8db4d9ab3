package audit

import (
	"context"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

// cacheReader is a client.Reader over objects held in memory, which lists as a
// controller-runtime cache does, in no particular order: Get copies the object out, List hands out deep copies or,
// with client.UnsafeDisableDeepCopy, the held objects themselves (copied into the list's
// Items by apimeta.SetList, as the cache's reader does). It stands for the operator's cache in
// benchmarks, where a fake client would serialize every object.
type cacheReader struct {
	// objects holds, per item type (*corev1.Pod, ...), the objects of each namespace ("" for
	// cluster-scoped ones).
	objects map[reflect.Type]map[string][]runtime.Object
}

func newCacheReader(objs ...runtime.Object) *cacheReader {
	r := &cacheReader{objects: map[reflect.Type]map[string][]runtime.Object{}}
	// A cache lists in the order of its index's map, not by name: so does this reader.
	objs = slices.Clone(objs)
	rnd := rand.New(rand.NewPCG(1, 2))
	rnd.Shuffle(len(objs), func(i, j int) { objs[i], objs[j] = objs[j], objs[i] })
	for _, obj := range objs {
		t := reflect.TypeOf(obj)
		if r.objects[t] == nil {
			r.objects[t] = map[string][]runtime.Object{}
		}
		ns := obj.(client.Object).GetNamespace()
		r.objects[t][ns] = append(r.objects[t][ns], obj)
	}
	return r
}

func (r *cacheReader) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	for _, held := range r.objects[reflect.TypeOf(obj)][key.Namespace] {
		if held.(client.Object).GetName() == key.Name {
			reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(held.DeepCopyObject()).Elem())
			return nil
		}
	}
	return apierrors.NewNotFound(schema.GroupResource{}, key.Name)
}

func (r *cacheReader) List(_ context.Context, list client.ObjectList, opts ...client.ListOption) error {
	o := (&client.ListOptions{}).ApplyOptions(opts)
	items, _ := reflect.TypeOf(list).Elem().FieldByName("Items")
	item := reflect.PointerTo(items.Type.Elem())
	var held []runtime.Object
	if o.Namespace != "" {
		held = r.objects[item][o.Namespace]
	} else {
		for _, ns := range r.objects[item] {
			held = append(held, ns...)
		}
	}
	out := make([]runtime.Object, 0, len(held))
	for _, obj := range held {
		if o.UnsafeDisableDeepCopy == nil || !*o.UnsafeDisableDeepCopy {
			obj = obj.DeepCopyObject()
		}
		out = append(out, obj)
	}
	return apimeta.SetList(list, out)
}

// runningCity is what the operator's cache holds once a generated city of n services runs: the
// rendered city (cityModel) with, for every Deployment, a ReplicaSet and its pods (asRunning).
func runningCity(tb testing.TB, n int) *Model {
	tb.Helper()
	m := asRunning(cityModel(tb, n))
	m.sort()
	return m
}

// objects returns pointers to every object of the Model.
func (m *Model) objects() []runtime.Object {
	var out []runtime.Object
	add := func(n int, at func(int) runtime.Object) {
		for i := range n {
			out = append(out, at(i))
		}
	}
	add(len(m.Namespaces), func(i int) runtime.Object { return &m.Namespaces[i] })
	add(len(m.NetworkPolicies), func(i int) runtime.Object { return &m.NetworkPolicies[i] })
	add(len(m.Deployments), func(i int) runtime.Object { return &m.Deployments[i] })
	add(len(m.StatefulSets), func(i int) runtime.Object { return &m.StatefulSets[i] })
	add(len(m.DaemonSets), func(i int) runtime.Object { return &m.DaemonSets[i] })
	add(len(m.ReplicaSets), func(i int) runtime.Object { return &m.ReplicaSets[i] })
	add(len(m.Pods), func(i int) runtime.Object { return &m.Pods[i] })
	add(len(m.PublicServices), func(i int) runtime.Object { return &m.PublicServices[i] })
	add(len(m.NetworkZones), func(i int) runtime.Object { return &m.NetworkZones[i] })
	return out
}

// inNamespaces returns the objects of m in the given namespaces, and every NetworkZone.
func (m *Model) inNamespaces(namespaces ...string) *Model {
	keep := func(ns string) bool { return slices.Contains(namespaces, ns) }
	return &Model{
		Namespaces:      filter(m.Namespaces, func(o *corev1.Namespace) bool { return keep(o.Name) }),
		NetworkPolicies: filter(m.NetworkPolicies, func(o *networkingv1.NetworkPolicy) bool { return keep(o.Namespace) }),
		Deployments:     filter(m.Deployments, func(o *appsv1.Deployment) bool { return keep(o.Namespace) }),
		StatefulSets:    filter(m.StatefulSets, func(o *appsv1.StatefulSet) bool { return keep(o.Namespace) }),
		DaemonSets:      filter(m.DaemonSets, func(o *appsv1.DaemonSet) bool { return keep(o.Namespace) }),
		ReplicaSets:     filter(m.ReplicaSets, func(o *appsv1.ReplicaSet) bool { return keep(o.Namespace) }),
		Pods:            filter(m.Pods, func(o *corev1.Pod) bool { return keep(o.Namespace) }),
		PublicServices:  filter(m.PublicServices, func(o *platformv1alpha1.PublicService) bool { return keep(o.Namespace) }),
		NetworkZones:    m.NetworkZones,
	}
}

func filter[T any](list []T, keep func(*T) bool) []T {
	var out []T
	for i := range list {
		if keep(&list[i]) {
			out = append(out, list[i])
		}
	}
	return out
}

// TestReadNamespaces reads a running city through a reader that lists as the manager's cache
// does: the Model holds exactly the objects of the namespaces that exist, sorted, whether
// they are one, several, or none.
func TestReadNamespaces(t *testing.T) {
	city := runningCity(t, 60)
	c := newCacheReader(city.objects()...)
	a, b, z := city.Namespaces[0].Name, city.Namespaces[1].Name, city.Namespaces[len(city.Namespaces)-1].Name
	for _, tc := range []struct {
		name       string
		namespaces []string
		want       []string
	}{
		{name: "one", namespaces: []string{a}, want: []string{a}},
		{name: "several, out of order", namespaces: []string{z, a, b}, want: []string{a, b, z}},
		{name: "one missing", namespaces: []string{b, "no-such-namespace"}, want: []string{b}},
		{name: "none", namespaces: []string{"no-such-namespace"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadNamespaces(t.Context(), c, tc.namespaces...)
			if err != nil {
				t.Fatal(err)
			}
			want := city.inNamespaces(tc.want...)
			if len(want.PublicServices) == 0 && len(tc.want) > 0 {
				t.Fatalf("namespaces %v hold no PublicService: the case tests nothing", tc.want)
			}
			if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ReadNamespaces(%v) (-want +got):\n%s", tc.namespaces, diff)
			}
		})
	}
}
