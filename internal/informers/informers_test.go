package informers_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/smartcity-io/smartcity-operator/internal/informers"
)

// TestWatchesAskForTheLongTimeout starts an informer on a fake lister-watcher and reads the
// timeout its first watch asks the API server for.
func TestWatchesAskForTheLongTimeout(t *testing.T) {
	watched := make(chan metav1.ListOptions, 1)
	lw := &toolscache.ListWatch{
		ListWithContextFunc: func(context.Context, metav1.ListOptions) (runtime.Object, error) {
			return &corev1.ConfigMapList{ListMeta: metav1.ListMeta{ResourceVersion: "1"}}, nil
		},
		WatchFuncWithContext: func(_ context.Context, o metav1.ListOptions) (watch.Interface, error) {
			select {
			case watched <- o:
			default:
			}
			return watch.NewFake(), nil
		},
	}
	inf := informers.New(lw, &corev1.ConfigMap{}, 0, toolscache.Indexers{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go inf.RunWithContext(ctx)

	var o metav1.ListOptions
	select {
	case o = <-watched:
	case <-time.After(30 * time.Second):
		t.Fatal("the informer opened no watch in 30 s")
	}
	if o.TimeoutSeconds == nil {
		t.Fatal("the watch asks for no timeout; the API server would choose one")
	}
	got := time.Duration(*o.TimeoutSeconds) * time.Second
	if got < informers.MinWatchTimeout || got > 2*informers.MinWatchTimeout {
		t.Errorf("watch timeout %s, want between %s and %s", got, informers.MinWatchTimeout, 2*informers.MinWatchTimeout)
	}
}
