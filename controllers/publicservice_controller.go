package controllers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
	"github.com/smartcity-io/smartcity-operator/internal/render"
)

// PublicServiceReconciler turns a PublicService into its children and reports its status.
type PublicServiceReconciler struct {
	client.Client
	Recorder events.EventRecorder
	Options  render.Options
	// ClusterDomain is the cluster's DNS domain, for status.endpoint. Defaults to cluster.local.
	ClusterDomain string
	// SkipConnectivityVerification says that no connectivity controller runs
	// (--verify-connectivity=false): nothing maintains ConnectivityVerified.
	SkipConnectivityVerification bool
	// APIReader reads without the cache, for what the cache strips (apply.go); nil reads
	// through Client.
	APIReader client.Reader
	// MaxConcurrentReconciles is how many services reconcile at once; 0 means one.
	MaxConcurrentReconciles int
	// FirstRenderHold bounds how long a new service's first render waits while PublicServices
	// keep arriving (firstrender.go); 0 renders every service at once.
	FirstRenderHold time.Duration

	applied  applyMemo       // the last apply of each child (applymemo.go)
	pending  pendingServices // what the controller's queue holds (pending.go)
	arrivals arrivals        // when services arrive, and which wait for their first render (firstrender.go)
}

// scope is the state of one reconcile, passed from step to step. Steps record what they
// observe; computeStatus (status.go) derives the status from it.
type scope struct {
	svc  *platformv1alpha1.PublicService
	spec platformv1alpha1.PublicServiceSpec // effective
	observations
	// created and updated are the kinds of the children this reconcile created and changed,
	// for one event of each at its end.
	created, updated []string
}

// step is one named part of a reconcile, run in its phase (children_run.go). A step that
// cannot go on sets s.stopped.
type step struct {
	name  string
	phase int
	run   func(context.Context, *scope) error
}

// +kubebuilder:rbac:groups=platform.smartcity.io,resources=publicservices,verbs=get;list;watch
// +kubebuilder:rbac:groups=platform.smartcity.io,resources=publicservices/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=platform.smartcity.io,resources=networkzones,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=serviceaccounts;services,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies;ingresses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one PublicService's children and status in line with its spec.
func (r *PublicServiceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	svc := &platformv1alpha1.PublicService{}
	if err := r.Get(ctx, req.NamespacedName, svc); err != nil {
		if apierrors.IsNotFound(err) {
			r.arrivals.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !svc.DeletionTimestamp.IsZero() {
		r.arrivals.forget(req.NamespacedName)
		return ctrl.Result{}, nil // children go with their owner references
	}
	if r.namespaceTerminating(ctx, svc.Namespace) {
		return ctrl.Result{}, nil // nothing can be created there any more; everything goes with it
	}
	if wait, err := r.holdFirstRender(ctx, svc); err != nil || wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, err
	}

	s := &scope{svc: svc, spec: svc.Effective()}
	defer func() {
		r.recordChanges(s)
		if err := r.patchStatus(ctx, s); err != nil {
			reterr = errors.Join(reterr, err)
		}
	}()

	return r.runSteps(ctx, s, r.steps())
}

// steps lists the reconcile in its canonical order, the order in which its outcome is
// reported; runSteps (children_run.go) runs the steps of a phase at the same time.
func (r *PublicServiceReconciler) steps() []step {
	return []step{
		{"resolve intent", phaseIntent, r.resolveIntent},
		{"network policy", phasePolicy, r.reconcileNetworkPolicy},
		{"service account", phaseChildren, r.reconcileServiceAccount},
		{"deployment", phasePods, r.reconcileDeployment},
		{"service", phaseChildren, r.reconcileService},
		{"autoscaler", phaseScaling, r.reconcileAutoscaler},
		{"disruption budget", phaseChildren, r.reconcileDisruptionBudget},
		{"exposure", phaseChildren, r.reconcileExposure},
		{"availability", phaseObserve, r.observeAvailability},
	}
}

func (r *PublicServiceReconciler) input(s *scope) render.Input {
	return render.Input{Service: s.svc, Spec: s.spec, Flows: s.flows, Options: r.Options}
}

func (r *PublicServiceReconciler) key(s *scope) client.ObjectKey {
	return client.ObjectKeyFromObject(s.svc)
}

// resolveIntent gathers the services and zones this one depends on and resolves its flows.
func (r *PublicServiceReconciler) resolveIntent(ctx context.Context, s *scope) error {
	w, err := gatherWorld(ctx, r.Client, s.svc)
	if err != nil {
		return err
	}
	s.flows, s.resolved = intent.Resolve(s.svc, w), true

	_, _, _, unadmitted := flowStatus(s.flows)
	if msg, ok := unadmittedEvent(&s.svc.Status, unadmitted); ok {
		r.Recorder.Eventf(s.svc, nil, corev1.EventTypeWarning, "ConsumerNotAdmitted", "Admit", "%s", msg)
	}
	return nil
}

// reconcileNetworkPolicy applies the NetworkPolicy. A name conflict stops the reconcile: no
// pod is created without the policy.
func (r *PublicServiceReconciler) reconcileNetworkPolicy(ctx context.Context, s *scope) error {
	err := r.applyChild(ctx, s, "NetworkPolicy", &networkingv1.NetworkPolicy{}, render.NetworkPolicy(r.input(s)))
	s.policy = &childApply{kind: "NetworkPolicy", err: err}
	if _, ok := errors.AsType[*conflictError](err); ok {
		s.stopped = "NetworkPolicy name conflict: no pods are created without the policy"
		return nil
	}
	return err
}

func (r *PublicServiceReconciler) reconcileServiceAccount(ctx context.Context, s *scope) error {
	_, err := r.applyOrBlock(ctx, s, "ServiceAccount", &corev1.ServiceAccount{}, render.ServiceAccount(r.input(s)))
	return err
}

// reconcileDeployment applies the Deployment. While an HPA scales it, the operator does not
// own spec.replicas. Releasing an owned field under server-side apply would reset it to its
// default (1), so ownership is first handed to a separate field manager at the current count.
func (r *PublicServiceReconciler) reconcileDeployment(ctx context.Context, s *scope) error {
	in := r.input(s)
	live := &appsv1.Deployment{}
	if !s.spec.Autoscaled() {
		ok, err := r.applyOrBlock(ctx, s, "Deployment", live, render.Deployment(in, true))
		if ok {
			s.deployment = live
		}
		return err
	}

	err := r.Get(ctx, r.key(s), live)
	justCreated := false
	switch {
	case apierrors.IsNotFound(err):
		// Create at replicas.min, then hand replicas over below. live now holds the applied
		// configuration, which carries no managedFields, so ownsField cannot tell.
		if ok, err := r.applyOrBlock(ctx, s, "Deployment", live, render.Deployment(in, true)); !ok || err != nil {
			return err
		}
		justCreated = true
	case err != nil:
		return fmt.Errorf("failed to get Deployment: %w", err)
	case !metav1.IsControlledBy(live, s.svc):
		_, err := r.applyOrBlock(ctx, s, "Deployment", live, render.Deployment(in, false)) // reports the conflict
		return err
	}
	if justCreated || ownsField(live, render.FieldManager, "spec", "replicas") {
		// Keep the current count (at least replicas.min) while handing replicas to the HPA.
		count := max(ptr.Deref(live.Spec.Replicas, 1), *s.spec.Replicas.Min)
		if err := r.applier().applyAs(ctx, render.HandoffFieldManager, "Deployment", r.key(s), live,
			render.ReplicasHandoff(in, count)); err != nil {
			err = r.applyFailed(s, "Deployment", fmt.Errorf("failed to hand Deployment replicas over to the HPA: %w", err))
			s.child = &childApply{kind: "Deployment", err: err}
			return err
		}
	}
	ok, err := r.applyOrBlock(ctx, s, "Deployment", live, render.Deployment(in, false))
	if ok {
		s.deployment = live
	}
	return err
}

func (r *PublicServiceReconciler) reconcileService(ctx context.Context, s *scope) error {
	ok, err := r.applyOrBlock(ctx, s, "Service", &corev1.Service{}, render.Service(r.input(s)))
	if ok {
		s.endpoint = fmt.Sprintf("%s.%s.svc.%s:%d", s.svc.Name, s.svc.Namespace, cmp.Or(r.ClusterDomain, "cluster.local"), *s.spec.Port)
	}
	return err
}

func (r *PublicServiceReconciler) reconcileAutoscaler(ctx context.Context, s *scope) error {
	if ac := render.HorizontalPodAutoscaler(r.input(s)); ac != nil {
		_, err := r.applyOrBlock(ctx, s, "HorizontalPodAutoscaler", &autoscalingv2.HorizontalPodAutoscaler{}, ac)
		return err
	}
	return r.deleteIfOwned(ctx, s, "HorizontalPodAutoscaler", &autoscalingv2.HorizontalPodAutoscaler{})
}

func (r *PublicServiceReconciler) reconcileDisruptionBudget(ctx context.Context, s *scope) error {
	if ac := render.PodDisruptionBudget(r.input(s)); ac != nil {
		_, err := r.applyOrBlock(ctx, s, "PodDisruptionBudget", &policyv1.PodDisruptionBudget{}, ac)
		return err
	}
	return r.deleteIfOwned(ctx, s, "PodDisruptionBudget", &policyv1.PodDisruptionBudget{})
}

func (r *PublicServiceReconciler) reconcileExposure(ctx context.Context, s *scope) error {
	in := r.input(s)
	if r.Options.Gateway != nil {
		if ac := render.HTTPRoute(in); ac != nil {
			_, err := r.applyOrBlock(ctx, s, "HTTPRoute", &gatewayv1.HTTPRoute{}, ac)
			return err
		}
		return r.deleteIfOwned(ctx, s, "HTTPRoute", &gatewayv1.HTTPRoute{})
	}
	if ac := render.Ingress(in); ac != nil {
		_, err := r.applyOrBlock(ctx, s, "Ingress", &networkingv1.Ingress{}, ac)
		return err
	}
	return r.deleteIfOwned(ctx, s, "Ingress", &networkingv1.Ingress{})
}

// observeAvailability reads the Deployment's state and, while too few pods are ready, the
// pods' failures.
func (r *PublicServiceReconciler) observeAvailability(ctx context.Context, s *scope) error {
	if s.deployment.Status.ReadyReplicas < *s.spec.Replicas.Min {
		pods := &corev1.PodList{}
		if err := r.List(ctx, pods, client.InNamespace(s.svc.Namespace), client.MatchingLabels(render.SelectorLabels(s.svc.Name))); err != nil {
			return fmt.Errorf("failed to list pods: %w", err)
		}
		s.podFailure = podFailure(pods.Items)
	}
	s.availability = true
	return nil
}

// applyChild applies one child and records an event when it changed, or a Warning event with
// the API server's error when it failed. Apply errors come back as *applyError, terminal
// when the object is invalid; a name conflict as *conflictError.
func (r *PublicServiceReconciler) applyChild(ctx context.Context, s *scope, kind string, live client.Object, ac applyConfiguration) error {
	res, err := r.applier().applyChild(ctx, s.svc, kind, live, ac, r.key(s))
	// Children are named after their PublicService, in its namespace.
	child := klog.KRef(s.svc.Namespace, s.svc.Name)
	switch {
	case err != nil:
		if _, ok := errors.AsType[*conflictError](err); ok {
			return err
		}
		return r.applyFailed(s, kind, err)
	case res == created:
		s.created = append(s.created, kind)
		ctrl.LoggerFrom(ctx).Info("Created child", "kind", kind, "child", child)
	case res == updated:
		s.updated = append(s.updated, kind)
		ctrl.LoggerFrom(ctx).Info("Updated child", "kind", kind, "child", child)
	}
	return nil
}

// recordChanges records one Normal event for the children a reconcile created, and one for
// those it changed (a city's convergence would otherwise write an event per child).
func (r *PublicServiceReconciler) recordChanges(s *scope) {
	if len(s.created) > 0 {
		r.Recorder.Eventf(s.svc, nil, corev1.EventTypeNormal, "Created", "Apply", "Created %s (named %s)", strings.Join(s.created, ", "), s.svc.Name)
	}
	if len(s.updated) > 0 {
		r.Recorder.Eventf(s.svc, nil, corev1.EventTypeNormal, "Updated", "Apply", "Updated %s (named %s)", strings.Join(s.updated, ", "), s.svc.Name)
	}
}

// applyFailed records a Warning event with the API server's error and returns it as an
// *applyError: terminal when the object is invalid (retrying cannot help), else retried.
func (r *PublicServiceReconciler) applyFailed(s *scope, kind string, err error) error {
	r.Recorder.Eventf(s.svc, nil, corev1.EventTypeWarning, "ApplyFailed", "Apply", "%s: %v", kind, err)
	err = &applyError{kind: kind, err: err}
	if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
		return reconcile.TerminalError(err)
	}
	return err
}

// applyError is an API error from applying a child; its Warning event is recorded.
type applyError struct {
	kind string
	err  error
}

func (e *applyError) Error() string { return e.err.Error() }
func (e *applyError) Unwrap() error { return e.err }

// applyOrBlock applies a child after the NetworkPolicy. A name conflict stops the reconcile;
// an API error is returned. Either is recorded in s.child. It reports whether the child was
// applied; live then holds its new state.
func (r *PublicServiceReconciler) applyOrBlock(ctx context.Context, s *scope, kind string, live client.Object, ac applyConfiguration) (bool, error) {
	err := r.applyChild(ctx, s, kind, live, ac)
	if err != nil {
		s.child = &childApply{kind: kind, err: err}
		if _, ok := errors.AsType[*conflictError](err); ok {
			s.stopped = kind + " name conflict"
			return false, nil
		}
		return false, err
	}
	if err := fromApplied(ac, live); err != nil {
		return false, err
	}
	return true, nil
}

func (r *PublicServiceReconciler) deleteIfOwned(ctx context.Context, s *scope, kind string, live client.Object) error {
	deleted, err := r.applier().deleteChild(ctx, s.svc, kind, live, r.key(s))
	if deleted {
		r.Recorder.Eventf(s.svc, nil, corev1.EventTypeNormal, "Deleted", "Delete", "Deleted %s %s: the spec no longer asks for it", kind, s.svc.Name)
	}
	return err
}

// patchStatus computes the status from the observations and applies it (server-side, under
// render.FieldManager) only if it changed: every field but ConnectivityVerified, which the
// connectivity controller applies under its own manager. A status written by earlier versions
// with merge patches has its ownership moved first (upgradeStatusOwnership), so that
// conditions no longer computed are removed.
func (r *PublicServiceReconciler) patchStatus(ctx context.Context, s *scope) error {
	prev := ownStatus(s.svc.Status)
	st := computeStatus(&prev, s.svc.Generation, &s.spec, &s.observations)
	migrated, err := upgradeStatusOwnership(ctx, r.Client, s.svc, render.FieldManager)
	if err != nil {
		return client.IgnoreNotFound(err)
	}
	if !migrated && equality.Semantic.DeepEqual(st, withoutCondition(s.svc.Status, platformv1alpha1.ConditionConnectivityVerified)) {
		return nil
	}
	if cv := meta.FindStatusCondition(s.svc.Status.Conditions, platformv1alpha1.ConditionConnectivityVerified); migrated && cv != nil &&
		!r.SkipConnectivityVerification && !hasStatusApplyEntry(s.svc, ConnectivityFieldManager) {
		// The migration made this manager the condition's owner: keep it until the connectivity
		// controller applies it, so that it is never missing. This manager releases it at its
		// next status change.
		st.Conditions = append(st.Conditions, *cv)
	}
	ac, err := statusApplyConfiguration(s.svc, &st)
	if err != nil {
		return err
	}
	if err := r.Status().Apply(ctx, ac, client.FieldOwner(render.FieldManager), client.ForceOwnership); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("failed to apply status: %w", err)
	}
	return nil
}

// ownStatus is st with only the conditions the PublicService controller computes.
func ownStatus(st platformv1alpha1.PublicServiceStatus) platformv1alpha1.PublicServiceStatus {
	own := append(slices.Clone(readyParts), platformv1alpha1.ConditionReady)
	st.Conditions = slices.DeleteFunc(slices.Clone(st.Conditions), func(c metav1.Condition) bool { return !slices.Contains(own, c.Type) })
	return st
}

// withoutCondition is st without the condition of type typ.
func withoutCondition(st platformv1alpha1.PublicServiceStatus, typ string) platformv1alpha1.PublicServiceStatus {
	st.Conditions = slices.DeleteFunc(slices.Clone(st.Conditions), func(c metav1.Condition) bool { return c.Type == typ })
	return st
}

// namespaceTerminating reports whether the namespace is being deleted.
func (r *PublicServiceReconciler) namespaceTerminating(ctx context.Context, name string) bool {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, types.NamespacedName{Name: name}, ns); err != nil {
		return false
	}
	return !ns.DeletionTimestamp.IsZero()
}

// gatherWorld reads what intent.Resolve needs: the services svc consumes or admits, the
// services that consume it, its zones and its namespace's labels.
func gatherWorld(ctx context.Context, c client.Client, svc *platformv1alpha1.PublicService) (intent.World, error) {
	w := intent.World{
		Services: map[types.NamespacedName]*platformv1alpha1.PublicService{},
		Zones:    map[string]*platformv1alpha1.NetworkZone{},
	}
	self := client.ObjectKeyFromObject(svc)
	for _, k := range append(intent.ConsumedKeys(svc), intent.AdmittedKeys(svc)...) {
		key := parseKey(k)
		if _, seen := w.Services[key]; seen || key == self || intent.IsNamespaceKey(k) {
			continue
		}
		other := &platformv1alpha1.PublicService{}
		if err := c.Get(ctx, key, other); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return w, fmt.Errorf("failed to get PublicService %s: %w", key, err)
		}
		w.Services[key] = other
	}
	// The consumers are the cache's objects, not copies (a provider of a city has hundreds):
	// the World is only read (intent.Resolve).
	consumers := &platformv1alpha1.PublicServiceList{}
	if err := c.List(ctx, consumers, client.MatchingFields{indexConsumes: self.String()}, client.UnsafeDisableDeepCopy); err != nil {
		return w, fmt.Errorf("failed to list consumers: %w", err)
	}
	for i := range consumers.Items {
		w.Services[client.ObjectKeyFromObject(&consumers.Items[i])] = &consumers.Items[i]
	}
	for _, name := range intent.ZoneNames(svc) {
		z := &platformv1alpha1.NetworkZone{}
		if err := c.Get(ctx, types.NamespacedName{Name: name}, z); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return w, fmt.Errorf("failed to get NetworkZone %s: %w", name, err)
		}
		w.Zones[name] = z
	}
	ns := &corev1.Namespace{}
	if err := c.Get(ctx, types.NamespacedName{Name: svc.Namespace}, ns); err != nil {
		if !apierrors.IsNotFound(err) {
			return w, fmt.Errorf("failed to get Namespace %s: %w", svc.Namespace, err)
		}
	}
	w.NamespaceLabels = ns.Labels
	return w, nil
}

// podFailure names the first pod failure that keeps pods from becoming ready, or "".
func podFailure(pods []corev1.Pod) string {
	for _, p := range pods {
		for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			if w := cs.State.Waiting; w != nil && failingReasons[w.Reason] {
				return fmt.Sprintf("pod %s: container %s: %s: %s", p.Name, cs.Name, w.Reason, w.Message)
			}
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				return fmt.Sprintf("pod %s: Unschedulable: %s", p.Name, c.Message)
			}
		}
	}
	return ""
}

var failingReasons = map[string]bool{
	"ImagePullBackOff": true, "ErrImagePull": true, "InvalidImageName": true, "ErrImageNeverPull": true,
	"CrashLoopBackOff": true, "CreateContainerConfigError": true, "CreateContainerError": true, "RunContainerError": true,
}
