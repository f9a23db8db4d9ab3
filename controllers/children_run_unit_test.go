package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
	"github.com/smartcity-io/smartcity-operator/internal/render"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// These tests reconcile one PublicService against controller-runtime's fake client, whose
// applies an interceptor logs, holds or fails: they are about the order and the concurrency of
// the requests, which envtest cannot control. What the reconcile produces is the envtest
// suite's business.

const (
	unitNamespace = "city"
	unitService   = "portal"
	// waitLimit bounds every wait of an interceptor: a test whose applies never meet fails
	// instead of hanging.
	waitLimit = 10 * time.Second
	// hold is how long the order tests keep every apply in flight, so that an apply that
	// should have waited for another would overlap it.
	hold = 20 * time.Millisecond
)

// fullService asks for every child: autoscaled (Deployment, replicas handoff, HPA), at least
// two replicas (PDB) and public (Ingress).
func fullService() *platformv1alpha1.PublicService {
	return testutil.PublicService(unitService, unitNamespace).UID("portal-uid").Replicas(2, 4).
		Exposure(platformv1alpha1.ExposurePublic).Host("portal.city.example").TLS("portal-tls").Obj()
}

// unitReconciler is a reconciler of svc over a fake client holding svc, its namespace and
// objs, with funcs intercepting the client's requests. The fake client's server-side apply
// deduces every type's schema from the objects: client-go's schema of a NetworkPolicy has no
// status, which its Go type still has, and it does not know PublicServices.
func unitReconciler(t *testing.T, svc *platformv1alpha1.PublicService, funcs interceptor.Funcs,
	objs ...client.Object) (*PublicServiceReconciler, client.Client) {
	t.Helper()
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(platformv1alpha1.AddToScheme(s))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: svc.Namespace}}
	c := fake.NewClientBuilder().WithScheme(s).
		WithObjects(append(objs, svc, ns)...).
		WithStatusSubresource(&platformv1alpha1.PublicService{}).
		WithIndex(&platformv1alpha1.PublicService{}, indexConsumes, func(o client.Object) []string {
			return intent.ConsumedKeys(o.(*platformv1alpha1.PublicService))
		}).
		WithInterceptorFuncs(funcs).
		WithTypeConverters(managedfields.NewDeducedTypeConverter()).
		Build()
	return &PublicServiceReconciler{Client: c, Recorder: events.NewFakeRecorder(100), Options: render.Options{IngressClass: "city"}}, c
}

func reconcileUnit(t *testing.T, r *PublicServiceReconciler, svc *platformv1alpha1.PublicService) (ctrl.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	defer cancel()
	return r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(svc)})
}

// foreign is an object of the service's name that it does not own.
func foreign[T client.Object](obj T) T {
	obj.SetNamespace(unitNamespace)
	obj.SetName(unitService)
	return obj
}

// applyKind names what an apply configuration applies: its kind, and "/handoff" for the
// replicas handoff's field manager.
func applyKind(ac runtime.ApplyConfiguration, opts []client.ApplyOption) string {
	raw, _ := json.Marshal(ac)
	var tm metav1.TypeMeta
	_ = json.Unmarshal(raw, &tm)
	o := &client.ApplyOptions{}
	o.ApplyOptions(opts)
	if o.FieldManager == render.HandoffFieldManager {
		return tm.Kind + "/handoff"
	}
	return tm.Kind
}

// applyLog logs the start and end of every apply of a child (status applies go through the
// subresource client and are not logged), and counts the applies in flight.
type applyLog struct {
	mu                    sync.Mutex
	entries               []string // "start Kind", "end Kind"
	inFlight, maxInFlight int
}

// funcs intercepts applies: before runs after an apply is logged as started and before it is
// sent; an error from it fails the apply instead.
func (l *applyLog) funcs(before func(kind string) error) interceptor.Funcs {
	return interceptor.Funcs{Apply: func(ctx context.Context, c client.WithWatch, ac runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
		kind := applyKind(ac, opts)
		l.mu.Lock()
		l.entries = append(l.entries, "start "+kind)
		l.inFlight++
		l.maxInFlight = max(l.maxInFlight, l.inFlight)
		l.mu.Unlock()
		defer func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.entries = append(l.entries, "end "+kind)
			l.inFlight--
		}()
		if err := before(kind); err != nil {
			return err
		}
		return c.Apply(ctx, ac, opts...)
	}}
}

func (l *applyLog) log() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

// kinds lists the kinds whose applies started, in order.
func (l *applyLog) kinds() []string {
	var kinds []string
	for _, e := range l.log() {
		if kind, ok := strings.CutPrefix(e, "start "); ok {
			kinds = append(kinds, kind)
		}
	}
	return kinds
}

// unitCondition is the PublicService's condition of type typ after the reconcile.
func unitCondition(t *testing.T, c client.Client, typ string) metav1.Condition {
	t.Helper()
	svc := &platformv1alpha1.PublicService{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: unitNamespace, Name: unitService}, svc); err != nil {
		t.Fatal(err)
	}
	cond := meta.FindStatusCondition(svc.Status.Conditions, typ)
	if cond == nil {
		t.Fatalf("no %s condition in %+v", typ, svc.Status.Conditions)
	}
	return *cond
}

// TestChildrenOrder: every apply is held in flight for a moment, so that an apply that should
// wait for another overlaps it when it does not; the log shows which ended before which began.
func TestChildrenOrder(t *testing.T) {
	l := &applyLog{}
	svc := fullService()
	r, _ := unitReconciler(t, svc, l.funcs(func(string) error { time.Sleep(hold); return nil }))
	if _, err := reconcileUnit(t, r, svc); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	log := l.log()
	kinds := l.kinds()
	want := []string{"NetworkPolicy", "ServiceAccount", "Service", "PodDisruptionBudget", "Ingress", "Deployment", "Deployment/handoff",
		"HorizontalPodAutoscaler"}
	for _, k := range want {
		if !slices.Contains(kinds, k) {
			t.Fatalf("%s was not applied; applies: %q", k, kinds)
		}
	}
	// before: each apply of first ended before any apply of then started.
	before := func(first, then string) {
		t.Helper()
		lastEnd := slices.Index(log, "end "+first)
		for i, e := range log {
			if e == "end "+first {
				lastEnd = i
			}
		}
		if firstStart := slices.Index(log, "start "+then); firstStart < lastEnd {
			t.Errorf("%s was applied before the %s's apply ended: %q", then, first, log)
		}
	}
	for _, k := range want[1:] {
		before("NetworkPolicy", k)
	}
	before("ServiceAccount", "Deployment")
	before("ServiceAccount", "Deployment/handoff")
	before("Deployment", "HorizontalPodAutoscaler")
	before("Deployment/handoff", "HorizontalPodAutoscaler")

	// The event lists the children in canonical order, not in the order they were applied.
	rec, _ := r.Recorder.(*events.FakeRecorder)
	close(rec.Events)
	var got []string
	for e := range rec.Events {
		got = append(got, e)
	}
	wantEvent := "Normal Created Created NetworkPolicy, ServiceAccount, Deployment, Service, HorizontalPodAutoscaler, " +
		"PodDisruptionBudget, Ingress (named portal)"
	if !slices.Contains(got, wantEvent) {
		t.Errorf("events %q, want %q", got, wantEvent)
	}
}

// TestChildrenNetworkPolicyConflict: a NetworkPolicy whose name is taken stops the reconcile
// before any child is applied.
func TestChildrenNetworkPolicyConflict(t *testing.T) {
	l := &applyLog{}
	svc := fullService()
	np := foreign(&networkingv1.NetworkPolicy{})
	r, c := unitReconciler(t, svc, l.funcs(func(string) error { return nil }), np)
	res, err := reconcileUnit(t, r, svc)
	if err != nil || res.RequeueAfter != time.Minute {
		t.Fatalf("reconcile = %+v, %v; want a retry after a minute", res, err)
	}
	if kinds := l.kinds(); len(kinds) > 0 {
		t.Errorf("applied %q although the NetworkPolicy's name is taken", kinds)
	}
	if got := unitCondition(t, c, platformv1alpha1.ConditionNetworkIsolated); got.Reason != platformv1alpha1.ReasonNameConflict {
		t.Errorf("NetworkIsolated %s/%s, want the name conflict", got.Status, got.Reason)
	}
}

// TestChildrenInFlightTogether: the applies of the ServiceAccount, the Service, the
// PodDisruptionBudget and the Ingress are held until all four have arrived; applied one after
// the other, the first waits in vain.
func TestChildrenInFlightTogether(t *testing.T) {
	together := []string{"ServiceAccount", "Service", "PodDisruptionBudget", "Ingress"}
	var mu sync.Mutex
	arrived := 0
	all := make(chan struct{})
	l := &applyLog{}
	svc := fullService()
	r, _ := unitReconciler(t, svc, l.funcs(func(kind string) error {
		if !slices.Contains(together, kind) {
			return nil
		}
		mu.Lock()
		if arrived++; arrived == len(together) {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
			return nil
		case <-time.After(waitLimit):
			mu.Lock()
			defer mu.Unlock()
			return fmt.Errorf("only %d of the %d applies of %q arrived together", arrived, len(together), together)
		}
	}))
	if _, err := reconcileUnit(t, r, svc); err != nil {
		t.Fatalf("reconcile: %v (applies %q)", err, l.log())
	}
	if l.maxInFlight > maxStepsInFlight {
		t.Errorf("%d applies in flight at once, more than %d", l.maxInFlight, maxStepsInFlight)
	}
}

// TestChildrenFirstFailureReported: when two children of a phase fail, the status and the
// returned error name the first in canonical order (the ServiceAccount), though it is made to
// finish last.
func TestChildrenFirstFailureReported(t *testing.T) {
	forbidden := func(kind string) error {
		return apierrors.NewForbidden(schema.GroupResource{Resource: strings.ToLower(kind) + "s"}, unitService, fmt.Errorf("denied"))
	}
	invalid := apierrors.NewInvalid(schema.GroupKind{Kind: "ServiceAccount"}, unitService,
		field.ErrorList{field.Invalid(field.NewPath("metadata", "labels"), "x", "bad label")})
	cases := map[string]struct {
		objs []client.Object
		// fail is the error the apply of a kind fails with, or nil.
		fail        func(kind string) error
		wantReason  string
		wantMessage string
		wantErr     string // the returned error's prefix; "" for none
		terminal    bool
	}{
		"two name conflicts": {
			objs:        []client.Object{foreign(&corev1.ServiceAccount{}), foreign(&corev1.Service{})},
			fail:        func(string) error { return nil },
			wantReason:  platformv1alpha1.ReasonNameConflict,
			wantMessage: "ServiceAccount city/portal already exists",
		},
		"two API errors": {
			fail: func(kind string) error {
				if kind == "ServiceAccount" || kind == "Service" {
					return forbidden(kind)
				}
				return nil
			},
			wantReason:  platformv1alpha1.ReasonApplyFailed,
			wantMessage: "failed to apply the ServiceAccount; the error is in a Warning event",
			wantErr:     "service account: ",
		},
		"an invalid ServiceAccount and a forbidden Service": {
			fail: func(kind string) error {
				switch kind {
				case "ServiceAccount":
					return invalid
				case "Service":
					return forbidden(kind)
				}
				return nil
			},
			wantReason:  platformv1alpha1.ReasonApplyFailed,
			wantMessage: "the API server rejected the ServiceAccount as invalid: metadata.labels",
			wantErr:     "service account: ",
			terminal:    true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			// The ServiceAccount's outcome waits for the Service's: a runner that reported the
			// first outcome to arrive would name the Service.
			serviceDone := make(chan struct{})
			var once sync.Once
			waitForService := func() {
				select {
				case <-serviceDone:
				case <-time.After(waitLimit): // the steps ran one after the other: nothing to order
				}
			}
			l := &applyLog{}
			funcs := l.funcs(func(kind string) error {
				switch kind {
				case "ServiceAccount":
					waitForService()
				case "Service":
					defer once.Do(func() { close(serviceDone) })
				}
				return tc.fail(kind)
			})
			funcs.Get = func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
				switch obj.(type) {
				case *corev1.ServiceAccount:
					if len(tc.objs) > 0 {
						waitForService()
					}
				case *corev1.Service:
					if len(tc.objs) > 0 {
						defer once.Do(func() { close(serviceDone) })
					}
				}
				return c.Get(ctx, key, obj, opts...)
			}
			svc := fullService()
			r, c := unitReconciler(t, svc, funcs, tc.objs...)
			_, err := reconcileUnit(t, r, svc)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("reconcile: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.wantErr)):
				t.Fatalf("reconcile error %v, want one starting with %q", err, tc.wantErr)
			case tc.terminal != errors.Is(err, reconcile.TerminalError(nil)):
				t.Errorf("reconcile error %v: terminal %v, want %v", err, !tc.terminal, tc.terminal)
			}
			got := unitCondition(t, c, platformv1alpha1.ConditionAvailable)
			if got.Reason != tc.wantReason || !strings.HasPrefix(got.Message, tc.wantMessage) {
				t.Errorf("Available %s: %s, want %s: %s...", got.Reason, got.Message, tc.wantReason, tc.wantMessage)
			}
			if kinds := l.kinds(); slices.Contains(kinds, "Deployment") {
				t.Errorf("the Deployment was applied after a child failed: %q", kinds)
			}
		})
	}
}

// TestPhases: the reconcile's phases, by step name, and the bound on the steps in flight,
// which must hold the largest phase (a larger phase would wait for free slots).
func TestPhases(t *testing.T) {
	steps := (&PublicServiceReconciler{}).steps()
	phases := phasesOf(steps)
	got := make([][]string, 0, len(phases))
	largest := 0
	for _, phase := range phases {
		var names []string
		for _, i := range phase {
			names = append(names, steps[i].name)
		}
		got = append(got, names)
		largest = max(largest, len(phase))
	}
	want := [][]string{
		{"resolve intent"},
		{"network policy"},
		{"service account", "service", "disruption budget", "exposure"},
		{"deployment"},
		{"autoscaler"},
		{"availability"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	if largest != maxStepsInFlight {
		t.Errorf("the largest phase has %d steps, maxStepsInFlight is %d", largest, maxStepsInFlight)
	}
}

func TestObservationsMerge(t *testing.T) {
	conflict := &childApply{kind: "ServiceAccount", err: &conflictError{kind: "ServiceAccount"}}
	failed := &childApply{kind: "Service", err: errors.New("denied")}
	policy := &childApply{kind: "NetworkPolicy"}
	cases := map[string]struct {
		into, fork, want observations
	}{
		"a fork's observations are added": {
			into: observations{policy: policy},
			fork: observations{policy: policy, endpoint: "portal.city.svc.cluster.local:8080"},
			want: observations{policy: policy, endpoint: "portal.city.svc.cluster.local:8080"},
		},
		"the first failure merged stays": {
			into: observations{policy: policy, child: conflict, stopped: "ServiceAccount name conflict"},
			fork: observations{policy: policy, child: failed, stopped: "Service name conflict"},
			want: observations{policy: policy, child: conflict, stopped: "ServiceAccount name conflict"},
		},
		"resolved flows and availability come with their fields": {
			into: observations{},
			fork: observations{resolved: true, flows: intent.Resolved{IngressGateway: true}, availability: true, podFailure: "pod p: CrashLoopBackOff"},
			want: observations{resolved: true, flows: intent.Resolved{IngressGateway: true}, availability: true, podFailure: "pod p: CrashLoopBackOff"},
		},
	}
	for name, tc := range cases {
		got := tc.into
		got.merge(&tc.fork)
		if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(observations{}, childApply{}, conflictError{}),
			cmpopts.EquateErrors()); diff != "" {
			t.Errorf("%s: merge (-want +got):\n%s", name, diff)
		}
	}
}
