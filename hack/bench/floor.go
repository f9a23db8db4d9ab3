package main

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/smartcity-io/smartcity-operator/internal/bench"
)

// runFloor applies the rendered children directly on a fresh cluster and waits until every
// Deployment has its service's replicas.min ready pods.
func (b *benchmark) runFloor(ctx context.Context, n *nRun) (bench.Floor, error) {
	var out bench.Floor
	cl := &cluster{root: b.root, name: b.clusterName, nodes: n.nodes}
	step("N=%d, run %d/%d: the floor (children applied directly), cluster %s", n.n, n.rep, b.repeat, cl.name)
	if err := cl.up(ctx, ""); err != nil {
		return out, err
	}
	defer func() {
		if err := cl.down(); err != nil {
			info("warning: %v", err)
		}
	}()
	c, err := connect(ctx, cl.kubeconfig())
	if err != nil {
		return out, err
	}
	defer c.cancel()
	var namespaces []runtime.Object
	for i := range n.city.Namespaces {
		namespaces = append(namespaces, &n.city.Namespaces[i])
	}
	if err := c.apply(ctx, namespaces...); err != nil {
		return out, err
	}
	deps := &appsv1.DeploymentList{}
	if err := c.cache.List(ctx, deps); err != nil { // starts the informer before the clock
		return out, err
	}

	info("applying %d children of %d services (%d worker, no client-side rate limit)", n.objects, len(n.groups), b.workers)
	start := time.Now()
	if err := c.applyParallel(ctx, b.workers, n.groups); err != nil {
		return out, err
	}
	out.Objects = n.objects
	out.ApplySeconds = new(time.Since(start).Seconds())
	info("[%s] applied", fmtDur(time.Since(start)))

	done, progress, err := waitFor(ctx, start, b.cap, "Deployments with replicas.min ready pods", func() (bool, string, error) {
		deps := &appsv1.DeploymentList{}
		if err := c.cache.List(ctx, deps); err != nil {
			return false, "", err
		}
		ready := 0
		for i := range deps.Items {
			d := &deps.Items[i]
			if m, ok := n.mins[d.Namespace+"/"+d.Name]; ok && d.Status.ReadyReplicas >= m {
				ready++
			}
		}
		return ready == len(n.mins), fmt.Sprintf("%d/%d", ready, len(n.mins)), nil
	})
	if err != nil {
		return out, err
	}
	out.Converged = done
	if !done {
		out.Progress = fmt.Sprintf("did not converge in %s: %s Deployments ready", fmtDur(b.cap), progress)
		return out, nil
	}
	out.Seconds = new(time.Since(start).Seconds())
	return out, nil
}
