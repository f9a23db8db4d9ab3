package leancache_test

import (
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/audit"
	"github.com/smartcity-io/smartcity-operator/internal/leancache"
)

var managedFields = []metav1.ManagedFieldsEntry{{Manager: "smartcity-operator", Operation: metav1.ManagedFieldsOperationApply,
	FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:replicas":{}}}`)}}

func meta(name string, owner *metav1.OwnerReference) metav1.ObjectMeta {
	m := metav1.ObjectMeta{Name: name, Namespace: "hanoi", UID: types.UID("uid-" + name), ResourceVersion: "7",
		Labels:        map[string]string{"app.kubernetes.io/name": "portal", "tier": "web"},
		Annotations:   map[string]string{corev1.LastAppliedConfigAnnotation: `{"big":"copy"}`, "keep": "me"},
		ManagedFields: managedFields}
	if owner != nil {
		m.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	return m
}

func podSpec() corev1.PodSpec {
	return corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init", Image: "busybox", Command: []string{"sh", "-c", "true"}}},
		Containers: []corev1.Container{{Name: "app", Image: "registry.example/portal:1", Env: []corev1.EnvVar{{Name: "A", Value: "b"}},
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}}},
		Volumes:  []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		NodeName: "node-1",
	}
}

func template() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "db"}, Annotations: map[string]string{"x": "y"}},
		Spec: podSpec()}
}

func transform(t *testing.T, fn func(any) (any, error), obj client.Object) client.Object {
	t.Helper()
	out, err := fn(obj)
	if err != nil {
		t.Fatal(err)
	}
	return out.(client.Object)
}

func TestTrimPod(t *testing.T) {
	rs := &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "portal-5d8f", UID: "rs", Controller: new(true)}
	waiting := &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "no such image"}
	pod := &corev1.Pod{ObjectMeta: meta("portal-5d8f-x1", rs), Spec: podSpec(), Status: corev1.PodStatus{
		Phase: corev1.PodPending, PodIP: "10.0.0.7", PodIPs: []corev1.PodIP{{IP: "10.0.0.7"}}, HostIP: "192.168.0.2",
		Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
			Message: "0/3 nodes", LastTransitionTime: metav1.Now()}},
		InitContainerStatuses: []corev1.ContainerStatus{{Name: "init", Image: "busybox", ImageID: "sha256:1", Ready: true}},
		ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Image: "registry.example/portal:1", RestartCount: 3,
			State: corev1.ContainerState{Waiting: waiting}, LastTerminationState: corev1.ContainerState{Waiting: waiting}}},
	}}
	want := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "portal-5d8f-x1", Namespace: "hanoi", UID: "uid-portal-5d8f-x1", ResourceVersion: "7",
			Labels: pod.Labels, Annotations: map[string]string{"keep": "me"}, OwnerReferences: []metav1.OwnerReference{*rs}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodPending, PodIP: "10.0.0.7", PodIPs: []corev1.PodIP{{IP: "10.0.0.7"}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
				Reason: corev1.PodReasonUnschedulable, Message: "0/3 nodes"}},
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "init"}},
			ContainerStatuses:     []corev1.ContainerStatus{{Name: "app", State: corev1.ContainerState{Waiting: waiting}}},
		},
	}
	if diff := cmp.Diff(want, transform(t, leancache.TrimPod, pod)); diff != "" {
		t.Errorf("TrimPod (-want +got):\n%s", diff)
	}
}

// The connectivity check sees the same workloads in trimmed objects as in whole ones.
func TestTrimKeepsWorkloads(t *testing.T) {
	rs := &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "orphan", UID: "rs", Controller: new(true)}
	job := &metav1.OwnerReference{APIVersion: "batch/v1", Kind: "Job", Name: "nightly", UID: "job", Controller: new(true)}
	// The portal's Deployment, its ReplicaSet and a pod: the Deployment stands for both.
	portal := &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "portal", UID: "uid-portal", Controller: new(true)}
	portalRS := &metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "portal-5d8f", UID: "uid-portal-5d8f", Controller: new(true)}
	objects := func() []client.Object {
		d := deployment(t)
		d.OwnerReferences = nil // not the operator's here: a foreign workload counts the same
		portalPod := &corev1.Pod{ObjectMeta: meta("portal-5d8f-x1", portalRS), Spec: d.Spec.Template.Spec,
			Status: corev1.PodStatus{Phase: corev1.PodRunning}}
		portalPod.Labels = d.Spec.Template.Labels
		return []client.Object{
			d,
			&appsv1.ReplicaSet{ObjectMeta: meta("portal-5d8f", portal), Spec: appsv1.ReplicaSetSpec{Template: d.Spec.Template}},
			portalPod,
			&appsv1.ReplicaSet{ObjectMeta: meta("orphan", nil), Spec: appsv1.ReplicaSetSpec{Template: template()},
				Status: appsv1.ReplicaSetStatus{Replicas: 2}},
			&appsv1.StatefulSet{ObjectMeta: meta("db", nil), Spec: appsv1.StatefulSetSpec{Template: template()},
				Status: appsv1.StatefulSetStatus{Replicas: 3}},
			&appsv1.DaemonSet{ObjectMeta: meta("agent", nil), Spec: appsv1.DaemonSetSpec{Template: template()},
				Status: appsv1.DaemonSetStatus{NumberReady: 3}},
			&corev1.Pod{ObjectMeta: meta("orphan-x", rs), Spec: podSpec(), Status: corev1.PodStatus{Phase: corev1.PodRunning}},
			&corev1.Pod{ObjectMeta: meta("nightly-x", job), Spec: podSpec(), Status: corev1.PodStatus{Phase: corev1.PodRunning}},
			&corev1.Pod{ObjectMeta: meta("bare", nil), Spec: podSpec(), Status: corev1.PodStatus{Phase: corev1.PodRunning}},
			&corev1.Pod{ObjectMeta: meta("done", nil), Spec: podSpec(), Status: corev1.PodStatus{Phase: corev1.PodSucceeded}},
		}
	}
	whole, trimmed := &audit.Model{}, &audit.Model{}
	for _, obj := range objects() {
		whole.Add(obj)
	}
	for _, obj := range objects() {
		trimmed.Add(transform(t, transformOf(t, obj), obj))
	}
	want := whole.Workloads()
	if len(want) != 6 {
		t.Fatalf("the whole model has %d workloads, want 6 (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, bare pod): %+v", len(want), want)
	}
	if diff := cmp.Diff(want, trimmed.Workloads()); diff != "" {
		t.Errorf("workloads of trimmed objects (-whole +trimmed):\n%s", diff)
	}
	for _, w := range trimmed.StatefulSets {
		if w.Status.Replicas != 0 || len(w.ManagedFields) != 0 || w.Spec.Template.Spec.Containers[0].Image != "" {
			t.Errorf("StatefulSet %s was not trimmed: %+v", w.Name, w)
		}
	}
	for _, d := range trimmed.Deployments {
		if d.Spec.Template.Spec.Containers[0].Image != "" || d.Annotations[leancache.TemplateDigestAnnotation] == "" {
			t.Errorf("Deployment %s was not trimmed: %+v", d.Name, d)
		}
	}
}

// transformOf is the transform that Apply sets for obj's kind.
func transformOf(t *testing.T, obj client.Object) func(any) (any, error) {
	t.Helper()
	for k, by := range leancache.Apply(cache.Options{}).ByObject {
		if reflect.TypeOf(k) == reflect.TypeOf(obj) {
			return by.Transform
		}
	}
	return leancache.StripManagedFields
}

func TestStripKeepsManagedFieldsWhereRead(t *testing.T) {
	statusApply := metav1.ManagedFieldsEntry{Manager: "smartcity-operator-connectivity", Operation: metav1.ManagedFieldsOperationApply,
		Subresource: "status", FieldsV1: metav1.NewFieldsV1(`{"f:status":{"f:conditions":{}}}`)}
	statusUpdate := metav1.ManagedFieldsEntry{Manager: "manager", Operation: metav1.ManagedFieldsOperationUpdate,
		Subresource: "status", FieldsV1: metav1.NewFieldsV1(`{"f:status":{"f:phase":{}}}`)}
	withEntries := func(m metav1.ObjectMeta, entries ...metav1.ManagedFieldsEntry) metav1.ObjectMeta {
		m.ManagedFields = append(slices.Clone(managedFields), entries...)
		return m
	}
	withoutFields := func(entries ...metav1.ManagedFieldsEntry) []metav1.ManagedFieldsEntry {
		out := slices.Clone(entries)
		for i := range out {
			out[i].FieldsV1 = nil
		}
		return out
	}
	cases := []struct {
		name string
		fn   func(any) (any, error)
		obj  client.Object
		want []metav1.ManagedFieldsEntry
	}{
		{name: "PublicService: which manager owns status how, without the fields", fn: leancache.TrimPublicService,
			obj:  &platformv1alpha1.PublicService{ObjectMeta: withEntries(meta("portal", nil), statusApply)},
			want: withoutFields(append(slices.Clone(managedFields), statusApply)...)},
		{name: "PublicService: whole while an Update owns status (the ownership migration rewrites them)", fn: leancache.TrimPublicService,
			obj:  &platformv1alpha1.PublicService{ObjectMeta: withEntries(meta("portal", nil), statusApply, statusUpdate)},
			want: append(slices.Clone(managedFields), statusApply, statusUpdate)},
		{name: "Service: the drift repair reads them uncached", fn: leancache.StripManagedFields,
			obj: &corev1.Service{ObjectMeta: meta("portal", nil)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := transform(t, tc.fn, tc.obj)
			if diff := cmp.Diff(tc.want, got.GetManagedFields(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("managedFields (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]string{"keep": "me"}, got.GetAnnotations()); diff != "" {
				t.Errorf("annotations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApply(t *testing.T) {
	mine := labels.Set{"app.kubernetes.io/managed-by": "smartcity-operator"}
	theirs := labels.Set{"app.kubernetes.io/managed-by": "helm"}
	cases := []struct {
		name string
		in   cache.Options
		// wantPods and wantReplicaSets say which of the operator's and others' objects the
		// selectors keep.
		wantPods, wantReplicaSets [2]bool
	}{
		{name: "the selectors Apply sets", wantPods: [2]bool{true, false}, wantReplicaSets: [2]bool{false, true}},
		{name: "a selector already set is kept",
			in:       cache.Options{ByObject: map[client.Object]cache.ByObject{&corev1.Pod{}: {Label: labels.Everything()}}},
			wantPods: [2]bool{true, true}, wantReplicaSets: [2]bool{false, true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := leancache.Apply(tc.in)
			if o.DefaultTransform == nil {
				t.Fatal("no default transform")
			}
			kept := func(by cache.ByObject) [2]bool {
				return [2]bool{by.Label.Matches(mine), by.Label.Matches(theirs)}
			}
			seen := map[string]int{}
			for obj, by := range o.ByObject {
				if by.Transform == nil {
					t.Errorf("%T has no transform", obj)
				}
				switch obj.(type) {
				case *corev1.Pod:
					seen["Pod"]++
					if got := kept(by); got != tc.wantPods {
						t.Errorf("pods kept (operator's, others') = %v, want %v", got, tc.wantPods)
					}
					got, err := by.Transform(&corev1.Pod{Spec: podSpec()})
					if err != nil || got.(*corev1.Pod).Spec.NodeName != "" {
						t.Errorf("the pods' transform is not TrimPod: %v, %v", got, err)
					}
				case *appsv1.ReplicaSet:
					seen["ReplicaSet"]++
					if got := kept(by); got != tc.wantReplicaSets {
						t.Errorf("ReplicaSets kept (operator's, others') = %v, want %v", got, tc.wantReplicaSets)
					}
				case *appsv1.Deployment:
					seen["Deployment"]++
					got, err := by.Transform(deployment(t))
					if err != nil || got.(*appsv1.Deployment).Annotations[leancache.TemplateDigestAnnotation] == "" {
						t.Errorf("the Deployments' transform is not TrimDeployment: %v, %v", got, err)
					}
				}
			}
			if want := map[string]int{"Pod": 1, "ReplicaSet": 1, "Deployment": 1}; !maps.Equal(seen, want) || len(o.ByObject) != 6 {
				t.Errorf("ByObject has %d entries (%v), want 6 (1 each of %v)", len(o.ByObject), seen, want)
			}
		})
	}
}
