package controllers

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/smartcity-io/smartcity-operator/internal/render"
)

func mustHash(t *testing.T, replicas int32) [32]byte {
	t.Helper()
	h, err := hashApply(appsv1ac.Deployment("portal", "hanoi").WithSpec(appsv1ac.DeploymentSpec().WithReplicas(replicas)))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestApplyMemoCurrent(t *testing.T) {
	portal := memoKey{kind: "Deployment", key: client.ObjectKey{Namespace: "hanoi", Name: "portal"}, manager: render.FieldManager}
	handoff := portal
	handoff.manager = render.HandoffFieldManager
	two, three := mustHash(t, 2), mustHash(t, 3)

	cases := []struct {
		name     string
		remember func(*applyMemo)
		key      memoKey
		hash     [32]byte
		liveRV   string
		want     bool
	}{
		{name: "nothing remembered", remember: func(*applyMemo) {}, key: portal, hash: two, liveRV: "10", want: false},
		{name: "same configuration, object untouched since", remember: func(m *applyMemo) { m.remember(portal, two, "10") },
			key: portal, hash: two, liveRV: "10", want: true},
		{name: "desired state changed", remember: func(m *applyMemo) { m.remember(portal, two, "10") },
			key: portal, hash: three, liveRV: "10", want: false},
		{name: "object written since (drift, a status update)", remember: func(m *applyMemo) { m.remember(portal, two, "10") },
			key: portal, hash: two, liveRV: "11", want: false},
		{name: "live object without resourceVersion", remember: func(m *applyMemo) { m.remember(portal, two, "10") },
			key: portal, hash: two, liveRV: "", want: false},
		{name: "an answer without resourceVersion is not remembered", remember: func(m *applyMemo) { m.remember(portal, two, "") },
			key: portal, hash: two, liveRV: "", want: false},
		{name: "another field manager's apply", remember: func(m *applyMemo) { m.remember(handoff, two, "10") },
			key: portal, hash: two, liveRV: "10", want: false},
		{name: "the latest apply counts", remember: func(m *applyMemo) { m.remember(portal, two, "10"); m.remember(portal, three, "12") },
			key: portal, hash: three, liveRV: "12", want: true},
		{name: "forgotten", remember: func(m *applyMemo) { m.remember(portal, two, "10"); m.forget(portal) },
			key: portal, hash: two, liveRV: "10", want: false},
		{name: "forgotten with its object", remember: func(m *applyMemo) { m.remember(handoff, two, "10"); m.forgetObject("Deployment", portal.key) },
			key: handoff, hash: two, liveRV: "10", want: false},
		{name: "another kind of the same name is not forgotten", remember: func(m *applyMemo) { m.remember(portal, two, "10"); m.forgetObject("Service", portal.key) },
			key: portal, hash: two, liveRV: "10", want: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := &applyMemo{}
			tc.remember(m)
			if got := m.current(tc.key, tc.hash, tc.liveRV); got != tc.want {
				t.Errorf("current() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHashApply(t *testing.T) {
	if mustHash(t, 2) != mustHash(t, 2) {
		t.Error("the same configuration hashes differently")
	}
	if mustHash(t, 2) == mustHash(t, 3) {
		t.Error("different configurations hash the same")
	}
}

func TestApplyMemoBounded(t *testing.T) {
	m := &applyMemo{size: 3}
	h := mustHash(t, 1)
	key := func(i int) memoKey {
		return memoKey{kind: "Service", key: client.ObjectKey{Namespace: "hanoi", Name: fmt.Sprint("svc-", i)}, manager: render.FieldManager}
	}
	for i := range 10 {
		m.remember(key(i), h, fmt.Sprint(i))
		if !m.current(key(i), h, fmt.Sprint(i)) {
			t.Fatalf("the entry just remembered (%d) is missing", i)
		}
	}
	if got := m.len(); got != 3 {
		t.Errorf("len() = %d, want the bound 3", got)
	}
	m.remember(key(9), h, "99") // replacing an entry evicts nothing
	if got := m.len(); got != 3 {
		t.Errorf("len() after a replacement = %d, want 3", got)
	}
}

func TestApplyMemoConcurrent(t *testing.T) {
	m := &applyMemo{size: 64}
	h := mustHash(t, 1)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				k := memoKey{kind: "Service", key: client.ObjectKey{Namespace: fmt.Sprint("ns-", w), Name: fmt.Sprint("svc-", i)}}
				m.remember(k, h, "1")
				m.current(k, h, "1")
				if i%3 == 0 {
					m.forgetObject("Service", k.key)
				}
			}
		})
	}
	wg.Wait()
	if got := m.len(); got > 64 {
		t.Errorf("len() = %d, beyond the bound 64", got)
	}
}

func TestFillFromLive(t *testing.T) {
	live := &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "portal", Namespace: "hanoi", ResourceVersion: "42",
			Labels: map[string]string{"app.kubernetes.io/name": "portal"}},
		AutomountServiceAccountToken: new(false),
	}
	ac := corev1ac.ServiceAccount("portal", "hanoi").WithLabels(map[string]string{"stale": "label"}).WithAutomountServiceAccountToken(true)
	if err := fillFromLive(ac, live); err != nil {
		t.Fatal(err)
	}
	got := &corev1.ServiceAccount{}
	if err := fromApplied(ac, got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(live, got); diff != "" {
		t.Errorf("the filled configuration does not read as the live object (-live +got):\n%s", diff)
	}
}
