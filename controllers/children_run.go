package controllers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
)

// A reconcile's steps are listed in their canonical order (steps()) and run in phases: the
// steps of one phase at the same time, the phases one after the other. Most children do not
// depend on each other, and each apply is a round trip to the API server: a first reconcile
// waits for three applies in a row instead of four to six (six instead of seven to nine when
// autoscaled: the Deployment's create, its replicas handoff and its apply, then the HPA).
//
// The phases keep what the order of the steps guaranteed:
//   - The NetworkPolicy is applied alone, before anything else: no pod exists without it, and
//     its name conflict stops the reconcile before anything else is applied.
//   - The ServiceAccount, the Service, the PodDisruptionBudget and the exposure are applied
//     together. None depends on another, and none makes pods. They now come before the
//     Deployment, so a foreign Deployment of the service's name no longer keeps them from
//     being created; none reaches its pods, as they select only pods with the operator's
//     labels (render.SelectorLabels).
//   - The Deployment comes after all of them, rather than beside them: its pods need the
//     ServiceAccount, and a name conflict or an error on any other child still stops the
//     reconcile before pods are created or rolled. This costs no more round trips than the
//     other grouping that keeps the ServiceAccount first (NetworkPolicy, ServiceAccount, then
//     the Deployment beside the rest): either waits for three applies in a row.
//   - The HorizontalPodAutoscaler names the Deployment, so it is applied only once the
//     Deployment is known to be this service's: an autoscaler beside a foreign Deployment of
//     the same name would scale it.
//
// Concurrent steps never share what they write: each runs on its own fork of the scope, and
// the runner merges the forks in canonical order. The outcome is that of running the steps
// one after the other in canonical order up to the first that fails or stops: the status and
// the returned error name that step, whatever finished first. The children that later steps
// of the same phase created or changed anyway are in the reconcile's events, in canonical
// order too.

// Phases of a reconcile, in the order they run.
const (
	phaseIntent   = iota // resolve the flows
	phasePolicy          // the NetworkPolicy, alone
	phaseChildren        // ServiceAccount, Service, PodDisruptionBudget, exposure
	phasePods            // the Deployment
	phaseScaling         // the HorizontalPodAutoscaler, which names the Deployment
	phaseObserve         // the Deployment's and the pods' state
)

// maxStepsInFlight bounds the steps one reconcile runs at once: the largest phase's size. A
// reconciler with --publicservice-concurrency N can have N times as many applies in flight.
const maxStepsInFlight = 4

// stepRun is one step's run: its fork of the reconcile's scope, and its error.
type stepRun struct {
	s   *scope
	err error
}

// runSteps runs steps, listed in canonical order, phase by phase, and returns the reconcile's
// result: an error when a step failed, a retry after a minute when one stopped the reconcile.
// s receives what the steps observed and the children they changed.
func (r *PublicServiceReconciler) runSteps(ctx context.Context, s *scope, steps []step) (ctrl.Result, error) {
	runs := make([]stepRun, len(steps))
	defer func() { s.created, s.updated = changedChildren(runs) }()
	for _, phase := range phasesOf(steps) {
		runPhase(ctx, s, steps, phase, runs)
		for _, i := range phase {
			r.reportFailure(s, steps[i].name, runs[i].err)
		}
		for _, i := range phase {
			s.merge(&runs[i].s.observations)
			if err := runs[i].err; err != nil {
				s.stopped = fmt.Sprintf("the %s step failed; the error is in a Warning event", steps[i].name)
				return ctrl.Result{}, fmt.Errorf("%s: %w", steps[i].name, err)
			}
			if s.stopped != "" {
				ctrl.LoggerFrom(ctx).Info("Reconcile stopped", "step", steps[i].name, "why", s.stopped)
				return ctrl.Result{RequeueAfter: time.Minute}, nil
			}
		}
	}
	return ctrl.Result{}, nil
}

// phasesOf groups the indexes of steps by phase, phases in the order they run and indexes in
// canonical order within each.
func phasesOf(steps []step) [][]int {
	byPhase := map[int][]int{}
	for i, st := range steps {
		byPhase[st.phase] = append(byPhase[st.phase], i)
	}
	phases := make([][]int, 0, len(byPhase))
	for _, p := range slices.Sorted(maps.Keys(byPhase)) {
		phases = append(phases, byPhase[p])
	}
	return phases
}

// runPhase runs the steps of one phase (indexes into steps) at the same time, at most
// maxStepsInFlight at once, each on its own fork of s, and records their runs. It returns once
// every step has returned: an error of one does not cancel the others, whose outcomes the
// status reports. A step that panics panics here, in the reconcile's goroutine, where
// controller-runtime recovers it as it did when the steps ran there.
func runPhase(ctx context.Context, s *scope, steps []step, phase []int, runs []stepRun) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxStepsInFlight)
	panics := make([]any, len(steps))
	for _, i := range phase {
		runs[i].s = s.fork()
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			defer func() { panics[i] = recover() }()
			runs[i].err = steps[i].run(ctx, runs[i].s)
		})
	}
	wg.Wait()
	for _, p := range panics {
		if p != nil {
			panic(p)
		}
	}
}

// fork is a scope for one step of a phase: what s observed so far, and no changes yet. The
// step may read everything and write only its fork.
func (s *scope) fork() *scope {
	return &scope{svc: s.svc, spec: s.spec, observations: s.observations}
}

// merge adds to o what a step observed on its fork f of o. What o holds already stays: forks
// are merged in canonical order, so a field that two steps set (child, stopped) keeps the
// first one's.
func (o *observations) merge(f *observations) {
	o.stopped = cmp.Or(o.stopped, f.stopped)
	if !o.resolved && f.resolved {
		o.resolved, o.flows = true, f.flows
	}
	o.policy = cmp.Or(o.policy, f.policy)
	o.child = cmp.Or(o.child, f.child)
	o.deployment = cmp.Or(o.deployment, f.deployment)
	if !o.availability && f.availability {
		o.availability, o.podFailure = true, f.podFailure
	}
	o.endpoint = cmp.Or(o.endpoint, f.endpoint)
}

// changedChildren lists the kinds of the children that the runs created and changed, in
// canonical order.
func changedChildren(runs []stepRun) (created, updated []string) {
	for _, run := range runs {
		if run.s != nil {
			created = append(created, run.s.created...)
			updated = append(updated, run.s.updated...)
		}
	}
	return created, updated
}

// reportFailure records a Warning event for a step that failed, unless its error is an apply
// error, whose event is recorded already. Every failed step of a phase has its event, though
// the status and the returned error name only the first.
func (r *PublicServiceReconciler) reportFailure(s *scope, name string, err error) {
	if _, ok := errors.AsType[*applyError](err); err != nil && !ok {
		r.Recorder.Eventf(s.svc, nil, corev1.EventTypeWarning, "ReconcileFailed", "Reconcile", "%s: %v", name, err)
	}
}
