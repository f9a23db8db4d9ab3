package controllers

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
	"github.com/smartcity-io/smartcity-operator/internal/render"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

func TestConnectivityCondition(t *testing.T) {
	const typ = platformv1alpha1.ConditionConnectivityVerified
	earlier := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	verified := cond(typ, metav1.ConditionTrue, platformv1alpha1.ReasonEffectiveMatchesIntent, "before")
	verified.LastTransitionTime, verified.ObservedGeneration = earlier, 1
	cases := []struct {
		name   string
		prev   *metav1.Condition
		result connectivityResult
		want   *metav1.Condition
	}{
		{"verified", nil, connectivityResult{audited: true, verified: true, message: "ok"},
			new(cond(typ, metav1.ConditionTrue, platformv1alpha1.ReasonEffectiveMatchesIntent, "ok"))},
		{"mismatch", nil, connectivityResult{audited: true, message: "extra ingress from {any-pod}"},
			new(cond(typ, metav1.ConditionFalse, platformv1alpha1.ReasonConnectivityMismatch, "extra ingress from {any-pod}"))},
		{"no workload and no verdict yet: nothing to say", nil, connectivityResult{}, nil},
		{"no workload any more", &verified, connectivityResult{},
			new(cond(typ, metav1.ConditionUnknown, platformv1alpha1.ReasonAuditFailed, "the service has no workload to audit yet"))},
		{"the audit failed: no error text", nil, connectivityResult{failed: true},
			new(cond(typ, metav1.ConditionUnknown, platformv1alpha1.ReasonAuditFailed, "the connectivity audit failed; the error is in a Warning event"))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := connectivityCondition(tc.prev, 2, tc.result)
			if tc.want != nil {
				tc.want.ObservedGeneration = 2
			}
			if diff := cmp.Diff(tc.want, got, cmpIgnoreTransition); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	t.Run("keeps the transition time while the status holds, and prev is not modified", func(t *testing.T) {
		prev := verified
		got := connectivityCondition(&prev, 2, connectivityResult{audited: true, verified: true, message: "now"})
		if !got.LastTransitionTime.Equal(&earlier) || got.Message != "now" || got.ObservedGeneration != 2 {
			t.Errorf("got %+v, want the earlier transition time, the new message and generation 2", got)
		}
		if diff := cmp.Diff(verified, prev); diff != "" {
			t.Errorf("prev modified (-before +after):\n%s", diff)
		}
		if flipped := connectivityCondition(&prev, 2, connectivityResult{audited: true}); flipped.LastTransitionTime.Equal(&earlier) {
			t.Errorf("a status change kept the transition time %v", flipped.LastTransitionTime)
		}
	})
}

var cmpIgnoreTransition = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".LastTransitionTime" }, cmp.Ignore())

func TestFlowNamespaces(t *testing.T) {
	svc := testutil.PublicService("forms", "city").Consumes("vneid", "identity").Consumes("notify", "").
		AllowFromService("portal", "web").Obj()
	spec := svc.Effective()
	flows := intent.Resolved{Unadmitted: []types.NamespacedName{{Namespace: "stranger", Name: "x"}}}
	got := flowNamespaces(render.Options{}, svc, &spec, flows)
	want := []string{"city", "identity", render.DefaultIngressControllerNamespace, "kube-system", "stranger", "web"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flowNamespaces (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"city", "identity", "web"}, specNamespaces(svc.Namespace, &svc.Spec)); diff != "" {
		t.Errorf("specNamespaces (-want +got):\n%s", diff)
	}
}

func TestWorkloadChanged(t *testing.T) {
	deployment := func(mutate func(*appsv1.Deployment)) *appsv1.Deployment {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: "city", Generation: 1}}
		d.Spec.Template.Labels = map[string]string{"app": "legacy"}
		d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "app", Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}}
		if mutate != nil {
			mutate(d)
		}
		return d
	}
	controlledPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "city", Labels: map[string]string{"app": "x"},
		OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "x-1", Controller: new(true)}}}}
	barePod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "city", Labels: map[string]string{"app": "x"}}}
	finished := barePod.DeepCopy()
	finished.Status.Phase = corev1.PodSucceeded
	relabelled := barePod.DeepCopy()
	relabelled.Labels = map[string]string{"app": "y"}

	p := workloadChanged{}
	updates := []struct {
		name     string
		old, new client.Object
		want     bool
	}{
		{"scaled: ignored", deployment(nil), deployment(func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(3)); d.Generation = 2 }), false},
		{"status: ignored", deployment(nil), deployment(func(d *appsv1.Deployment) { d.Status.ReadyReplicas = 1 }), false},
		{"image: ignored", deployment(nil), deployment(func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "v2" }), false},
		{"pod labels", deployment(nil), deployment(func(d *appsv1.Deployment) { d.Spec.Template.Labels["tier"] = "db" }), true},
		{"ports", deployment(nil), deployment(func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Ports[0].ContainerPort = 9090 }), true},
		{"a controlled pod: ignored", controlledPod, controlledPod.DeepCopy(), false},
		{"a bare pod relabelled", barePod, relabelled, true},
		{"a bare pod finished", barePod, finished, true},
	}
	for _, tc := range updates {
		if got := p.Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}); got != tc.want {
			t.Errorf("%s: Update = %t, want %t", tc.name, got, tc.want)
		}
	}
	if p.Create(event.CreateEvent{Object: controlledPod}) || p.Delete(event.DeleteEvent{Object: controlledPod}) {
		t.Error("a controlled pod's creation or deletion passed: the audit counts its controller instead")
	}
	if !p.Create(event.CreateEvent{Object: deployment(nil)}) || !p.Delete(event.DeleteEvent{Object: barePod}) {
		t.Error("a workload's creation or a bare pod's deletion did not pass")
	}
}

func TestConditionChangedElsewhere(t *testing.T) {
	withCV := func(status metav1.ConditionStatus) *platformv1alpha1.PublicService {
		svc := testutil.PublicService("forms", "city").Obj()
		svc.Status.Conditions = []metav1.Condition{
			cond(platformv1alpha1.ConditionReady, metav1.ConditionTrue, platformv1alpha1.ReasonReady, "m"),
			cond(platformv1alpha1.ConditionConnectivityVerified, status, "R", "m"),
		}
		return svc
	}
	otherChanged := withCV(metav1.ConditionTrue)
	otherChanged.Status.Conditions[0].Message = "changed"
	removed := withCV(metav1.ConditionTrue)
	removed.Status.Conditions = removed.Status.Conditions[:1]
	r := &ConnectivityReconciler{}
	r.applied.Store("city/forms", withCV(metav1.ConditionTrue).Status.Conditions[1])
	p := r.conditionChangedElsewhere()
	for _, tc := range []struct {
		name     string
		old, new *platformv1alpha1.PublicService
		want     bool
	}{
		{"another condition changed", withCV(metav1.ConditionTrue), otherChanged, false},
		{"ConnectivityVerified changed by someone else", withCV(metav1.ConditionTrue), withCV(metav1.ConditionFalse), true},
		{"ConnectivityVerified changed to what this controller applied", withCV(metav1.ConditionFalse), withCV(metav1.ConditionTrue), false},
		{"ConnectivityVerified removed", withCV(metav1.ConditionTrue), removed, true},
	} {
		if got := p.Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}); got != tc.want {
			t.Errorf("%s: Update = %t, want %t", tc.name, got, tc.want)
		}
	}
}

func TestStatusApplyConfiguration(t *testing.T) {
	svc := testutil.PublicService("forms", "city").Obj()
	c := cond(platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, "R", "m")
	c.LastTransitionTime = metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	ac, err := statusApplyConfiguration(svc, &platformv1alpha1.PublicServiceStatus{Conditions: []metav1.Condition{c}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(ac)
	if err != nil {
		t.Fatal(err)
	}
	// Only the condition: no zero-valued field that would make this manager own it.
	want := `{"apiVersion":"platform.smartcity.io/v1alpha1","kind":"PublicService","metadata":{"name":"forms","namespace":"city"},` +
		`"status":{"conditions":[{"lastTransitionTime":"2026-01-02T03:04:05Z","message":"m","reason":"R","status":"True","type":"ConnectivityVerified"}]}}`
	if string(raw) != want {
		t.Errorf("apply configuration\n got %s\nwant %s", raw, want)
	}
}
