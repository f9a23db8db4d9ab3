package controllers

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/audit"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
	"github.com/smartcity-io/smartcity-operator/internal/render"
)

// ConnectivityFieldManager is the field manager of the ConnectivityVerified condition: the
// connectivity controller applies that condition, and only it, under this name.
const ConnectivityFieldManager = "smartcity-operator-connectivity"

// ConnectivityReconciler verifies each PublicService's effective connectivity against its
// intent. It owns the ConnectivityVerified condition and the violation metrics, nothing else:
// the PublicService controller owns every other part of the status.
type ConnectivityReconciler struct {
	client.Client
	Recorder events.EventRecorder
	// Options are the operator's render options: where DNS and the ingress controller run,
	// and what the audit renders.
	Options render.Options
	// MaxConcurrentReconciles is how many services are verified at once; 0 means one.
	MaxConcurrentReconciles int
	// Pending tells which services the PublicService controller has yet to reconcile: a flow
	// missing only because one of them is about to apply its policy is not reported (for up
	// to maxHold, settle.go). nil reports every verdict at once.
	Pending PendingServices

	violations violationStore
	// applied holds, by "namespace/name", the last ConnectivityVerified this controller
	// applied, so that its own writes do not wake it again.
	applied sync.Map
	// held are the verdicts held back while the services involved converge.
	held holds
}

// +kubebuilder:rbac:groups=platform.smartcity.io,resources=publicservices,verbs=get;list;watch
// +kubebuilder:rbac:groups=platform.smartcity.io,resources=publicservices/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=platform.smartcity.io,resources=networkzones,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces;pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps,resources=deployments;replicasets;statefulsets;daemonsets,verbs=get;list;watch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile computes one service's effective connectivity from every NetworkPolicy and
// workload of the namespaces its flows involve, and applies ConnectivityVerified when it
// changed.
func (r *ConnectivityReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	svc := &platformv1alpha1.PublicService{}
	if err := r.Get(ctx, req.NamespacedName, svc); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.String())
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !svc.DeletionTimestamp.IsZero() {
		r.forget(req.String())
		return ctrl.Result{}, nil
	}
	result, err := r.verify(ctx, svc)
	if err != nil {
		return ctrl.Result{}, err
	}
	if r.held.settling(r.Pending, req.String(), result, reportedFalse(svc), time.Now()) {
		return ctrl.Result{RequeueAfter: holdRequeue}, nil
	}
	return ctrl.Result{}, r.applyCondition(ctx, svc, result)
}

// forget drops what the controller keeps about a service that is gone.
func (r *ConnectivityReconciler) forget(key string) {
	r.violations.forget(key)
	r.applied.Delete(key)
	r.held.forget(key)
}

// verify audits the namespaces the service's flows involve and records its violations.
func (r *ConnectivityReconciler) verify(ctx context.Context, svc *platformv1alpha1.PublicService) (connectivityResult, error) {
	key := client.ObjectKeyFromObject(svc).String()
	// The PublicService controller creates the Deployment (after the NetworkPolicy); until it
	// exists there is nothing to verify, and its creation starts the verification.
	if err := r.Get(ctx, client.ObjectKeyFromObject(svc), &appsv1.Deployment{}); err != nil {
		if apierrors.IsNotFound(err) {
			r.violations.forget(key)
			return connectivityResult{}, nil
		}
		return connectivityResult{}, fmt.Errorf("failed to get the Deployment: %w", err)
	}
	w, err := gatherWorld(ctx, r.Client, svc)
	if err != nil {
		return connectivityResult{}, err
	}
	spec := svc.Effective()
	model, err := audit.ReadNamespaces(ctx, r.Client, flowNamespaces(r.Options, svc, &spec, intent.ResolveEffective(svc, spec, w))...)
	if err != nil {
		return connectivityResult{}, fmt.Errorf("failed to read the cluster for the connectivity audit: %w", err)
	}
	// Only this service's flows: its verdict and violations are those of the whole report.
	start := time.Now()
	report, err := audit.Analyze(model, audit.Options{Render: r.Options, Service: key})
	auditDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		r.violations.forget(key)
		r.Recorder.Eventf(svc, nil, corev1.EventTypeWarning, "AuditFailed", "Audit", "the connectivity audit failed: %v", err)
		return connectivityResult{failed: true}, nil
	}
	r.violations.record(key, report.Violations, key)
	summary, ok := report.Service(svc.Namespace, svc.Name)
	if !ok {
		return connectivityResult{}, nil
	}
	out := connectivityResult{audited: true, verified: summary.Verified, message: summary.ConditionMessage(),
		extra: len(summary.ExtraIngress)+len(summary.ExtraEgress) > 0}
	for _, p := range append(slices.Clone(summary.MissingIngress), summary.MissingEgress...) {
		out.missingPeers = append(out.missingPeers, p.Peer)
	}
	for _, p := range append(slices.Clone(summary.ExtraIngress), summary.ExtraEgress...) {
		out.extraPeers = append(out.extraPeers, p.Peer)
	}
	return out, nil
}

// reportedFalse reports whether svc's ConnectivityVerified is False for its current generation.
func reportedFalse(svc *platformv1alpha1.PublicService) bool {
	c := meta.FindStatusCondition(svc.Status.Conditions, platformv1alpha1.ConditionConnectivityVerified)
	return c != nil && c.Status == metav1.ConditionFalse && c.ObservedGeneration == svc.Generation
}

// applyCondition applies ConnectivityVerified under ConnectivityFieldManager, unless the live
// condition is already the computed one and this manager owns it (no request at rest).
func (r *ConnectivityReconciler) applyCondition(ctx context.Context, svc *platformv1alpha1.PublicService, result connectivityResult) error {
	live := meta.FindStatusCondition(svc.Status.Conditions, platformv1alpha1.ConditionConnectivityVerified)
	cond := connectivityCondition(live, svc.Generation, result)
	if cond == nil || (live != nil && equality.Semantic.DeepEqual(*live, *cond) && hasStatusApplyEntry(svc, ConnectivityFieldManager)) {
		return nil
	}
	cond.LastTransitionTime = cond.LastTransitionTime.Rfc3339Copy() // as the API server stores it
	ac, err := statusApplyConfiguration(svc, &platformv1alpha1.PublicServiceStatus{Conditions: []metav1.Condition{*cond}})
	if err != nil {
		return err
	}
	if err := r.Status().Apply(ctx, ac, client.FieldOwner(ConnectivityFieldManager), client.ForceOwnership); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("failed to apply ConnectivityVerified: %w", err)
	}
	r.applied.Store(client.ObjectKeyFromObject(svc).String(), *cond)
	ctrl.LoggerFrom(ctx).Info("Applied ConnectivityVerified", "status", cond.Status, "reason", cond.Reason,
		"message", cond.Message, "previous", conditionStatus(live))
	return nil
}

// SetupWithManager registers the connectivity controller. Each watch maps a change only to
// the services whose verification it can change. The operator's own changes (its policies
// and Deployments, services' and zones' specs) are verified settleDelay later, so that one
// verification covers a convergence; others' changes (foreign policies and workloads,
// namespace labels) and the service's own spec at once.
func (r *ConnectivityReconciler) SetupWithManager(mgr ctrl.Manager) error {
	near := enqueueMapped(r.servicesNearObject, settleIfOwned)
	auditedWorkload := builder.WithPredicates(workloadChanged{})
	b := ctrl.NewControllerManagedBy(mgr)
	if n, ok := r.Pending.(SettleNotifier); ok {
		b = b.WatchesRawSource(source.Channel(r.wakeHeldOnSettle(n), enqueueMapped(ownRequest, afterSettling)))
	}
	return b.
		Named("connectivity").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		For(&platformv1alpha1.PublicService{}, builder.WithPredicates(predicate.Or[client.Object](
			predicate.GenerationChangedPredicate{}, r.conditionChangedElsewhere()))).
		Watches(&platformv1alpha1.PublicService{}, enqueueMapped(r.relatedServices, afterSettling),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&platformv1alpha1.NetworkZone{}, enqueueMapped(r.servicesUsingZone, afterSettling),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&networkingv1.NetworkPolicy{}, near, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.servicesNearNamespace),
			builder.WithPredicates(predicate.LabelChangedPredicate{})).
		Watches(&appsv1.Deployment{}, near, auditedWorkload).
		Watches(&appsv1.StatefulSet{}, near, auditedWorkload).
		Watches(&appsv1.DaemonSet{}, near, auditedWorkload).
		Watches(&appsv1.ReplicaSet{}, near, auditedWorkload).
		Watches(&corev1.Pod{}, near, auditedWorkload).
		Complete(r)
}

// settledWakes bounds the wakes of held verdicts waiting to be queued; past it a wake is
// dropped and the hold's requeue (holdRequeue) verifies the service instead.
const settledWakes = 1024

// wakeHeldOnSettle returns the events that wake the verdicts held back while a service had
// work, once it has none (settle.go): its reconcile may have changed nothing, so no policy or
// Deployment event would.
func (r *ConnectivityReconciler) wakeHeldOnSettle(n SettleNotifier) <-chan event.GenericEvent {
	wakes := make(chan event.GenericEvent, settledWakes)
	n.NotifySettled(func(key string) {
		for _, held := range r.held.settled(key) {
			k := parseKey(held)
			select {
			case wakes <- event.GenericEvent{Object: &platformv1alpha1.PublicService{ObjectMeta: metav1.ObjectMeta{Namespace: k.Namespace, Name: k.Name}}}:
			default: // never block the PublicService controller's worker
			}
		}
	})
	return wakes
}

// ownRequest maps a service to itself.
func ownRequest(_ context.Context, o client.Object) []reconcile.Request {
	return []reconcile.Request{{NamespacedName: client.ObjectKeyFromObject(o)}}
}

// relatedServices maps a service whose spec changed to the services whose flows involve it.
func (r *ConnectivityReconciler) relatedServices(ctx context.Context, o client.Object) []reconcile.Request {
	svc, ok := o.(*platformv1alpha1.PublicService)
	if !ok {
		return nil
	}
	return requests(relatedKeys(ctx, r.Client, svc), client.ObjectKeyFromObject(svc).String())
}

// servicesUsingZone maps a zone whose spec changed to the services that reference it.
func (r *ConnectivityReconciler) servicesUsingZone(ctx context.Context, o client.Object) []reconcile.Request {
	return listRequests(ctx, r.Client, client.MatchingFields{indexZones: o.GetName()})
}

// servicesNearObject maps a NetworkPolicy or a workload to the services whose verification it
// can change. Another's object (a foreign policy or workload) can open or close a flow of any
// service whose flows involve its namespace (servicesInvolving). An object of the operator's
// own, controlled by service owner, touches only the flows of owner and its peers: the policies
// the operator renders allow only their service's flows, each side's policy naming the other, so
// a flow between owner and any other service would need a policy of someone else's in the
// namespace to open it. Its change goes to owner and its peers (servicesAroundOwned) — unless
// the namespace holds such a policy, or is the cluster DNS's or the ingress controller's. A
// city's convergence would otherwise verify every service of a namespace, and every provider
// that admits the namespace, again at each policy and Deployment created there.
func (r *ConnectivityReconciler) servicesNearObject(ctx context.Context, o client.Object) []reconcile.Request {
	ns := o.GetNamespace()
	if owner := ownerService(o); owner != "" && !r.sharedNamespace(ns) && !r.hasForeignPolicy(ctx, ns) {
		if reqs, ok := r.servicesAroundOwned(ctx, ns, owner); ok {
			return reqs
		}
	}
	return r.servicesInvolving(ctx, ns)
}

// ownerService is the name of the PublicService that controls o, or "".
func ownerService(o client.Object) string {
	if ref := metav1.GetControllerOf(o); ref != nil && ref.Kind == "PublicService" &&
		ref.APIVersion == platformv1alpha1.GroupVersion.String() {
		return ref.Name
	}
	return ""
}

// sharedNamespace reports whether every service has flows into ns: the cluster DNS's and the
// ingress controller's namespaces.
func (r *ConnectivityReconciler) sharedNamespace(ns string) bool {
	opts := r.Options.WithDefaults()
	return ns == opts.DNSNamespace || ns == opts.IngressControllerNamespace
}

// hasForeignPolicy reports whether ns holds a NetworkPolicy that no PublicService controls. It
// says yes when it cannot tell.
func (r *ConnectivityReconciler) hasForeignPolicy(ctx context.Context, ns string) bool {
	policies := &networkingv1.NetworkPolicyList{}
	if err := r.List(ctx, policies, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list NetworkPolicies", "namespace", ns)
		return true
	}
	return slices.ContainsFunc(policies.Items, func(p networkingv1.NetworkPolicy) bool { return ownerService(&p) == "" })
}

// servicesAroundOwned lists the service owner of ns and its peers: the services it consumes,
// those it admits by name and those that consume it. It reports false when owner is gone (its
// children are going with it) or the consumers cannot be listed: the caller then maps by
// namespace.
func (r *ConnectivityReconciler) servicesAroundOwned(ctx context.Context, ns, owner string) ([]reconcile.Request, bool) {
	svc := &platformv1alpha1.PublicService{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: owner}, svc); err != nil {
		return nil, false
	}
	self := client.ObjectKeyFromObject(svc).String()
	keys := append([]string{self}, intent.ConsumedKeys(svc)...)
	keys = append(keys, slices.DeleteFunc(intent.AdmittedKeys(svc), intent.IsNamespaceKey)...)
	consumers := &platformv1alpha1.PublicServiceList{}
	if err := r.List(ctx, consumers, client.MatchingFields{indexConsumes: self}, client.UnsafeDisableDeepCopy); err != nil { // keys only
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list PublicServices", "index", indexConsumes)
		return nil, false
	}
	for i := range consumers.Items {
		keys = append(keys, client.ObjectKeyFromObject(&consumers.Items[i]).String())
	}
	return requests(keys, ""), true
}

// servicesNearNamespace maps a namespace whose labels changed to the services whose flows
// involve it: its labels decide what namespaceSelectors there select.
func (r *ConnectivityReconciler) servicesNearNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	return r.servicesInvolving(ctx, o.GetName())
}

// servicesInvolving lists the services whose flowNamespaces include ns: every service when ns
// is the cluster DNS's or the ingress controller's; else the services of ns, those whose spec
// names ns, and those that the services of ns consume or admit.
func (r *ConnectivityReconciler) servicesInvolving(ctx context.Context, ns string) []reconcile.Request {
	if r.sharedNamespace(ns) {
		return listRequests(ctx, r.Client)
	}
	local := &platformv1alpha1.PublicServiceList{}
	if err := r.List(ctx, local, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil { // keys only
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list PublicServices", "namespace", ns)
		return nil
	}
	var keys []string
	for i := range local.Items {
		svc := &local.Items[i]
		keys = append(keys, client.ObjectKeyFromObject(svc).String())
		keys = append(keys, intent.ConsumedKeys(svc)...)
		keys = append(keys, intent.AdmittedKeys(svc)...)
	}
	naming := &platformv1alpha1.PublicServiceList{}
	if err := r.List(ctx, naming, client.MatchingFields{indexNamespaces: ns}, client.UnsafeDisableDeepCopy); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list PublicServices", "index", indexNamespaces)
	}
	for i := range naming.Items {
		keys = append(keys, client.ObjectKeyFromObject(&naming.Items[i]).String())
	}
	return requests(keys, "")
}

// conditionChangedElsewhere passes updates that change ConnectivityVerified to something this
// controller did not apply, so that it restores its condition if another writer removes or
// changes it; its own writes wake nothing.
func (r *ConnectivityReconciler) conditionChangedElsewhere() predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		before, okBefore := e.ObjectOld.(*platformv1alpha1.PublicService)
		after, okAfter := e.ObjectNew.(*platformv1alpha1.PublicService)
		if !okBefore || !okAfter {
			return false
		}
		now := meta.FindStatusCondition(after.Status.Conditions, platformv1alpha1.ConditionConnectivityVerified)
		if equality.Semantic.DeepEqual(meta.FindStatusCondition(before.Status.Conditions, platformv1alpha1.ConditionConnectivityVerified), now) {
			return false
		}
		mine, ok := r.applied.Load(client.ObjectKeyFromObject(after).String())
		return !ok || now == nil || !equality.Semantic.DeepEqual(mine, *now)
	}}
}

// workloadChanged passes the workload events that can change an audit: creation and deletion
// of a workload the audit counts, and changes of its pod labels or ports (scaling, rollouts
// and status are ignored). Pods and ReplicaSets count only without a controller: the audit
// represents the others by the workload that controls them.
type workloadChanged struct {
	predicate.TypedFuncs[client.Object]
}

// Create implements predicate.Predicate.
func (workloadChanged) Create(e event.CreateEvent) bool { return audited(e.Object) }

// Delete implements predicate.Predicate.
func (workloadChanged) Delete(e event.DeleteEvent) bool { return audited(e.Object) }

// Update implements predicate.Predicate.
func (workloadChanged) Update(e event.UpdateEvent) bool {
	if !audited(e.ObjectOld) && !audited(e.ObjectNew) {
		return false
	}
	return !equality.Semantic.DeepEqual(auditedIdentity(e.ObjectOld), auditedIdentity(e.ObjectNew))
}

// Generic implements predicate.Predicate.
func (workloadChanged) Generic(event.GenericEvent) bool { return false }

// audited reports whether the audit counts obj as a workload of its own.
func audited(obj client.Object) bool {
	switch o := obj.(type) {
	case *corev1.Pod, *appsv1.ReplicaSet:
		return metav1.GetControllerOf(o) == nil
	}
	return true
}

// workloadIdentity is what the audit reads of a workload: its pods' labels and ports, and
// whether it counts at all (a finished pod does not).
type workloadIdentity struct {
	Counted bool
	Labels  map[string]string
	Ports   []corev1.ContainerPort
}

func auditedIdentity(obj client.Object) workloadIdentity {
	id := workloadIdentity{Counted: audited(obj)}
	var spec corev1.PodSpec
	switch o := obj.(type) {
	case *appsv1.Deployment:
		id.Labels, spec = o.Spec.Template.Labels, o.Spec.Template.Spec
	case *appsv1.StatefulSet:
		id.Labels, spec = o.Spec.Template.Labels, o.Spec.Template.Spec
	case *appsv1.DaemonSet:
		id.Labels, spec = o.Spec.Template.Labels, o.Spec.Template.Spec
	case *appsv1.ReplicaSet:
		id.Labels, spec = o.Spec.Template.Labels, o.Spec.Template.Spec
	case *corev1.Pod:
		id.Labels, spec = o.Labels, o.Spec
		id.Counted = id.Counted && o.Status.Phase != corev1.PodSucceeded && o.Status.Phase != corev1.PodFailed
	}
	for _, c := range spec.Containers {
		id.Ports = append(id.Ports, c.Ports...)
	}
	return id
}

// conditionStatus is a condition's status, or "none" when there is no condition.
func conditionStatus(c *metav1.Condition) string {
	if c == nil {
		return "none"
	}
	return string(c.Status)
}
