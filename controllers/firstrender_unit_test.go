package controllers

import (
	"strings"
	"testing"
	"time"

	promtestutil "github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/types"
)

func TestArrivalsHold(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	a := types.NamespacedName{Namespace: "city", Name: "a"}
	b := types.NamespacedName{Namespace: "city", Name: "b"}
	const limit = time.Minute

	var arr arrivals
	if d := arr.hold(a, false, t0, limit); d != 0 {
		t.Errorf("a service that waits for nothing is held %s", d)
	}
	if d := arr.hold(a, true, t0, 0); d != 0 {
		t.Errorf("with the hold off, a service is held %s", d)
	}
	// A service held for the first time counts as an arrival: it waits arrivalQuiet.
	if d := arr.hold(a, true, t0, limit); d != arrivalQuiet {
		t.Errorf("first hold = %s, want %s", d, arrivalQuiet)
	}
	// Another arrival a second later moves the end of the wait.
	arr.observe(t0.Add(time.Second))
	if d := arr.hold(a, true, t0.Add(2*time.Second), limit); d != 2*time.Second {
		t.Errorf("hold after a later arrival = %s, want 2s", d)
	}
	// Once the city is quiet, the service is rendered.
	if d := arr.hold(a, true, t0.Add(time.Second+arrivalQuiet), limit); d != 0 {
		t.Errorf("hold once quiet = %s, want 0", d)
	}
	// A first render that failed is retried at once, even while others arrive.
	arr.observe(t0.Add(10 * time.Second))
	if d := arr.hold(a, true, t0.Add(10*time.Second), limit); d != 0 {
		t.Errorf("hold after the wait was over = %s, want 0", d)
	}
	// Rendered: its record goes.
	arr.hold(a, false, t0.Add(11*time.Second), limit)
	if len(arr.held) != 0 {
		t.Errorf("held services after the render = %d, want 0", len(arr.held))
	}

	// Arrivals that never stop: the wait ends at the limit.
	start := t0.Add(time.Hour)
	var busy arrivals
	var last time.Duration
	for now := start; now.Sub(start) <= 2*limit; now = now.Add(time.Second) {
		busy.observe(now)
		d := busy.hold(b, true, now, limit)
		if d == 0 {
			last = now.Sub(start)
			break
		}
		if d > limit-now.Sub(start) {
			t.Fatalf("at %s the hold is %s, past the limit", now.Sub(start), d)
		}
	}
	if last != limit {
		t.Errorf("under endless arrivals the hold ended after %s, want %s", last, limit)
	}

	// forget drops a deleted service.
	busy.observe(start)
	busy.hold(b, true, start, limit)
	busy.forget(b)
	if len(busy.held) != 0 {
		t.Errorf("held services after forget = %d, want 0", len(busy.held))
	}
}

// TestFirstRenderCollector: the gauge counts the services that wait now, not those whose wait is
// over.
func TestFirstRenderCollector(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	r := &PublicServiceReconciler{}
	for _, name := range []string{"a", "b", "c"} {
		r.arrivals.hold(types.NamespacedName{Namespace: "city", Name: name}, true, t0, time.Minute)
	}
	r.arrivals.hold(types.NamespacedName{Namespace: "city", Name: "c"}, true, t0.Add(time.Hour), time.Minute) // released
	want := metricHeader("smartcity_publicservices_first_render_held", "gauge",
		"PublicServices whose first render waits while services keep arriving (--first-render-hold), for peers or zones their spec names.") +
		"smartcity_publicservices_first_render_held 2\n"
	if err := promtestutil.CollectAndCompare(r.FirstRenderCollector(), strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
