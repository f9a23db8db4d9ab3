package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/citygen"
)

// fieldManager is the benchmark's server-side-apply field manager.
const fieldManager = "smartcity-bench"

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(platformv1alpha1.AddToScheme(scheme))
}

// restConfig is the admin kubeconfig's, without client-side rate limiting.
func restConfig(kubeconfig string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS = -1 // no client-side rate limiter, as controller-runtime's default
	cfg.UserAgent = fieldManager
	return cfg, nil
}

// clients are a direct client and a watch-fed cache of one cluster.
type clients struct {
	client.Client
	cache  cache.Cache
	cancel context.CancelFunc
}

func connect(ctx context.Context, kubeconfig string) (*clients, error) {
	cfg, err := restConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	ca, err := cache.New(cfg, cache.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(ctx)
	go func() { _ = ca.Start(cctx) }()
	if !ca.WaitForCacheSync(cctx) {
		cancel()
		return nil, fmt.Errorf("the cache of %s did not sync", kubeconfig)
	}
	return &clients{Client: c, cache: ca, cancel: cancel}, nil
}

// apply server-side-applies objects in order, and fails on the first rejection (a generated
// city must pass the CRDs' validation).
func (c *clients) apply(ctx context.Context, objs ...runtime.Object) error {
	for _, obj := range objs {
		u, err := toUnstructured(obj)
		if err != nil {
			return err
		}
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
			return fmt.Errorf("the API server refused %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
	}
	return nil
}

func toUnstructured(obj runtime.Object) (*unstructured.Unstructured, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u, nil
	}
	m, err := citygen.Manifest(obj)
	if err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: m}, nil
}

// applyParallel applies groups of objects (one group per service, in order within it) with
// `workers` goroutines, as the operator's workers would.
func (c *clients) applyParallel(ctx context.Context, workers int, groups [][]*unstructured.Unstructured) error {
	work := make(chan []*unstructured.Unstructured)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range workers {
		wg.Go(func() {
			for g := range work {
				objs := make([]runtime.Object, len(g))
				for i := range g {
					objs[i] = g[i]
				}
				if err := c.apply(ctx, objs...); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, g := range groups {
		work <- g
	}
	close(work)
	wg.Wait()
	return first
}

// renderChildren runs `kubectl city render` on the city's manifests and returns the children
// grouped by service, in the operator's order, ready for the floor: owner references removed
// and every Deployment at its service's replicas.min.
func renderChildren(ctx context.Context, kubectlCity, dir string, mins map[string]int32) ([][]*unstructured.Unstructured, int, error) {
	cmd := exec.CommandContext(ctx, kubectlCity, "render", "-f", dir, "-o", "json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, 0, fmt.Errorf("kubectl city render failed: %w\n%s", err, stderr.String())
	}
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &list); err != nil {
		return nil, 0, fmt.Errorf("failed to read kubectl city render's output: %w", err)
	}
	index := map[string]int{}
	var groups [][]*unstructured.Unstructured
	for _, item := range list.Items {
		u := &unstructured.Unstructured{Object: item}
		u.SetOwnerReferences(nil)
		key := u.GetNamespace() + "/" + u.GetName() // every child is named after its service
		if u.GetKind() == "Deployment" {
			m, ok := mins[key]
			if !ok {
				return nil, 0, fmt.Errorf("kubectl city render gave a Deployment %s for no generated service", key)
			}
			if err := unstructured.SetNestedField(u.Object, int64(m), "spec", "replicas"); err != nil {
				return nil, 0, err
			}
		}
		i, ok := index[key]
		if !ok {
			i = len(groups)
			index[key] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], u)
	}
	return groups, len(list.Items), nil
}

// waitFor calls check every interval until it reports done, ctx ends or cap passes. It prints
// check's progress line when it changes, at most every 10 s (and always the last one).
func waitFor(ctx context.Context, start time.Time, limit time.Duration, label string,
	check func() (done bool, progress string, err error)) (bool, string, error) {
	var last string
	var lastPrint time.Time
	for {
		done, progress, err := check()
		if err != nil {
			return false, progress, err
		}
		if done || (progress != last && time.Since(lastPrint) >= 10*time.Second) {
			info("[%s] %s: %s", fmtDur(time.Since(start)), label, progress)
			last, lastPrint = progress, time.Now()
		}
		if done {
			return true, progress, nil
		}
		if time.Since(start) > limit {
			info("[%s] %s: %s (cap reached)", fmtDur(time.Since(start)), label, progress)
			return false, progress, nil
		}
		select {
		case <-ctx.Done():
			return false, progress, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
