package controllers

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

func req(key string) reconcile.Request { return reconcile.Request{NamespacedName: parseKey(key)} }

func TestTrackedQueuePending(t *testing.T) {
	p := &pendingServices{}
	q := newTrackedQueue(p)("test", workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	portal := req("city/portal")
	expect := func(step string, want bool) {
		t.Helper()
		if got := p.has("city/portal"); got != want {
			t.Fatalf("%s: pending = %v, want %v", step, got, want)
		}
	}
	expect("nothing added", false)
	q.Add(portal)
	expect("queued", true)
	item, _ := q.Get()
	expect("being reconciled", true)
	q.Done(item)
	expect("reconciled", false)

	q.Add(portal)
	item, _ = q.Get()
	q.Add(portal) // a change while it reconciles: the queue reconciles it again
	q.Done(item)
	expect("changed while reconciled", true)
	item, _ = q.Get()
	q.Done(item)
	expect("reconciled again", false)

	q.AddAfter(portal, time.Hour)
	expect("waiting for a requeue", true)
	if p.has("city/other") {
		t.Error("a service never added is pending")
	}
	if got := len(p.added); got != 1 {
		t.Errorf("len() = %d, want 1", got)
	}
	var none *pendingServices
	if none.has("city/portal") {
		t.Error("a nil pendingServices has something pending")
	}
}

type pendingSet map[string]bool

func (s pendingSet) Pending(key string) bool { return s[key] }

func TestHoldsSettling(t *testing.T) {
	missing := connectivityResult{audited: true, missingPeers: []string{"city/forms", "zone/hospital"}}
	now := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	extra := connectivityResult{audited: true, extra: true, extraPeers: []string{"city/kiosk"}}
	cases := []struct {
		name     string
		pending  PendingServices
		result   connectivityResult
		reported bool // False already written for this generation
		want     bool
	}{
		{name: "a peer of a missing flow has work", pending: pendingSet{"city/forms": true}, result: missing, want: true},
		{name: "the service itself has work", pending: pendingSet{"city/portal": true}, result: missing, want: true},
		{name: "nobody involved has work", pending: pendingSet{"city/other": true}, result: missing, want: false},
		{name: "verified", pending: pendingSet{"city/portal": true}, result: connectivityResult{audited: true, verified: true}, want: false},
		{name: "extra flows show at once", pending: pendingSet{"city/forms": true},
			result: connectivityResult{audited: true, extra: true, missingPeers: []string{"city/forms"}}, want: false},
		{name: "audit failed", pending: pendingSet{"city/portal": true}, result: connectivityResult{failed: true}, want: false},
		{name: "no workload yet", pending: pendingSet{"city/portal": true}, result: connectivityResult{}, want: false},
		{name: "no pending services known", pending: nil, result: missing, want: false},
		{name: "new extra flows show at once, whoever has work", pending: pendingSet{"city/kiosk": true, "city/portal": true},
			result: extra, want: false},
		{name: "a reported False whose extra flows change while a peer has work", pending: pendingSet{"city/kiosk": true},
			result: extra, reported: true, want: true},
		{name: "a reported False whose extra flows change while nobody involved has work", pending: pendingSet{"city/other": true},
			result: extra, reported: true, want: false},
		{name: "a reported False, verified now", pending: pendingSet{"city/portal": true},
			result: connectivityResult{audited: true, verified: true}, reported: true, want: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h holds
			if got := h.settling(tc.pending, "city/portal", tc.result, tc.reported, now); got != tc.want {
				t.Errorf("settling() = %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("held at most maxHold", func(t *testing.T) {
		var h holds
		busy := pendingSet{"city/forms": true}
		if !h.settling(busy, "city/portal", missing, false, now) {
			t.Fatal("not held at first")
		}
		if !h.settling(busy, "city/portal", missing, false, now.Add(maxHold-time.Second)) {
			t.Fatal("not held before maxHold")
		}
		if h.settling(busy, "city/portal", missing, false, now.Add(maxHold)) {
			t.Fatal("still held at maxHold")
		}
		if !h.settling(busy, "city/portal", missing, false, now.Add(maxHold+time.Second)) {
			t.Error("a new hold does not start after a report")
		}
		h.forget("city/portal")
		if _, ok := h.since.Load("city/portal"); ok {
			t.Error("forget kept the hold")
		}
	})
}

func TestSettleIfOwned(t *testing.T) {
	owned := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{{
		APIVersion: platformv1alpha1.GroupVersion.String(), Kind: "PublicService", Name: "portal", Controller: new(true)}}}}
	foreign := &networkingv1.NetworkPolicy{}
	otherOwner := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{{
		APIVersion: "example.com/v1", Kind: "PublicService", Name: "portal", Controller: new(true)}}}}
	notController := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{{
		APIVersion: platformv1alpha1.GroupVersion.String(), Kind: "PublicService", Name: "portal"}}}}
	for name, tc := range map[string]struct {
		obj  client.Object
		want time.Duration
	}{
		"the operator's policy":             {owned, settleDelay},
		"a foreign policy":                  {foreign, 0},
		"another API group's PublicService": {otherOwner, 0},
		"an owner that is not a controller": {notController, 0},
	} {
		if got := settleIfOwned(tc.obj); got != tc.want {
			t.Errorf("%s: delay %s, want %s", name, got, tc.want)
		}
	}
}

// recordingQueue records how requests are added.
type recordingQueue struct {
	workqueue.TypedRateLimitingInterface[reconcile.Request]
	now, later []reconcile.Request
}

func (q *recordingQueue) Add(r reconcile.Request) { q.now = append(q.now, r) }
func (q *recordingQueue) AddAfter(r reconcile.Request, d time.Duration) {
	if d != settleDelay {
		panic("unexpected delay " + d.String())
	}
	q.later = append(q.later, r)
}

func TestEnqueueMapped(t *testing.T) {
	mapTo := func(_ context.Context, o client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: "mapped-" + o.GetName()}}}
	}
	h := enqueueMapped(mapTo, settleIfOwned)
	owned := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "city", Name: "portal", OwnerReferences: []metav1.OwnerReference{{
		APIVersion: platformv1alpha1.GroupVersion.String(), Kind: "PublicService", Name: "portal", Controller: new(true)}}}}
	foreign := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "city", Name: "allow-all"}}
	q := &recordingQueue{}
	ctx := context.Background()
	h.Create(ctx, event.CreateEvent{Object: foreign}, q)
	h.Update(ctx, event.UpdateEvent{ObjectOld: owned, ObjectNew: owned}, q)
	h.Delete(ctx, event.DeleteEvent{Object: foreign}, q)
	h.Generic(ctx, event.GenericEvent{Object: owned}, q)
	if len(q.now) != 2 || q.now[0].Name != "mapped-allow-all" {
		t.Errorf("added at once: %v, want the foreign policy's request twice", q.now)
	}
	if len(q.later) != 3 || q.later[0].Name != "mapped-portal" {
		t.Errorf("added after settling: %v, want the owned policy's request three times (old and new, generic)", q.later)
	}
}

func TestPodFailureChanged(t *testing.T) {
	pod := func(waiting string, ready bool) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "portal-1"}}
		if waiting != "" {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app",
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: waiting}}}}
		}
		if ready {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		}
		return p
	}
	p := podFailureChanged()
	for name, tc := range map[string]struct {
		before, after *corev1.Pod
		want          bool
	}{
		"starts failing":             {pod("", false), pod("ImagePullBackOff", false), true},
		"failure changes":            {pod("ImagePullBackOff", false), pod("CrashLoopBackOff", false), true},
		"recovers":                   {pod("CrashLoopBackOff", false), pod("", true), true},
		"becomes ready":              {pod("", false), pod("", true), false},
		"waits for a harmless cause": {pod("", false), pod("ContainerCreating", false), false},
	} {
		if got := p.Update(event.UpdateEvent{ObjectOld: tc.before, ObjectNew: tc.after}); got != tc.want {
			t.Errorf("%s: Update = %v, want %v", name, got, tc.want)
		}
	}
	if p.Create(event.CreateEvent{Object: pod("", false)}) || p.Delete(event.DeleteEvent{Object: pod("", true)}) {
		t.Error("pod creations and deletions wake the service; its Deployment's status tells")
	}
}

func TestRecordChanges(t *testing.T) {
	rec := events.NewFakeRecorder(10)
	r := &PublicServiceReconciler{Recorder: rec}
	svc := &platformv1alpha1.PublicService{ObjectMeta: metav1.ObjectMeta{Namespace: "city", Name: "portal"}}
	r.recordChanges(&scope{svc: svc})
	r.recordChanges(&scope{svc: svc, created: []string{"NetworkPolicy", "Deployment"}, updated: []string{"Service"}})
	close(rec.Events)
	var got []string
	for e := range rec.Events {
		got = append(got, e)
	}
	want := []string{
		"Normal Created Created NetworkPolicy, Deployment (named portal)",
		"Normal Updated Updated Service (named portal)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("events %q, want %q (none for a reconcile that changed nothing)", got, want)
	}
}

func TestReportedFalse(t *testing.T) {
	svc := func(status metav1.ConditionStatus, observed int64) *platformv1alpha1.PublicService {
		s := &platformv1alpha1.PublicService{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
		if status != "" {
			s.Status.Conditions = []metav1.Condition{{Type: platformv1alpha1.ConditionConnectivityVerified, Status: status, ObservedGeneration: observed}}
		}
		return s
	}
	for name, tc := range map[string]struct {
		svc  *platformv1alpha1.PublicService
		want bool
	}{
		"False for this generation":     {svc(metav1.ConditionFalse, 2), true},
		"False for an older generation": {svc(metav1.ConditionFalse, 1), false},
		"True":                          {svc(metav1.ConditionTrue, 2), false},
		"no condition":                  {svc("", 0), false},
	} {
		if got := reportedFalse(tc.svc); got != tc.want {
			t.Errorf("%s: reportedFalse = %v, want %v", name, got, tc.want)
		}
	}
}

// TestHeldVerdictsWakeWhenTheirPeersSettle follows a held verdict from the hold to the wake: the
// PublicService controller's queue reports each service whose work is done, and the verdicts
// that waited for it, and only those, come back once.
func TestHeldVerdictsWakeWhenTheirPeersSettle(t *testing.T) {
	p := &pendingServices{}
	var h holds
	var woken []string
	p.notify(func(key string) { woken = append(woken, h.settled(key)...) })
	q := newTrackedQueue(p)("test", workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()

	forms, kiosk := req("city/forms"), req("city/kiosk")
	q.Add(forms)
	q.Add(kiosk)
	missing := connectivityResult{audited: true, missingPeers: []string{"city/forms"}}
	now := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	if !h.settling(pendingOf{p}, "city/portal", missing, false, now) {
		t.Fatal("portal's verdict is not held while forms has work")
	}
	for range 2 {
		item, _ := q.Get()
		q.Done(item)
	}
	if !slices.Equal(woken, []string{"city/portal"}) {
		t.Errorf("woken %v, want portal's held verdict once (forms settled; kiosk is no peer)", woken)
	}
	q.Add(forms)
	item, _ := q.Get()
	q.Done(item)
	if len(woken) != 1 {
		t.Errorf("woken %v after forms settled again, want no new wake: portal no longer waits", woken)
	}
}

// pendingOf reads a pendingServices as the connectivity controller reads the PublicService
// controller's.
type pendingOf struct{ p *pendingServices }

func (o pendingOf) Pending(key string) bool { return o.p.has(key) }
