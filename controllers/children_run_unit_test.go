package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
)

// These tests run the phase runner (runSteps) on steps of their own that record what they do:
// the order, the concurrency and the merging of the outcomes, with no API server. Which step
// runs in which phase is TestPhases'; what the real steps do against the API server (the
// NetworkPolicy's conflict stopping the rest, the children a reconcile creates) is the envtest
// suite's.

// waitLimit bounds every wait of a test step: steps that should meet and never do fail the test
// instead of hanging it.
const waitLimit = 10 * time.Second

// stepLog records the steps' starts and ends in the order they happen.
type stepLog struct {
	mu     sync.Mutex
	events []string
}

func (l *stepLog) add(e string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *stepLog) index(e string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Index(l.events, e)
}

// meeting lets n steps wait until all n have arrived, or fails after waitLimit.
type meeting struct {
	mu      sync.Mutex
	n       int
	arrived chan struct{}
}

func newMeeting(n int) *meeting { return &meeting{n: n, arrived: make(chan struct{})} }

func (m *meeting) arrive() error {
	m.mu.Lock()
	if m.n--; m.n == 0 {
		close(m.arrived)
	}
	m.mu.Unlock()
	select {
	case <-m.arrived:
		return nil
	case <-time.After(waitLimit):
		return errors.New("the other steps of the phase never ran at the same time")
	}
}

// runnerUnderTest is a reconciler whose Warning events are kept, and a scope for one service.
func runnerUnderTest() (*PublicServiceReconciler, *events.FakeRecorder, *scope) {
	rec := events.NewFakeRecorder(16)
	svc := &platformv1alpha1.PublicService{ObjectMeta: metav1.ObjectMeta{Namespace: "city", Name: "portal"}}
	return &PublicServiceReconciler{Recorder: rec}, rec, &scope{svc: svc}
}

// logged is a step that logs its start and end around run.
func logged(l *stepLog, name string, phase int, run func(*scope) error) step {
	return step{name: name, phase: phase, run: func(_ context.Context, s *scope) error {
		l.add("start " + name)
		defer l.add("end " + name)
		return run(s)
	}}
}

// TestRunStepsPhaseByPhase: each phase starts once the one before has ended, and the steps of a
// phase are in flight together (they wait for each other; run one after the other, they would
// fail).
func TestRunStepsPhaseByPhase(t *testing.T) {
	l := &stepLog{}
	together := newMeeting(3)
	nothing := func(*scope) error { return nil }
	meet := func(*scope) error { return together.arrive() }
	steps := []step{
		logged(l, "intent", phaseIntent, nothing),
		logged(l, "policy", phasePolicy, nothing),
		logged(l, "account", phaseChildren, meet),
		logged(l, "pods", phasePods, nothing),
		logged(l, "service", phaseChildren, meet),
		logged(l, "budget", phaseChildren, meet),
		logged(l, "scaling", phaseScaling, nothing),
	}
	r, _, s := runnerUnderTest()
	if _, err := r.runSteps(t.Context(), s, steps); err != nil {
		t.Fatal(err)
	}
	for _, a := range steps {
		for _, b := range steps {
			if a.phase < b.phase && l.index("end "+a.name) > l.index("start "+b.name) {
				t.Errorf("%s (phase %d) started before %s (phase %d) ended: %v", b.name, b.phase, a.name, a.phase, l.events)
			}
		}
	}
	if len(l.events) != 2*len(steps) {
		t.Errorf("events %v, want a start and an end of each of the %d steps", l.events, len(steps))
	}
}

// TestRunStepsStops: a step that stops the reconcile (a name conflict) or fails keeps the later
// phases from running; the steps of its own phase have run.
func TestRunStepsStops(t *testing.T) {
	for name, tc := range map[string]struct {
		run        func(*scope) error
		wantResult time.Duration
		wantErr    string
	}{
		"a stop retries in a minute":  {run: func(s *scope) error { s.stopped = "NetworkPolicy name conflict"; return nil }, wantResult: time.Minute},
		"a failure returns its error": {run: func(*scope) error { return errors.New("denied") }, wantErr: "policy: denied"},
	} {
		t.Run(name, func(t *testing.T) {
			l := &stepLog{}
			nothing := func(*scope) error { return nil }
			steps := []step{
				logged(l, "policy", phasePolicy, tc.run),
				logged(l, "account", phaseChildren, nothing),
				logged(l, "pods", phasePods, nothing),
			}
			r, _, s := runnerUnderTest()
			res, err := r.runSteps(t.Context(), s, steps)
			if got := fmt.Sprint(err); tc.wantErr != "" && got != tc.wantErr || tc.wantErr == "" && err != nil {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
			if res.RequeueAfter != tc.wantResult {
				t.Errorf("requeue after %s, want %s", res.RequeueAfter, tc.wantResult)
			}
			if !slices.Equal(l.events, []string{"start policy", "end policy"}) {
				t.Errorf("steps run %v, want the policy step alone", l.events)
			}
			if s.stopped == "" {
				t.Error("the scope does not say why the reconcile stopped")
			}
		})
	}
}

// TestRunStepsFirstInCanonicalOrder: when two steps of a phase fail, the reconcile reports the
// first in canonical order, whichever finished first, and each has its Warning event; the
// children they changed are listed in canonical order too.
func TestRunStepsFirstInCanonicalOrder(t *testing.T) {
	laterDone := make(chan struct{})
	first := step{name: "account", phase: phaseChildren, run: func(_ context.Context, s *scope) error {
		select { // finish after the later step, so that finishing order and canonical order differ
		case <-laterDone:
		case <-time.After(waitLimit):
			return errors.New("the later step never ran beside this one")
		}
		s.created = append(s.created, "ServiceAccount")
		return errors.New("account refused")
	}}
	later := step{name: "service", phase: phaseChildren, run: func(_ context.Context, s *scope) error {
		defer close(laterDone)
		s.created = append(s.created, "Service")
		return errors.New("service refused")
	}}
	r, rec, s := runnerUnderTest()
	_, err := r.runSteps(t.Context(), s, []step{first, later})
	if got, want := fmt.Sprint(err), "account: account refused"; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	if want := "the account step failed; the error is in a Warning event"; s.stopped != want {
		t.Errorf("stopped %q, want %q", s.stopped, want)
	}
	if diff := cmp.Diff([]string{"ServiceAccount", "Service"}, s.created); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	close(rec.Events)
	var warnings []string
	for e := range rec.Events {
		warnings = append(warnings, e)
	}
	slices.Sort(warnings)
	if len(warnings) != 2 || !strings.Contains(warnings[0], "account refused") || !strings.Contains(warnings[1], "service refused") {
		t.Errorf("events %v, want a Warning for each failed step", warnings)
	}
}

// TestPhases: the reconcile's phases, by step name, and the bound on the steps in flight,
// which must hold the largest phase (a larger phase would wait for free slots).
func TestPhases(t *testing.T) {
	steps := (&PublicServiceReconciler{}).steps()
	phases := phasesOf(steps)
	got := make([][]string, 0, len(phases))
	largest := 0
	for _, phase := range phases {
		var names []string
		for _, i := range phase {
			names = append(names, steps[i].name)
		}
		got = append(got, names)
		largest = max(largest, len(phase))
	}
	want := [][]string{
		{"resolve intent"},
		{"network policy"},
		{"service account", "service", "disruption budget", "exposure"},
		{"deployment"},
		{"autoscaler"},
		{"availability"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	if largest != maxStepsInFlight {
		t.Errorf("the largest phase has %d steps, maxStepsInFlight is %d", largest, maxStepsInFlight)
	}
}

func TestObservationsMerge(t *testing.T) {
	conflict := &childApply{kind: "ServiceAccount", err: &conflictError{kind: "ServiceAccount"}}
	failed := &childApply{kind: "Service", err: errors.New("denied")}
	policy := &childApply{kind: "NetworkPolicy"}
	cases := map[string]struct {
		into, fork, want observations
	}{
		"a fork's observations are added": {
			into: observations{policy: policy},
			fork: observations{policy: policy, endpoint: "portal.city.svc.cluster.local:8080"},
			want: observations{policy: policy, endpoint: "portal.city.svc.cluster.local:8080"},
		},
		"the first failure merged stays": {
			into: observations{policy: policy, child: conflict, stopped: "ServiceAccount name conflict"},
			fork: observations{policy: policy, child: failed, stopped: "Service name conflict"},
			want: observations{policy: policy, child: conflict, stopped: "ServiceAccount name conflict"},
		},
		"resolved flows and availability come with their fields": {
			into: observations{},
			fork: observations{resolved: true, flows: intent.Resolved{IngressGateway: true}, availability: true, podFailure: "pod p: CrashLoopBackOff"},
			want: observations{resolved: true, flows: intent.Resolved{IngressGateway: true}, availability: true, podFailure: "pod p: CrashLoopBackOff"},
		},
	}
	for name, tc := range cases {
		got := tc.into
		got.merge(&tc.fork)
		if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(observations{}, childApply{}, conflictError{}),
			cmpopts.EquateErrors()); diff != "" {
			t.Errorf("%s: merge (-want +got):\n%s", name, diff)
		}
	}
}
