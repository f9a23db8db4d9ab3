package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
)

// This file holds back a new service's first render while the city is still arriving.
//
// A policy names a peer only in a flow both sides consent to, so a service rendered before a
// peer it names exists is rendered again when the peer arrives, and a provider that admits a
// whole namespace is rendered again for each of its consumers that arrives after it. When a
// city is applied at once (kubectl apply -f, a GitOps sync), most services have such a peer
// still to come. Their first render waits while PublicServices keep arriving, until what they
// wait for exists, so that their first policy is already the one they keep. No pod runs
// meanwhile: the policy still comes first.

// arrivalQuiet is how long after the latest PublicService arrived the city counts as
// arrived: a service still waiting then is rendered without what it waits for.
const arrivalQuiet = 3 * time.Second

// arrivals tracks when PublicServices arrive and which services wait for their first render.
// Its zero value is ready to use; it is safe for concurrent use.
type arrivals struct {
	mu sync.Mutex
	// last is when the latest PublicService arrived, as this process saw it.
	last time.Time
	// held records each service held since its first reconcile, until it is rendered.
	held map[types.NamespacedName]holdState
}

// holdState is one service's hold: since when it waits, and whether its wait is over (it is
// not held again, even when its first render fails and is retried).
type holdState struct {
	since    time.Time
	released bool
}

// observe records that a PublicService arrived at now.
func (a *arrivals) observe(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if now.After(a.last) {
		a.last = now
	}
}

// hold returns how long the first render of key waits, at most: 0 when it waits for nothing
// (waiting false: its record goes), when no PublicService arrived within arrivalQuiet, or when
// it has waited limit already; once 0, it stays 0 until the service is rendered. A service held
// for the first time counts as an arrival (its own creation event may reach the handler after
// its reconcile starts).
func (a *arrivals) hold(key types.NamespacedName, waiting bool, now time.Time, limit time.Duration) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !waiting || limit <= 0 {
		delete(a.held, key)
		return 0
	}
	st, ok := a.held[key]
	switch {
	case st.released:
		return 0
	case !ok:
		if a.held == nil {
			a.held = map[types.NamespacedName]holdState{}
		}
		st.since = now
		if now.After(a.last) {
			a.last = now
		}
	}
	left := min(a.last.Add(arrivalQuiet).Sub(now), st.since.Add(limit).Sub(now))
	st.released = left <= 0
	a.held[key] = st
	return max(left, 0)
}

// waiting is how many services wait for their first render now.
func (a *arrivals) waiting() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, st := range a.held {
		if !st.released {
			n++
		}
	}
	return n
}

// forget drops what is recorded about key (a deleted service).
func (a *arrivals) forget(key types.NamespacedName) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.held, key)
}

var firstRenderHeldDesc = prometheus.NewDesc("smartcity_publicservices_first_render_held",
	"PublicServices whose first render waits while services keep arriving (--first-render-hold), for peers or zones their spec names.",
	nil, nil)

// FirstRenderCollector exports how many services wait for their first render
// (smartcity_publicservices_first_render_held).
func (r *PublicServiceReconciler) FirstRenderCollector() prometheus.Collector {
	return firstRenderCollector{&r.arrivals}
}

type firstRenderCollector struct{ arrivals *arrivals }

// Describe implements prometheus.Collector.
func (c firstRenderCollector) Describe(ch chan<- *prometheus.Desc) { ch <- firstRenderHeldDesc }

// Collect implements prometheus.Collector.
func (c firstRenderCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(firstRenderHeldDesc, prometheus.GaugeValue, float64(c.arrivals.waiting()))
}

// handler records each PublicService's creation; it enqueues nothing.
func (a *arrivals) handler() handler.EventHandler {
	return handler.Funcs{
		CreateFunc: func(context.Context, event.CreateEvent, requestQueue) { a.observe(time.Now()) },
	}
}

// holdFirstRender returns how long svc's first render waits (0: render now). It waits only
// while the service has neither a NetworkPolicy nor a Deployment, and only for what its policy
// would miss.
func (r *PublicServiceReconciler) holdFirstRender(ctx context.Context, svc *platformv1alpha1.PublicService) (time.Duration, error) {
	if r.FirstRenderHold <= 0 {
		return 0, nil
	}
	key := client.ObjectKeyFromObject(svc)
	awaited, err := r.firstRenderAwaits(ctx, svc)
	if err != nil {
		return 0, err
	}
	d := r.arrivals.hold(key, len(awaited) > 0, time.Now(), r.FirstRenderHold)
	if d > 0 {
		ctrl.LoggerFrom(ctx).V(1).Info("Holding the first render while services arrive", "awaiting", awaited, "recheckIn", d)
	}
	return d, nil
}

// firstRenderAwaits lists what svc's first policy would miss: the services and zones its spec
// names that do not exist yet ("namespace/name", "zone/name"), and the namespaces whose
// consumers it admits ("namespace/*": more of them may come). It is empty once the service's
// NetworkPolicy or Deployment exists: a policy deleted under running pods is restored at once.
func (r *PublicServiceReconciler) firstRenderAwaits(ctx context.Context, svc *platformv1alpha1.PublicService) ([]string, error) {
	key := client.ObjectKeyFromObject(svc)
	for _, child := range []struct {
		kind string
		obj  client.Object
	}{{"NetworkPolicy", &networkingv1.NetworkPolicy{}}, {"Deployment", &appsv1.Deployment{}}} {
		missing, err := r.missing(ctx, child.kind, key, child.obj)
		if err != nil || !missing {
			return nil, err // rendered before
		}
	}
	var awaited []string
	for _, k := range append(intent.ConsumedKeys(svc), intent.AdmittedKeys(svc)...) {
		if intent.IsNamespaceKey(k) {
			awaited = append(awaited, k)
			continue
		}
		peer := parseKey(k)
		if peer == key {
			continue
		}
		missing, err := r.missing(ctx, "PublicService", peer, &platformv1alpha1.PublicService{})
		if err != nil {
			return nil, err
		}
		if missing {
			awaited = append(awaited, k)
		}
	}
	for _, name := range intent.ZoneNames(svc) {
		missing, err := r.missing(ctx, "NetworkZone", types.NamespacedName{Name: name}, &platformv1alpha1.NetworkZone{})
		if err != nil {
			return nil, err
		}
		if missing {
			awaited = append(awaited, "zone/"+name)
		}
	}
	return awaited, nil
}

// missing reports whether the cache has no object of key.
func (r *PublicServiceReconciler) missing(ctx context.Context, kind string, key types.NamespacedName, obj client.Object) (bool, error) {
	err := r.Get(ctx, key, obj, client.UnsafeDisableDeepCopy)
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("failed to get %s %s: %w", kind, key, err)
	}
	return false, nil
}
