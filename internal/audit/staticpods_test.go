package audit

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A real cluster's control plane runs static pods whose mirror pods a Node owns; the analyzer
// treats them as bare pods, and so must the model (found on kind: the audit refused to run).
func TestStaticPodsAreBarePods(t *testing.T) {
	static := func(name string) corev1.Pod {
		return corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-node1", Namespace: "kube-system", Labels: map[string]string{"component": name},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: "node1", Controller: new(true)}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning},
		}
	}
	m := &Model{
		Namespaces: []corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "kube-system", Labels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}}}},
		Pods:       []corev1.Pod{static("etcd"), static("kube-apiserver")},
	}
	workloads := m.Workloads()
	ids := make([]string, 0, len(workloads))
	for _, w := range workloads {
		ids = append(ids, w.ID())
	}
	if len(ids) != 2 || ids[0] == ids[1] {
		t.Fatalf("want two bare-pod workloads, got %v", ids)
	}
	if _, err := Analyze(m, Options{}); err != nil {
		t.Fatalf("Analyze with static pods: %v", err)
	}
}
