// Package informers builds the operator's shared informers: client-go's, with watches that
// last as long as the API server keeps any client's watch by default.
package informers

import (
	"context"
	"math/rand/v2"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	toolscache "k8s.io/client-go/tools/cache"
)

// MinWatchTimeout is the shortest time a watch stays open before the informer renews it. The
// API server gives a watch that asks for no timeout between --min-request-timeout (30 minutes
// by default) and twice that; client-go's informers ask for 5 to 10 minutes, so an operator at
// rest that watches a dozen kinds would renew a watch about every half minute, each renewal a
// request that changes nothing. Bookmarks keep a long watch's resourceVersion fresh meanwhile,
// and a watch that breaks earlier (an API server restart, a connection reset) is renewed at
// once, as before.
const MinWatchTimeout = 30 * time.Minute

// New is a controller-runtime cache.Options.NewInformer: client-go's shared index informer,
// whose watches ask the API server for a timeout between MinWatchTimeout and twice that.
func New(lw toolscache.ListerWatcher, obj runtime.Object, resync time.Duration, indexers toolscache.Indexers) toolscache.SharedIndexInformer {
	return toolscache.NewSharedIndexInformer(longWatches(lw), obj, resync, indexers)
}

// longWatches wraps lw so that each watch asks for a timeout of at least MinWatchTimeout,
// chosen at random up to twice that (as the API server and client-go do) so that the watches
// of many informers are not renewed together. client-go's shared informers take no such
// option (its Reflector does), so the timeout is set on the request.
func longWatches(lw toolscache.ListerWatcher) toolscache.ListerWatcher {
	inner := toolscache.ToListerWatcherWithContext(lw)
	return &toolscache.ListWatch{
		ListWithContextFunc: inner.ListWithContext,
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.TimeoutSeconds = timeoutSeconds(o.TimeoutSeconds)
			return inner.WatchWithContext(ctx, o)
		},
	}
}

// timeoutSeconds returns a timeout between MinWatchTimeout and twice that, or asked when it is
// longer.
func timeoutSeconds(asked *int64) *int64 {
	long := int64((MinWatchTimeout + rand.N(MinWatchTimeout+time.Second)).Seconds()) //nolint:gosec // spreads renewals, not a secret
	if asked != nil && *asked > long {
		return asked
	}
	return &long
}
