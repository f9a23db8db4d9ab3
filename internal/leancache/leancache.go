package leancache

import (
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/render"
)

// lastApplied is kubectl's client-side apply annotation: a copy of the object that no
// decision reads.
const lastApplied = corev1.LastAppliedConfigAnnotation

// Label selectors of the kinds the caches keep only in part (see Apply).
var (
	managed    = labels.SelectorFromSet(labels.Set{render.LabelManagedBy: render.FieldManager})
	notManaged = labels.NewSelector().Add(mustRequirement(render.LabelManagedBy, selection.NotEquals, render.FieldManager))
)

func mustRequirement(key string, op selection.Operator, value string) labels.Requirement {
	r, err := labels.NewRequirement(key, op, []string{value})
	if err != nil {
		panic(err) // constants
	}
	return *r
}

// transforms are the kinds with a transform of their own, and a selector where the caches
// keep only some of them; every other kind gets StripManagedFields and no selector.
var transforms = []struct {
	obj   client.Object
	fn    toolscache.TransformFunc
	label labels.Selector
}{
	{&appsv1.Deployment{}, TrimDeployment, nil},
	{&platformv1alpha1.PublicService{}, TrimPublicService, nil},
	{&corev1.Pod{}, TrimPod, managed},
	{&appsv1.ReplicaSet{}, TrimWorkload, notManaged},
	{&appsv1.StatefulSet{}, TrimWorkload, nil},
	{&appsv1.DaemonSet{}, TrimWorkload, nil},
}

// Apply sets the selectors and transforms on o. The selectors: of Pods, only the operator's
// (for failure reasons; the connectivity check represents the others by their workloads); of
// ReplicaSets, only those that are not the operator's (a ReplicaSet of the operator's
// Deployments is never a workload of its own, and the audit finds a pod's Deployment from the
// ReplicaSet's name). The transforms: every kind loses managedFields and kubectl's
// last-applied annotation, except PublicServices (whose status ownership is read and migrated
// by field manager: TrimPublicService) and Deployments, which keep only the managedFields
// entries that own spec.replicas (the replicas handoff reads them) and are trimmed like the
// other workloads, with a digest of their whole pod template (TrimDeployment); Pods,
// ReplicaSets, StatefulSets and DaemonSets are trimmed to what the connectivity check and the
// pod failure reasons read. Every transform ends with Share: objects with the same labels
// share one map. Entries already in o.ByObject keep their selectors.
func Apply(o cache.Options) cache.Options {
	if o.ByObject == nil {
		o.ByObject = map[client.Object]cache.ByObject{}
	}
	o.DefaultTransform = thenShare(StripManagedFields)
	for _, t := range transforms {
		key, by := t.obj, cache.ByObject{}
		for k, v := range o.ByObject {
			if sameType(k, t.obj) {
				key, by = k, v
				break
			}
		}
		by.Transform = thenShare(t.fn)
		if by.Label == nil {
			by.Label = t.label
		}
		o.ByObject[key] = by
	}
	return o
}

// Form returns a copy of obj in the form the cache keeps it, through the same transform as
// the informers: what a decision comparing an object from the API server with a cached one
// (the apply memo) must compare. The transforms are idempotent, so a cached object comes back
// as it is.
func Form(obj client.Object) (client.Object, error) {
	fn := toolscache.TransformFunc(StripManagedFields)
	for _, t := range transforms {
		if sameType(t.obj, obj) {
			fn = t.fn
			break
		}
	}
	out, err := fn(obj.DeepCopyObject())
	if err != nil {
		return nil, err
	}
	form, ok := out.(client.Object)
	if !ok {
		return nil, fmt.Errorf("the transform of %T returned %T", obj, out)
	}
	return form, nil
}

func sameType(a, b client.Object) bool { return reflect.TypeOf(a) == reflect.TypeOf(b) }

// StripManagedFields drops managedFields and the last-applied annotation.
func StripManagedFields(in any) (any, error) {
	if obj, ok := in.(metav1.Object); ok {
		obj.SetManagedFields(nil)
		stripLastApplied(obj)
	}
	return in, nil
}

// TrimPublicService drops the last-applied annotation and keeps of managedFields what the
// controllers read: which manager owns status through which operation (hasStatusApplyEntry),
// without the fields themselves. A PublicService whose status a manager owns through an
// Update operation (an earlier version of the operator, or an edit by hand) keeps its
// managedFields whole: the status ownership migration (csaupgrade) rewrites them from the
// cached object, once, after which no such entry is left.
func TrimPublicService(in any) (any, error) {
	obj, ok := in.(metav1.Object)
	if !ok {
		return in, nil
	}
	stripLastApplied(obj)
	entries := obj.GetManagedFields()
	for _, mf := range entries {
		if mf.Operation == metav1.ManagedFieldsOperationUpdate && mf.Subresource == "status" {
			return in, nil
		}
	}
	for i := range entries {
		entries[i].FieldsV1 = nil
	}
	return in, nil
}

func stripLastApplied(obj metav1.Object) {
	if a := obj.GetAnnotations(); a != nil {
		if _, ok := a[lastApplied]; ok {
			delete(a, lastApplied)
			obj.SetAnnotations(a)
		}
	}
}

// TrimPod keeps of a Pod its metadata (without managedFields), the names and ports of its
// containers, whether it uses the host's network, and of its status the phase, IPs,
// conditions and the containers' waiting states: what the connectivity check and the pod
// failure reasons read.
func TrimPod(in any) (any, error) {
	p, ok := in.(*corev1.Pod)
	if !ok {
		return StripManagedFields(in)
	}
	_, _ = StripManagedFields(p)
	p.Spec = corev1.PodSpec{
		Containers:  trimContainers(p.Spec.Containers),
		HostNetwork: p.Spec.HostNetwork,
	}
	conditions := make([]corev1.PodCondition, 0, len(p.Status.Conditions))
	for _, c := range p.Status.Conditions {
		conditions = append(conditions, corev1.PodCondition{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message})
	}
	p.Status = corev1.PodStatus{
		Phase:                 p.Status.Phase,
		PodIP:                 p.Status.PodIP,
		PodIPs:                p.Status.PodIPs,
		Conditions:            conditions,
		InitContainerStatuses: trimStatuses(p.Status.InitContainerStatuses),
		ContainerStatuses:     trimStatuses(p.Status.ContainerStatuses),
	}
	return p, nil
}

// TrimWorkload keeps of a ReplicaSet, StatefulSet or DaemonSet its metadata (without
// managedFields) and its pod template's labels and container ports, what the connectivity
// check reads; the status goes.
func TrimWorkload(in any) (any, error) {
	_, _ = StripManagedFields(in)
	switch w := in.(type) {
	case *appsv1.ReplicaSet:
		w.Spec.Template = trimTemplate(w.Spec.Template)
		w.Status = appsv1.ReplicaSetStatus{}
	case *appsv1.StatefulSet:
		w.Spec.Template = trimTemplate(w.Spec.Template)
		w.Spec.VolumeClaimTemplates = nil
		w.Status = appsv1.StatefulSetStatus{}
	case *appsv1.DaemonSet:
		w.Spec.Template = trimTemplate(w.Spec.Template)
		w.Status = appsv1.DaemonSetStatus{}
	}
	return in, nil
}

func trimTemplate(t corev1.PodTemplateSpec) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: t.Labels},
		Spec:       corev1.PodSpec{Containers: trimContainers(t.Spec.Containers), HostNetwork: t.Spec.HostNetwork},
	}
}

func trimContainers(cs []corev1.Container) []corev1.Container {
	out := make([]corev1.Container, 0, len(cs))
	for _, c := range cs {
		out = append(out, corev1.Container{Name: c.Name, Ports: c.Ports})
	}
	return out
}

func trimStatuses(ss []corev1.ContainerStatus) []corev1.ContainerStatus {
	if ss == nil {
		return nil
	}
	out := make([]corev1.ContainerStatus, 0, len(ss))
	for _, s := range ss {
		out = append(out, corev1.ContainerStatus{Name: s.Name, State: corev1.ContainerState{Waiting: s.State.Waiting}})
	}
	return out
}
