package audit

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func template(labels map[string]string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}}}}
}

func owned(kind, name string) []metav1.OwnerReference {
	return []metav1.OwnerReference{{Kind: kind, Name: name, Controller: new(true)}}
}

func pod(ns, name string, labels map[string]string, owners []metav1.OwnerReference, phase corev1.PodPhase) corev1.Pod {
	return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, OwnerReferences: owners},
		Status: corev1.PodStatus{Phase: phase}}
}

// TestWorkloads checks that the pods of a counted workload are not counted again, whether the
// Model holds their ReplicaSet (live) or not, and that other pods are.
func TestWorkloads(t *testing.T) {
	web := map[string]string{"app": "web"}
	m := &Model{
		Deployments:  []appsv1.Deployment{{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "web"}, Spec: appsv1.DeploymentSpec{Template: template(web)}}},
		StatefulSets: []appsv1.StatefulSet{{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "db"}, Spec: appsv1.StatefulSetSpec{Template: template(map[string]string{"app": "db"})}}},
		ReplicaSets: []appsv1.ReplicaSet{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "web-5d4f", OwnerReferences: owned("Deployment", "web")}, Spec: appsv1.ReplicaSetSpec{Template: template(web)}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "loose"}, Spec: appsv1.ReplicaSetSpec{Template: template(map[string]string{"app": "loose"})}},
		},
		Pods: []corev1.Pod{
			pod("a", "web-5d4f-x", web, owned("ReplicaSet", "web-5d4f"), corev1.PodRunning),
			// A ReplicaSet the Model does not hold: its Deployment is known from pod-template-hash.
			pod("a", "web-7a9c-y", map[string]string{"app": "web", "pod-template-hash": "7a9c"}, owned("ReplicaSet", "web-7a9c"), corev1.PodRunning),
			pod("a", "db-0", map[string]string{"app": "db"}, owned("StatefulSet", "db"), corev1.PodRunning),
			pod("a", "loose-z", map[string]string{"app": "loose"}, owned("ReplicaSet", "loose"), corev1.PodRunning),
			pod("a", "migrate-1", map[string]string{"job": "migrate"}, owned("Job", "migrate"), corev1.PodRunning),
			pod("a", "migrate-2", map[string]string{"job": "migrate"}, owned("Job", "migrate"), corev1.PodPending),
			pod("a", "done", nil, nil, corev1.PodSucceeded),
			pod("b", "debug", map[string]string{"run": "debug"}, nil, corev1.PodRunning),
		},
	}
	workloads := m.Workloads()
	got := make([]string, 0, len(workloads))
	for _, w := range workloads {
		got = append(got, w.ID())
	}
	want := []string{"a/db[StatefulSet]", "a/loose[ReplicaSet]", "a/migrate[Job]", "a/web[Deployment]", "b/debug[Pod]"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Workloads() (-want +got):\n%s", diff)
	}
}

func TestModelAddReplaces(t *testing.T) {
	m := &Model{}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a", Labels: map[string]string{"v": "1"}}}
	if known, replaced := m.Add(ns); !known || replaced {
		t.Fatalf("first Add: known %t replaced %t", known, replaced)
	}
	ns2 := ns.DeepCopy()
	ns2.Labels["v"] = "2"
	if _, replaced := m.Add(ns2); !replaced || len(m.Namespaces) != 1 || m.Namespaces[0].Labels["v"] != "2" {
		t.Errorf("second Add did not replace: %+v", m.Namespaces)
	}
	if known, _ := m.Add(&corev1.ConfigMap{}); known {
		t.Error("a ConfigMap is not a kind the audit uses")
	}
	if got := m.NamespaceLabels()["a"][corev1.LabelMetadataName]; got != "a" {
		t.Errorf("namespace a has %s=%q, want the name (as the API server sets it)", corev1.LabelMetadataName, got)
	}
}

// TestSortByKey sorts shuffles of pods in place (a few fixed orders with cycles of every
// length, and random ones): each ends in namespace and name order with every object kept.
func TestSortByKey(t *testing.T) {
	podsOf := func(n int) []corev1.Pod {
		out := make([]corev1.Pod, 0, n)
		for i := range n {
			out = append(out, pod(fmt.Sprintf("ns-%02d", i/7), fmt.Sprintf("pod-%03d", i), map[string]string{"at": strconv.Itoa(i)}, nil, corev1.PodRunning))
		}
		return out
	}
	r := rand.New(rand.NewPCG(1, 2))
	fixed := [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {1, 0, 3, 2, 4}, {1, 2, 3, 4, 0}, {2, 0, 1, 4, 3}, {}}
	shuffled := []int{5, 5, 5, 300, 300, 300}
	orders := append(make([][]int, 0, len(fixed)+len(shuffled)), fixed...)
	for _, n := range shuffled {
		orders = append(orders, r.Perm(n))
	}
	for _, order := range orders {
		want := podsOf(len(order))
		got := make([]corev1.Pod, len(order))
		for i, at := range order {
			got[i] = want[at]
		}
		sortByKey(got)
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("sortByKey of order %v (-want +got):\n%s", order, diff)
		}
	}
}
