package controllers

import (
	"context"
	"slices"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
)

// This file keeps the connectivity controller from chasing the operator's own convergence:
// changes the operator makes are verified once they have settled, changes made by others at
// once, and a flow that is missing only because a policy is about to be applied is not
// reported as a violation.

const (
	// settleDelay is how long the connectivity controller waits after a change made by the
	// operator itself (its policies, its Deployments, a service's spec) before verifying: the
	// changes of one convergence (a policy per service, then its peers' policies) are verified
	// together, once. Changes made by others (a foreign policy or workload, namespace labels)
	// are verified at once.
	settleDelay = 5 * time.Second
	// relatedDelay is how long the PublicService controller waits after a change of a related
	// service (one it consumes or admits, or one that consumes or admits it) before
	// reconciling: the consumers of a provider often arrive together, and their flows then
	// change its policy once.
	relatedDelay = time.Second
	// holdRequeue is when a verdict held back while peers converge is computed again, if
	// nothing wakes it before: a held verdict is woken settleDelay after each service it waits
	// for has no work left (holds.settled), so this only bounds a wake that was lost.
	holdRequeue = time.Minute
	// maxHold bounds how long a missing flow goes unreported while the services involved keep
	// having work: past it the violation is reported even if they are still converging. A
	// city's first convergence queues a peer's re-render behind every service's creation
	// (minutes at 1,700 services on two cores); a missing flow fails closed meanwhile.
	maxHold = 5 * time.Minute
)

// PendingServices tells whether the PublicService controller has work to do for a service
// ("namespace/name"): queued, waiting for a requeue or being reconciled. The
// PublicServiceReconciler implements it.
type PendingServices interface {
	Pending(key string) bool
}

// Pending implements PendingServices: whether the controller's queue holds the service or a
// worker reconciles it.
func (r *PublicServiceReconciler) Pending(key string) bool { return r.pending.has(key) }

// SettleNotifier calls back when a service ("namespace/name") no longer has work in the
// PublicService controller. The PublicServiceReconciler implements it.
type SettleNotifier interface {
	NotifySettled(fn func(key string))
}

// NotifySettled implements SettleNotifier: fn is called, from a worker of the PublicService
// controller, each time a reconcile ends with nothing more queued for its service.
func (r *PublicServiceReconciler) NotifySettled(fn func(key string)) { r.pending.notify(fn) }

// holds remembers since when each service's verdict is held back, and which services each
// held verdict waits for.
type holds struct {
	since sync.Map
	mu    sync.Mutex
	// waiting maps a service with work to the held services that wait for it.
	waiting map[string]map[string]bool
}

// settling reports whether the verdict for key should wait while the services involved still
// have work queued in the PublicService controller, whose next apply is likely to change it:
//   - flows that are only missing (nothing is reachable beyond the intent), when the service or
//     a peer of a missing flow has work;
//   - a verdict that stays False, already reported for this generation (reported), when the
//     service or a peer of a differing flow has work: the list of flows in its message would
//     change at every step of a convergence.
//
// A new over-permission (extra flows, not yet reported) is reported at once, and so is a
// verified verdict. A verdict is held at most maxHold.
func (h *holds) settling(pending PendingServices, key string, c connectivityResult, reported bool, now time.Time) bool {
	peers := c.missingPeers
	if c.extra {
		peers = append(slices.Clone(peers), c.extraPeers...)
	}
	if pending == nil || !c.audited || c.failed || c.verified || c.extra && !reported ||
		!pending.Pending(key) && !slices.ContainsFunc(peers, pending.Pending) {
		h.since.Delete(key)
		return false
	}
	first, _ := h.since.LoadOrStore(key, now)
	if t, ok := first.(time.Time); ok && now.Sub(t) >= maxHold {
		h.since.Delete(key)
		return false
	}
	h.wait(key, append(peers, key), pending)
	return true
}

// wait records that the held verdict of key waits for those of services that have work.
func (h *holds) wait(key string, services []string, pending PendingServices) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.waiting == nil {
		h.waiting = map[string]map[string]bool{}
	}
	for _, s := range services {
		if !pending.Pending(s) {
			continue
		}
		if h.waiting[s] == nil {
			h.waiting[s] = map[string]bool{}
		}
		h.waiting[s][key] = true
	}
}

// settled returns the held verdicts that waited for service, which has no work left, and
// forgets that they did.
func (h *holds) settled(service string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	held := h.waiting[service]
	delete(h.waiting, service)
	keys := make([]string, 0, len(held))
	for k := range held {
		keys = append(keys, k)
	}
	return keys
}

func (h *holds) forget(key string) { h.since.Delete(key) }

// enqueueMapped maps each event's objects to requests with fn, and adds them after
// delay(object): the queue coalesces the adds of one key that fall in the same wait.
func enqueueMapped(fn handler.MapFunc, delay func(client.Object) time.Duration) handler.EventHandler {
	add := func(ctx context.Context, q requestQueue, objs ...client.Object) {
		for _, o := range objs {
			if o == nil {
				continue
			}
			d := delay(o)
			for _, req := range fn(ctx, o) {
				if d > 0 {
					q.AddAfter(req, d)
				} else {
					q.Add(req)
				}
			}
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q requestQueue) {
			add(ctx, q, e.Object)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q requestQueue) {
			add(ctx, q, e.ObjectOld, e.ObjectNew)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q requestQueue) {
			add(ctx, q, e.Object)
		},
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q requestQueue) {
			add(ctx, q, e.Object)
		},
	}
}

// afterSettling delays every change: the operator's own (a service's spec, a zone's, which
// the PublicService controller turns into policies first).
func afterSettling(client.Object) time.Duration { return settleDelay }

// afterRelatedChange delays the reconcile a related service's change asks for.
func afterRelatedChange(client.Object) time.Duration { return relatedDelay }

// settleIfOwned delays the changes of objects a PublicService controls (the operator's own
// policies and Deployments) and verifies others' at once (a foreign policy or workload).
func settleIfOwned(o client.Object) time.Duration {
	if ownerService(o) != "" {
		return settleDelay
	}
	return 0
}
