package controllers

import (
	"sync"
	"time"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// pendingServices knows which PublicServices the PublicService controller has work for: queued,
// waiting for a requeue, or being reconciled. The connectivity controller reads it to tell a
// flow that is missing because a policy is about to be applied (a peer still converging) from
// one that stays missing. Its zero value is ready to use; it is safe for concurrent use.
type pendingServices struct {
	mu sync.Mutex
	// added counts the adds of each pending key; started is that count when its reconcile
	// began. A reconcile that ends with no add since it began leaves nothing pending.
	added   map[reconcile.Request]uint64
	started map[reconcile.Request]uint64
	// onSettled, when set, is called with the key ("namespace/name") of a service whose
	// reconcile ended with nothing more pending.
	onSettled func(key string)
}

// notify sets the function called when a service has no work left.
func (p *pendingServices) notify(fn func(key string)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onSettled = fn
}

func (p *pendingServices) add(items ...reconcile.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.added == nil {
		p.added, p.started = map[reconcile.Request]uint64{}, map[reconcile.Request]uint64{}
	}
	for _, it := range items {
		p.added[it]++
	}
}

func (p *pendingServices) start(item reconcile.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n, ok := p.added[item]; ok {
		p.started[item] = n
	}
}

func (p *pendingServices) done(item reconcile.Request) {
	p.mu.Lock()
	var settled func(string)
	if n, ok := p.started[item]; ok && p.added[item] == n {
		delete(p.added, item)
		settled = p.onSettled
	}
	delete(p.started, item)
	p.mu.Unlock()
	if settled != nil {
		settled(item.String())
	}
}

// has reports whether the service of key ("namespace/name") has a reconcile to come or under
// way. A nil pendingServices has nothing pending.
func (p *pendingServices) has(key string) bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.added[reconcile.Request{NamespacedName: parseKey(key)}]
	return ok
}

// requestQueue is a controller's queue of requests.
type requestQueue = workqueue.TypedRateLimitingInterface[reconcile.Request]

// trackedQueue is controller-runtime's priority queue (the default of its controllers) that
// records in pending what it holds and what is being reconciled.
type trackedQueue struct {
	priorityqueue.PriorityQueue[reconcile.Request]
	pending *pendingServices
}

// newTrackedQueue returns a controller.Options.NewQueue that builds the default priority
// queue, tracked in pending.
func newTrackedQueue(pending *pendingServices) func(string, workqueue.TypedRateLimiter[reconcile.Request]) requestQueue {
	return func(name string, limiter workqueue.TypedRateLimiter[reconcile.Request]) requestQueue {
		q := priorityqueue.New(name, func(o *priorityqueue.Opts[reconcile.Request]) { o.RateLimiter = limiter })
		return &trackedQueue{PriorityQueue: q, pending: pending}
	}
}

// Add implements workqueue.TypedInterface.
func (q *trackedQueue) Add(item reconcile.Request) {
	q.pending.add(item)
	q.PriorityQueue.Add(item)
}

// AddAfter implements workqueue.TypedDelayingInterface.
func (q *trackedQueue) AddAfter(item reconcile.Request, d time.Duration) {
	q.pending.add(item)
	q.PriorityQueue.AddAfter(item, d)
}

// AddRateLimited implements workqueue.TypedRateLimitingInterface.
func (q *trackedQueue) AddRateLimited(item reconcile.Request) {
	q.pending.add(item)
	q.PriorityQueue.AddRateLimited(item)
}

// AddWithOpts implements priorityqueue.PriorityQueue.
func (q *trackedQueue) AddWithOpts(o priorityqueue.AddOpts, items ...reconcile.Request) {
	q.pending.add(items...)
	q.PriorityQueue.AddWithOpts(o, items...)
}

// Get implements workqueue.TypedInterface.
func (q *trackedQueue) Get() (reconcile.Request, bool) {
	item, shutdown := q.PriorityQueue.Get()
	if !shutdown {
		q.pending.start(item)
	}
	return item, shutdown
}

// GetWithPriority implements priorityqueue.PriorityQueue.
func (q *trackedQueue) GetWithPriority() (reconcile.Request, int, bool) {
	item, priority, shutdown := q.PriorityQueue.GetWithPriority()
	if !shutdown {
		q.pending.start(item)
	}
	return item, priority, shutdown
}

// Done implements workqueue.TypedInterface. The record goes first: once the queue knows the
// reconcile is done, another worker may take the item again.
func (q *trackedQueue) Done(item reconcile.Request) {
	q.pending.done(item)
	q.PriorityQueue.Done(item)
}
