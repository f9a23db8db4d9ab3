package audit

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

// listReader lists a Model's objects as an API server would. It only implements List:
// ReadCluster needs nothing else (envtest covers a real API server).
type listReader struct {
	client.Reader
	m *Model
}

func (r listReader) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	switch l := list.(type) {
	case *corev1.NamespaceList:
		l.Items = r.m.Namespaces
	case *networkingv1.NetworkPolicyList:
		l.Items = r.m.NetworkPolicies
	case *appsv1.DeploymentList:
		l.Items = r.m.Deployments
	case *appsv1.StatefulSetList:
		l.Items = r.m.StatefulSets
	case *appsv1.DaemonSetList:
		l.Items = r.m.DaemonSets
	case *appsv1.ReplicaSetList:
		l.Items = r.m.ReplicaSets
	case *corev1.PodList:
		l.Items = r.m.Pods
	case *platformv1alpha1.PublicServiceList:
		l.Items = r.m.PublicServices
	case *platformv1alpha1.NetworkZoneList:
		l.Items = r.m.NetworkZones
	default:
		return fmt.Errorf("unexpected list %T", list)
	}
	return nil
}

// asRunning adds what a running cluster holds besides the applied objects: the
// kubernetes.io/metadata.name label of every namespace, and for every Deployment a
// ReplicaSet and two pods.
func asRunning(m *Model) *Model {
	out := m.DeepCopy()
	for i := range out.Namespaces {
		ns := &out.Namespaces[i]
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[corev1.LabelMetadataName] = ns.Name
	}
	for _, d := range m.Deployments {
		rs := appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name + "-6b7f9c",
			OwnerReferences: owned(kindDeployment, d.Name)}, Spec: appsv1.ReplicaSetSpec{Template: d.Spec.Template}}
		out.Add(&rs)
		for _, suffix := range []string{"a1", "b2"} {
			p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: rs.Name + "-" + suffix, Labels: d.Spec.Template.Labels,
				OwnerReferences: owned("ReplicaSet", rs.Name)}, Spec: d.Spec.Template.Spec, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
			out.Add(&p)
		}
	}
	return out
}

// TestLiveAndOfflineAgree audits the rendered topologies as if a cluster held them (with the
// pods that Deployments make): the live path must see the same workloads and give the same
// report as the offline one.
func TestLiveAndOfflineAgree(t *testing.T) {
	for _, tp := range topologies {
		t.Run(tp.name, func(t *testing.T) {
			offline := auditTopology(t, tp)
			m, err := ReadFiles(tp.files(), false, nil)
			if err != nil {
				t.Fatal(err)
			}
			rendered, err := Rendered(m, Options{}.Render)
			if err != nil {
				t.Fatal(err)
			}
			cluster, err := ReadCluster(context.Background(), listReader{m: asRunning(rendered)})
			if err != nil {
				t.Fatal(err)
			}
			live, err := Analyze(cluster, Options{})
			if err != nil {
				t.Fatal(err)
			}
			// Notes about the files (duplicates, name conflicts) only exist offline.
			if diff := cmp.Diff(offline, live, cmpopts.IgnoreFields(Report{}, "Source", "Notes")); diff != "" {
				t.Errorf("offline and live reports differ (-offline +live):\n%s", diff)
			}
		})
	}
}
