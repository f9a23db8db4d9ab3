package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
	"github.com/smartcity-io/smartcity-operator/internal/render"
)

// Field indexes on PublicService, each giving the keys a service refers to.
const (
	indexConsumes  = "spec.consumes"  // "namespace/name" of each consumed service
	indexAllowFrom = "spec.allowFrom" // "namespace/name" of each admitted service, "namespace/*" of each admitted namespace
	indexZones     = "spec.zones"     // name of each referenced NetworkZone
	// indexNamespaces: each namespace the spec names in consumes and allowFrom.
	indexNamespaces = "spec.namespaces"
)

type applyConfiguration = runtime.ApplyConfiguration

// SetupIndexes registers the PublicService field indexes both reconcilers use.
func SetupIndexes(ctx context.Context, mgr ctrl.Manager) error {
	idx := mgr.GetFieldIndexer()
	for name, fn := range publicServiceIndexes() {
		if err := idx.IndexField(ctx, &platformv1alpha1.PublicService{}, name, fn); err != nil {
			return fmt.Errorf("failed to index PublicService %s: %w", name, err)
		}
	}
	return nil
}

// publicServiceIndexes are the PublicService field indexes, by name.
func publicServiceIndexes() map[string]client.IndexerFunc {
	index := func(fn func(*platformv1alpha1.PublicService) []string) client.IndexerFunc {
		return func(o client.Object) []string {
			svc, ok := o.(*platformv1alpha1.PublicService)
			if !ok {
				return nil
			}
			return fn(svc)
		}
	}
	return map[string]client.IndexerFunc{
		indexConsumes:  index(intent.ConsumedKeys),
		indexAllowFrom: index(intent.AdmittedKeys),
		indexZones:     index(intent.ZoneNames),
		indexNamespaces: index(func(svc *platformv1alpha1.PublicService) []string {
			return specNamespaces(svc.Namespace, &svc.Spec)
		}),
	}
}

// SetupWithManager registers the reconciler: it owns the children, and watches the services
// and zones that change a service's flows, and its pods for failure reasons. A service's own
// status writes, and the connectivity controller's, wake nothing: only changes of its spec,
// labels or annotations do.
func (r *PublicServiceReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return r.controller(mgr).Complete(r)
}

// controller builds the controller's watches; SetupWithManager completes it with r (a test
// completes it with r behind a reconcile counter).
func (r *PublicServiceReconciler) controller(mgr ctrl.Manager) *builder.TypedBuilder[reconcile.Request] {
	b := ctrl.NewControllerManagedBy(mgr).
		For(&platformv1alpha1.PublicService{}, builder.WithPredicates(predicate.Or[client.Object](
			predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Named("publicservice").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles, NewQueue: newTrackedQueue(&r.pending)}).
		Owns(&networkingv1.NetworkPolicy{}).
		Owns(&corev1.ServiceAccount{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		// A burst of related changes (a city's consumers arriving) makes one reconcile.
		Watches(&platformv1alpha1.PublicService{}, enqueueMapped(r.relatedServices, afterRelatedChange),
											builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&platformv1alpha1.PublicService{}, r.arrivals.handler()). // a city still arriving (firstrender.go)
		Watches(&platformv1alpha1.NetworkZone{}, handler.EnqueueRequestsFromMapFunc(r.servicesUsingZone),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})). // a zone's status never changes a service
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.servicesInNamespace),
			builder.WithPredicates(predicate.LabelChangedPredicate{})).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(podOwner), builder.WithPredicates(podFailureChanged()))
	if r.Options.Gateway != nil {
		b = b.Owns(&gatewayv1.HTTPRoute{})
	} else {
		b = b.Owns(&networkingv1.Ingress{})
	}
	return b
}

// relatedServices maps a changed service to the services whose flows depend on it: those it
// consumes or admits, and those that consume or admit it (by name or through its namespace).
// On an update both the old and the new object are mapped, so a consumer that stops consuming
// still wakes its former provider.
func (r *PublicServiceReconciler) relatedServices(ctx context.Context, o client.Object) []reconcile.Request {
	svc, ok := o.(*platformv1alpha1.PublicService)
	if !ok {
		return nil
	}
	return requests(relatedKeys(ctx, r.Client, svc), client.ObjectKeyFromObject(svc).String())
}

// relatedKeys lists the "namespace/name" keys of the services whose flows depend on svc: those
// it consumes or admits, and those that consume or admit it.
func relatedKeys(ctx context.Context, c client.Reader, svc *platformv1alpha1.PublicService) []string {
	keys := slices.DeleteFunc(append(intent.ConsumedKeys(svc), intent.AdmittedKeys(svc)...), intent.IsNamespaceKey)
	self := client.ObjectKeyFromObject(svc).String()
	for _, q := range []client.MatchingFields{
		{indexConsumes: self},
		{indexAllowFrom: self},
		{indexAllowFrom: intent.NamespaceKey(svc.Namespace)},
	} {
		list := &platformv1alpha1.PublicServiceList{}
		if err := c.List(ctx, list, q, client.UnsafeDisableDeepCopy); err != nil { // keys only
			ctrl.LoggerFrom(ctx).Error(err, "Failed to list related services", "fields", q)
			continue
		}
		for i := range list.Items {
			keys = append(keys, client.ObjectKeyFromObject(&list.Items[i]).String())
		}
	}
	return keys
}

// servicesUsingZone maps a changed zone to the services that reference it.
func (r *PublicServiceReconciler) servicesUsingZone(ctx context.Context, o client.Object) []reconcile.Request {
	return listRequests(ctx, r.Client, client.MatchingFields{indexZones: o.GetName()})
}

// servicesInNamespace maps a namespace whose labels changed to its services (zone consent).
func (r *PublicServiceReconciler) servicesInNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	return listRequests(ctx, r.Client, client.InNamespace(o.GetName()))
}

// podFailureChanged passes the pod updates that change the failure a service's status reports
// (podFailure): the Deployment's status already tells when pods come, go or become ready.
func podFailureChanged() predicate.Funcs {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			before, okBefore := e.ObjectOld.(*corev1.Pod)
			after, okAfter := e.ObjectNew.(*corev1.Pod)
			return okBefore && okAfter && podFailure([]corev1.Pod{*before}) != podFailure([]corev1.Pod{*after})
		},
	}
}

// podOwner maps an operator-managed pod to its PublicService, by its name label.
func podOwner(_ context.Context, o client.Object) []reconcile.Request {
	l := o.GetLabels()
	name := l["app.kubernetes.io/name"]
	if name == "" || l["app.kubernetes.io/managed-by"] != render.SelectorLabels(name)["app.kubernetes.io/managed-by"] {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}}
}

func listRequests(ctx context.Context, c client.Client, opts ...client.ListOption) []reconcile.Request {
	list := &platformv1alpha1.PublicServiceList{}
	if err := c.List(ctx, list, append(opts, client.UnsafeDisableDeepCopy)...); err != nil { // keys only
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list PublicServices")
		return nil
	}
	var keys []string
	for i := range list.Items {
		keys = append(keys, client.ObjectKeyFromObject(&list.Items[i]).String())
	}
	return requests(keys, "")
}

func requests(keys []string, skip string) []reconcile.Request {
	seen := map[string]bool{skip: true}
	var out []reconcile.Request
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, reconcile.Request{NamespacedName: parseKey(k)})
	}
	return out
}

// parseKey turns "namespace/name" back into a key.
func parseKey(k string) types.NamespacedName {
	ns, name, _ := strings.Cut(k, "/")
	return types.NamespacedName{Namespace: ns, Name: name}
}

// fromApplied copies an applied configuration (filled with the server's answer) into obj.
func fromApplied(ac applyConfiguration, obj client.Object) error {
	raw, err := json.Marshal(ac)
	if err != nil {
		return fmt.Errorf("failed to read applied object: %w", err)
	}
	if err := json.Unmarshal(raw, obj); err != nil {
		return fmt.Errorf("failed to read applied object: %w", err)
	}
	return nil
}
