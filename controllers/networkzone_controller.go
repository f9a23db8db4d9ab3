package controllers

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
)

// NetworkZoneReconciler reports which services use a zone and which it refuses.
type NetworkZoneReconciler struct {
	client.Client
	// MaxConcurrentReconciles is how many zones reconcile at once; 0 means one.
	MaxConcurrentReconciles int
}

// +kubebuilder:rbac:groups=platform.smartcity.io,resources=networkzones/status,verbs=get;update;patch

// Reconcile recomputes one zone's status from the services that reference it.
func (r *NetworkZoneReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	zone := &platformv1alpha1.NetworkZone{}
	if err := r.Get(ctx, req.NamespacedName, zone); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	// The users are the cache's own objects, not copies (a zone used by a thousand services is
	// reconciled as each of them converges): networkZoneStatus only reads them.
	users := &platformv1alpha1.PublicServiceList{}
	if err := r.List(ctx, users, client.MatchingFields{indexZones: zone.Name}, client.UnsafeDisableDeepCopy); err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to list services using zone: %w", err)
	}
	nsLabels := map[string]map[string]string{}
	for i := range users.Items {
		ns := users.Items[i].Namespace
		if _, ok := nsLabels[ns]; ok {
			continue
		}
		n := &corev1.Namespace{}
		if err := r.Get(ctx, types.NamespacedName{Name: ns}, n); client.IgnoreNotFound(err) != nil {
			return ctrl.Result{}, fmt.Errorf("failed to get Namespace %s: %w", ns, err)
		}
		nsLabels[ns] = n.Labels
	}

	st := networkZoneStatus(zone, users.Items, nsLabels)
	if equality.Semantic.DeepEqual(st, zone.Status) {
		return ctrl.Result{}, nil
	}
	patch := client.MergeFrom(zone.DeepCopy())
	zone.Status = st
	if err := r.Status().Patch(ctx, zone, patch); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("failed to patch NetworkZone status: %w", err)
	}
	return ctrl.Result{}, nil
}

// networkZoneStatus derives a zone's status from the services that reference it and the
// labels of their namespaces (by namespace name): which use the zone and which it refuses.
// zone is not modified.
func networkZoneStatus(zone *platformv1alpha1.NetworkZone, users []platformv1alpha1.PublicService,
	nsLabels map[string]map[string]string) platformv1alpha1.NetworkZoneStatus {
	var referenced, refused []string
	for i := range users {
		key := client.ObjectKeyFromObject(&users[i]).String()
		if intent.ZoneAdmits(zone, nsLabels[users[i].Namespace]) != nil {
			refused = append(refused, key)
		} else {
			referenced = append(referenced, key)
		}
	}
	slices.Sort(referenced)
	slices.Sort(refused)

	st := *zone.Status.DeepCopy()
	st.ObservedGeneration = zone.Generation
	st.ReferencedBy, st.ReferencedByCount = capped(referenced, maxZoneStatusList), int32(len(referenced))
	st.Refused, st.RefusedCount = capped(refused, maxZoneStatusList), int32(len(refused))
	cond := metav1.Condition{Type: platformv1alpha1.ConditionZoneAccepted, Status: metav1.ConditionTrue,
		Reason: platformv1alpha1.ReasonZoneAccepted, ObservedGeneration: zone.Generation,
		Message: fmt.Sprintf("used by %d service(s)", len(referenced))}
	if len(refused) > 0 {
		cond.Reason = platformv1alpha1.ReasonZoneRefusedReferences
		cond.Message = fmt.Sprintf("used by %d service(s); refused %d: %s: spec.allowedNamespaces does not select their namespaces",
			len(referenced), len(refused), someNames(refused))
	}
	meta.SetStatusCondition(&st.Conditions, cond)
	return st
}

// SetupWithManager registers the reconciler; it watches the services that reference zones
// and namespaces whose labels change.
func (r *NetworkZoneReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&platformv1alpha1.NetworkZone{}).
		Named("networkzone").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Watches(&platformv1alpha1.PublicService{}, handler.EnqueueRequestsFromMapFunc(zonesOfService)).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.zonesUsedInNamespace),
			builder.WithPredicates(predicate.LabelChangedPredicate{})).
		Complete(r)
}

func zonesOfService(_ context.Context, o client.Object) []reconcile.Request {
	svc, ok := o.(*platformv1alpha1.PublicService)
	if !ok {
		return nil
	}
	var out []reconcile.Request
	for _, z := range intent.ZoneNames(svc) {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: z}})
	}
	return out
}

func (r *NetworkZoneReconciler) zonesUsedInNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	list := &platformv1alpha1.PublicServiceList{}
	if err := r.List(ctx, list, client.InNamespace(o.GetName()), client.UnsafeDisableDeepCopy); err != nil { // zone names only
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list PublicServices")
		return nil
	}
	zones := sets.New[string]()
	for i := range list.Items {
		zones.Insert(intent.ZoneNames(&list.Items[i])...)
	}
	out := make([]reconcile.Request, 0, zones.Len())
	for _, z := range sets.List(zones) {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: z}})
	}
	return out
}
