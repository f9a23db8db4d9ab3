package controllers

import (
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/leancache"
	"github.com/smartcity-io/smartcity-operator/internal/render"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// mustDesired is the operator's apply of the portal Deployment: its label and replicas.
func mustDesired(t *testing.T, replicas int32) desiredApply {
	t.Helper()
	d, err := newDesiredApply(appsv1ac.Deployment("portal", "hanoi").
		WithLabels(map[string]string{"app.kubernetes.io/name": "portal"}).
		WithSpec(appsv1ac.DeploymentSpec().WithReplicas(replicas)))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestApplyMemoCurrent(t *testing.T) {
	portal := memoKey{kind: "Deployment", key: client.ObjectKey{Namespace: "hanoi", Name: "portal"}, manager: render.FieldManager}
	handoff := portal
	handoff.manager = render.HandoffFieldManager
	two, three := mustDesired(t, 2), mustDesired(t, 3)
	// deployment is the API server's answer to the last apply, at resourceVersion 10.
	deployment := func(edit func(*appsv1.Deployment)) *appsv1.Deployment {
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "portal", Namespace: "hanoi", ResourceVersion: "10", Generation: 1,
				Labels: map[string]string{"app.kubernetes.io/name": "portal"}},
			Spec: appsv1.DeploymentSpec{Replicas: new(int32(2))},
		}
		if edit != nil {
			edit(d)
		}
		return d
	}
	answer := memoEntry{hash: two.hash, resourceVersion: "10", content: mustContent(t, deployment(nil), two)}
	// opaque is the same answer from an API server whose resourceVersions are not numbers.
	opaque := answer
	opaque.resourceVersion = "a10"

	cases := []struct {
		name     string
		remember func(*applyMemo)
		key      memoKey
		hash     desiredApply
		live     *appsv1.Deployment
		want     bool
	}{
		{name: "nothing remembered", remember: func(*applyMemo) {}, key: portal, hash: two, live: deployment(nil), want: false},
		{name: "same configuration, object untouched since", remember: func(m *applyMemo) { m.remember(portal, answer) },
			key: portal, hash: two, live: deployment(nil), want: true},
		{name: "desired state changed", remember: func(m *applyMemo) { m.remember(portal, answer) },
			key: portal, hash: three, live: deployment(nil), want: false},
		{name: "only the status changed since (pods became ready)", remember: func(m *applyMemo) { m.remember(portal, answer) },
			key: portal, hash: two, live: deployment(func(d *appsv1.Deployment) {
				d.ResourceVersion, d.Status.ReadyReplicas = "11", 2
				d.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Subresource: "status"}}
			}), want: true},
		{name: "the Deployment controller annotated its revision", remember: func(m *applyMemo) { m.remember(portal, answer) },
			key: portal, hash: two, live: deployment(func(d *appsv1.Deployment) {
				d.ResourceVersion, d.Annotations = "11", map[string]string{"deployment.kubernetes.io/revision": "1"}
			}), want: true},
		{name: "another label added by hand (not the operator's)", remember: func(m *applyMemo) { m.remember(portal, answer) },
			key: portal, hash: two, live: deployment(func(d *appsv1.Deployment) {
				d.ResourceVersion = "11"
				d.Labels = map[string]string{"app.kubernetes.io/name": "portal", "team": "citizens"}
			}), want: true},
		{name: "the spec was edited by hand (drift)", remember: func(m *applyMemo) { m.remember(portal, answer) },
			key: portal, hash: two, live: deployment(func(d *appsv1.Deployment) {
				d.ResourceVersion, d.Generation, d.Spec.Replicas = "11", 2, new(int32(5))
			}), want: false},
		{name: "a label was edited by hand (drift)", remember: func(m *applyMemo) { m.remember(portal, answer) },
			key: portal, hash: two, live: deployment(func(d *appsv1.Deployment) {
				d.ResourceVersion, d.Labels = "11", map[string]string{"app.kubernetes.io/name": "other"}
			}), want: false},
		{name: "live object without resourceVersion", remember: func(m *applyMemo) { m.remember(portal, answer) },
			key: portal, hash: two, live: deployment(func(d *appsv1.Deployment) { d.ResourceVersion = "" }), want: false},
		{name: "an answer without resourceVersion is not remembered", remember: func(m *applyMemo) {
			m.remember(portal, memoEntry{hash: two.hash, content: answer.content})
		}, key: portal, hash: two, live: deployment(nil), want: false},
		{name: "an opaque resourceVersion, object untouched since", remember: func(m *applyMemo) { m.remember(portal, opaque) },
			key: portal, hash: two, live: deployment(func(d *appsv1.Deployment) { d.ResourceVersion = opaque.resourceVersion }), want: true},
		{name: "an opaque resourceVersion, the spec edited by hand (drift)", remember: func(m *applyMemo) { m.remember(portal, opaque) },
			key: portal, hash: two, live: deployment(func(d *appsv1.Deployment) {
				d.ResourceVersion, d.Generation, d.Spec.Replicas = "a11", 2, new(int32(5))
			}), want: false},
		{name: "another field manager's apply", remember: func(m *applyMemo) { m.remember(handoff, answer) },
			key: portal, hash: two, live: deployment(nil), want: false},
		{name: "forgotten", remember: func(m *applyMemo) { m.remember(portal, answer); m.forget(portal) },
			key: portal, hash: two, live: deployment(nil), want: false},
		{name: "forgotten with its object", remember: func(m *applyMemo) { m.remember(handoff, answer); m.forgetObject("Deployment", portal.key) },
			key: handoff, hash: two, live: deployment(nil), want: false},
		{name: "another kind of the same name is not forgotten", remember: func(m *applyMemo) {
			m.remember(portal, answer)
			m.forgetObject("Service", portal.key)
		}, key: portal, hash: two, live: deployment(nil), want: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := &applyMemo{}
			tc.remember(m)
			if got := m.current(tc.key, tc.hash, tc.live); got != tc.want {
				t.Errorf("current() = %v, want %v", got, tc.want)
			}
		})
	}
}

// A status-only change is remembered at the new resourceVersion: the next check needs no
// content hash.
func TestApplyMemoFollowsStatusChanges(t *testing.T) {
	k := memoKey{kind: "Deployment", key: client.ObjectKey{Namespace: "hanoi", Name: "portal"}, manager: render.FieldManager}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "portal", Namespace: "hanoi", ResourceVersion: "10"}}
	m := &applyMemo{}
	one := mustDesired(t, 1)
	m.remember(k, memoEntry{hash: one.hash, resourceVersion: "10", content: mustContent(t, d, one)})
	d.ResourceVersion, d.Status.ReadyReplicas = "11", 1
	if !m.current(k, one, d) {
		t.Fatal("a status change counts as a change")
	}
	if e, _ := m.lookup(k); e.revision != 11 {
		t.Errorf("remembered resourceVersion = %d, want 11", e.revision)
	}
}

func mustContent(t *testing.T, obj client.Object, d desiredApply) digest {
	t.Helper()
	h, err := contentHash(obj, d)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestContentHash(t *testing.T) {
	// The operator's apply sets a label, an owner and one port.
	d, err := newDesiredApply(corev1ac.Service("portal", "hanoi").
		WithLabels(map[string]string{"app.kubernetes.io/name": "portal"}).
		WithOwnerReferences(metav1ac.OwnerReference().WithName("portal").WithUID("u1")).
		WithSpec(corev1ac.ServiceSpec().WithPorts(corev1ac.ServicePort().WithName("http").WithPort(8080))))
	if err != nil {
		t.Fatal(err)
	}
	// base is the API server's answer: the applied fields, defaults and bookkeeping.
	base := func() *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "portal", Namespace: "hanoi", ResourceVersion: "3", Generation: 1,
				Labels:          map[string]string{"app.kubernetes.io/name": "portal"},
				OwnerReferences: []metav1.OwnerReference{{Name: "portal", UID: "u1"}},
				Annotations:     map[string]string{corev1.LastAppliedConfigAnnotation: "{}"}},
			Spec: corev1.ServiceSpec{ClusterIP: "10.0.0.7", Ports: []corev1.ServicePort{{Name: "http", Port: 8080, Protocol: corev1.ProtocolTCP}}},
		}
	}
	same := map[string]func(*corev1.Service){
		"bookkeeping":                 func(s *corev1.Service) { s.ResourceVersion, s.Generation = "4", 2 },
		"managed fields":              func(s *corev1.Service) { s.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "x"}} },
		"annotations dropped":         func(s *corev1.Service) { s.Annotations = nil }, // the cache drops last-applied
		"an annotation by another":    func(s *corev1.Service) { s.Annotations["other"] = "x" },
		"a label by another":          func(s *corev1.Service) { s.Labels["team"] = "citizens" },
		"type meta":                   func(s *corev1.Service) { s.Kind, s.APIVersion = "Service", "v1" },
		"a default on an applied one": func(s *corev1.Service) { s.Spec.Ports[0].TargetPort.IntVal = 8080 },
		"status": func(s *corev1.Service) {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}}
		},
	}
	different := map[string]func(*corev1.Service){
		"the applied port":          func(s *corev1.Service) { s.Spec.Ports[0].Port = 80 },
		"the applied label":         func(s *corev1.Service) { s.Labels["app.kubernetes.io/name"] = "other" },
		"the applied label removed": func(s *corev1.Service) { s.Labels = nil },
		"the owner":                 func(s *corev1.Service) { s.OwnerReferences = []metav1.OwnerReference{{Name: "other"}} },
		"a port added":              func(s *corev1.Service) { s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Port: 9}) },
	}
	want := mustContent(t, base(), d)
	for name, edit := range same {
		s := base()
		edit(s)
		if mustContent(t, s, d) != want {
			t.Errorf("%s: an edit outside the applied fields changes the content hash", name)
		}
	}
	for name, edit := range different {
		s := base()
		edit(s)
		if mustContent(t, s, d) == want {
			t.Errorf("%s: an edit of an applied field leaves the content hash as it was", name)
		}
	}
}

func TestDesiredApplyHash(t *testing.T) {
	if first, again := mustDesired(t, 2), mustDesired(t, 2); first.hash != again.hash {
		t.Error("the same configuration hashes differently")
	}
	if mustDesired(t, 2).hash == mustDesired(t, 3).hash {
		t.Error("different configurations hash the same")
	}
}

// The memo tells entries apart by the configuration's hash, not by their keys (applyMemo): every
// configuration it sees, each child's and the replicas handoff's, names the object it applies.
func TestDesiredApplyNamesItsObject(t *testing.T) {
	svc := testutil.PublicService("portal", "hanoi").UID("uid-svc").Profile(platformv1alpha1.ProfilePortal).
		Replicas(2, 5).Exposure(platformv1alpha1.ExposurePublic).Host("dichvucong.hanoi.example").TLS("portal-tls").Obj()
	in := render.Input{Service: svc, Spec: svc.Effective()}
	withGateway := in
	withGateway.Options.Gateway = &types.NamespacedName{Namespace: "gateway-system", Name: "city-gateway"}
	cases := []struct {
		kind string
		ac   applyConfiguration
	}{
		{"NetworkPolicy", render.NetworkPolicy(in)},
		{"ServiceAccount", render.ServiceAccount(in)},
		{"Deployment", render.Deployment(in, true)},
		{"Deployment", render.Deployment(in, false)},
		{"Deployment", render.ReplicasHandoff(in, 3)},
		{"Service", render.Service(in)},
		{"HorizontalPodAutoscaler", render.HorizontalPodAutoscaler(in)},
		{"PodDisruptionBudget", render.PodDisruptionBudget(in)},
		{"Ingress", render.Ingress(in)},
		{"HTTPRoute", render.HTTPRoute(withGateway)},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%T", tc.ac), func(t *testing.T) {
			if reflect.ValueOf(tc.ac).IsNil() {
				t.Fatal("not rendered")
			}
			raw, err := json.Marshal(tc.ac)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				APIVersion string            `json:"apiVersion"`
				Kind       string            `json:"kind"`
				Metadata   metav1.ObjectMeta `json:"metadata"`
			}
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			if got.APIVersion == "" || got.Kind != tc.kind || got.Metadata.Namespace != "hanoi" || got.Metadata.Name != "portal" {
				t.Errorf("the configuration names %s %s %s/%s, want %s hanoi/portal",
					got.APIVersion, got.Kind, got.Metadata.Namespace, got.Metadata.Name, tc.kind)
			}
			if _, err := newDesiredApply(tc.ac); err != nil {
				t.Error(err)
			}
		})
	}
	for i, nameless := range []applyConfiguration{
		&appsv1ac.DeploymentApplyConfiguration{Spec: appsv1ac.DeploymentSpec().WithReplicas(2)},
		appsv1ac.Deployment("", "hanoi").WithSpec(appsv1ac.DeploymentSpec().WithReplicas(2)),
	} {
		if _, err := newDesiredApply(nameless); err == nil {
			t.Errorf("configuration %d names no object and is hashed", i)
		}
	}
}

// forgetObject drops every manager's entry for the object, and nothing else.
func TestApplyMemoForgetObject(t *testing.T) {
	h := mustDesired(t, 1).hash
	portal := client.ObjectKey{Namespace: "hanoi", Name: "portal"}
	keys := map[string]memoKey{
		"operator":                  {kind: "Deployment", key: portal, manager: render.FieldManager},
		"handoff":                   {kind: "Deployment", key: portal, manager: render.HandoffFieldManager},
		"another kind":              {kind: "Service", key: portal, manager: render.FieldManager},
		"another name":              {kind: "Deployment", key: client.ObjectKey{Namespace: "hanoi", Name: "library"}, manager: render.HandoffFieldManager},
		"another namespace":         {kind: "Deployment", key: client.ObjectKey{Namespace: "hue", Name: "portal"}, manager: render.FieldManager},
		"another kind, the handoff": {kind: "HorizontalPodAutoscaler", key: portal, manager: render.HandoffFieldManager},
	}
	m := &applyMemo{}
	for _, k := range keys {
		m.remember(k, memoEntry{hash: h, resourceVersion: "1"})
	}
	m.forgetObject("Deployment", portal)
	for name, k := range keys {
		_, kept := m.lookup(k)
		if want := name != "operator" && name != "handoff"; kept != want {
			t.Errorf("%s: kept = %v, want %v", name, kept, want)
		}
	}
	if got, want := m.len(), len(keys)-2; got != want {
		t.Errorf("len() = %d, want %d", got, want)
	}
}

func TestRevisionOf(t *testing.T) {
	for rv, want := range map[string]revision{
		"1":                    1,
		"48213907":             48213907,
		"18446744073709551615": 18446744073709551615,
		"":                     unknownRevision,
		"0":                    unknownRevision,
		"007":                  unknownRevision, // "7" spells the same number
		"+7":                   unknownRevision,
		"7a":                   unknownRevision,
		"18446744073709551616": unknownRevision, // beyond 64 bits
	} {
		if got := revisionOf(rv); got != want {
			t.Errorf("revisionOf(%q) = %d, want %d", rv, got, want)
		}
	}
}

func TestApplyMemoBounded(t *testing.T) {
	m := &applyMemo{size: 3}
	h := mustDesired(t, 1).hash
	key := func(i int) memoKey {
		return memoKey{kind: "Service", key: client.ObjectKey{Namespace: "hanoi", Name: fmt.Sprint("svc-", i)}, manager: render.FieldManager}
	}
	for i := range 10 {
		m.remember(key(i), memoEntry{hash: h, resourceVersion: fmt.Sprint(i)})
		if e, ok := m.lookup(key(i)); !ok || e.revision != revision(i) {
			t.Fatalf("the entry just remembered (%d) is missing", i)
		}
	}
	if got := m.len(); got != 3 {
		t.Errorf("len() = %d, want the bound 3", got)
	}
	m.remember(key(9), memoEntry{hash: h, resourceVersion: "99"}) // replacing an entry evicts nothing
	if got := m.len(); got != 3 {
		t.Errorf("len() after a replacement = %d, want 3", got)
	}
}

func TestApplyMemoConcurrent(t *testing.T) {
	m := &applyMemo{size: 64}
	d := mustDesired(t, 1)
	h := d.hash
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				k := memoKey{kind: "Service", key: client.ObjectKey{Namespace: fmt.Sprint("ns-", w), Name: fmt.Sprint("svc-", i)}}
				m.remember(k, memoEntry{hash: h, resourceVersion: "1"})
				m.current(k, d, &corev1.Service{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "1"}})
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

// The cache keeps Deployments trimmed (leancache.TrimDeployment): the memo still tells a
// template edited by hand from a Deployment whose status or replicas moved.
func TestApplyMemoTrimmedDeployment(t *testing.T) {
	k := memoKey{kind: "Deployment", key: client.ObjectKey{Namespace: "hanoi", Name: "portal"}, manager: render.FieldManager}
	svc := testutil.PublicService("portal", "hanoi").UID("uid-svc").Profile(platformv1alpha1.ProfilePortal).Obj()
	svc.Spec.Env = []platformv1alpha1.EnvVar{{Name: "CITY", Value: "hanoi"}}
	cases := []struct {
		name         string
		withReplicas bool
		edit         func(*appsv1.Deployment)
		whole        bool // live as a reader without the lean cache returns it
		want         bool
	}{
		{name: "untouched", withReplicas: true, edit: func(*appsv1.Deployment) {}, want: true},
		{name: "pods became ready", withReplicas: true, edit: func(d *appsv1.Deployment) {
			d.Status.ReadyReplicas, d.Status.AvailableReplicas = 2, 2
			d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue}}
		}, want: true},
		{name: "the revision annotation", withReplicas: true, edit: func(d *appsv1.Deployment) {
			d.Annotations = map[string]string{"deployment.kubernetes.io/revision": "2"}
		}, want: true},
		{name: "an HPA scaled it (the operator does not set replicas)", edit: func(d *appsv1.Deployment) {
			d.Spec.Replicas = new(int32(7))
		}, want: true},
		{name: "the image edited by hand", withReplicas: true, edit: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Image = "evil.example/miner:1"
		}, want: false},
		{name: "an env value edited by hand", withReplicas: true, edit: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Env[0].Value = "hue"
		}, want: false},
		{name: "a probe removed by hand", withReplicas: true, edit: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].LivenessProbe = nil
		}, want: false},
		{name: "the replicas edited by hand (the operator sets them)", withReplicas: true, edit: func(d *appsv1.Deployment) {
			d.Spec.Replicas = new(int32(7))
		}, want: false},
		{name: "untouched, read whole", withReplicas: true, edit: func(*appsv1.Deployment) {}, whole: true, want: true},
		{name: "the image edited by hand, read whole", withReplicas: true, edit: func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Image = "evil.example/miner:1"
		}, whole: true, want: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ac := render.Deployment(render.Input{Service: svc, Spec: svc.Effective()}, tc.withReplicas)
			desired, err := newDesiredApply(ac)
			if err != nil {
				t.Fatal(err)
			}
			// answer is the API server's answer to the apply: the configuration, with defaults.
			answer := &appsv1.Deployment{}
			if err := fromApplied(ac, answer); err != nil {
				t.Fatal(err)
			}
			answer.ResourceVersion, answer.Generation = "10", 1
			answer.Spec.Replicas = new(int32(2))
			answer.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
			answer.Spec.Template.Spec.Containers[0].TerminationMessagePath = corev1.TerminationMessagePathDefault
			m := &applyMemo{}
			m.remember(k, memoEntry{hash: desired.hash, resourceVersion: "10", content: mustContent(t, answer, desired)})

			live := answer.DeepCopy()
			live.ResourceVersion = "11"
			tc.edit(live)
			var got client.Object = live
			if !tc.whole {
				if got, err = leancache.Form(live); err != nil {
					t.Fatal(err)
				}
				if got.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Image != "" {
					t.Fatal("the live Deployment is not trimmed")
				}
			}
			if current := m.current(k, desired, got); current != tc.want {
				t.Errorf("current() = %v, want %v", current, tc.want)
			}
		})
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

// A memo hit on a Deployment fills the configuration from the trimmed cached object: what the
// reconciler reads of it (owners, replicas, the status's counts) reads as the live object.
func TestFillFromTrimmedDeployment(t *testing.T) {
	svc := testutil.PublicService("portal", "hanoi").UID("uid-svc").Obj()
	ac := render.Deployment(render.Input{Service: svc, Spec: svc.Effective()}, true)
	whole := &appsv1.Deployment{}
	if err := fromApplied(ac, whole); err != nil {
		t.Fatal(err)
	}
	whole.ResourceVersion = "12"
	whole.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 2, AvailableReplicas: 2}
	live, err := leancache.Form(whole)
	if err != nil {
		t.Fatal(err)
	}
	if err := fillFromLive(ac, live); err != nil {
		t.Fatal(err)
	}
	got := &appsv1.Deployment{}
	if err := fromApplied(ac, got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(live, client.Object(got)); diff != "" {
		t.Errorf("the filled configuration does not read as the cached Deployment (-cached +got):\n%s", diff)
	}
	if !metav1.IsControlledBy(got, svc) || *got.Spec.Replicas != *whole.Spec.Replicas || !cmp.Equal(got.Status, whole.Status) {
		t.Errorf("the reconciler's reads differ from the whole Deployment's: %+v", got)
	}
}

// BenchmarkMemoRetained reports the heap an applyMemo holds per entry once it remembers
// about 10,000 applies, as for a city of about 1,850 services: every service's policy,
// account, Deployment and Service, some with a budget, an autoscaler (and the replicas
// handoff's apply) or an Ingress. Keys are built from fresh strings, as a reconcile reads
// them from its PublicService, and answers carry resourceVersions like the API server's.
func BenchmarkMemoRetained(b *testing.B) {
	const n = 10_000
	districts := []string{"construction", "transport", "health", "water", "parks", "schools"}
	hash := func(s string) desiredApply { return desiredApply{hash: sum([]byte(s))} }
	retained := func() float64 {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m := &applyMemo{}
		for i := 0; m.len() < n; i++ {
			key := client.ObjectKey{
				Namespace: fmt.Sprintf("city-%s-%d", districts[i%len(districts)], i%97),
				Name:      fmt.Sprintf("svc-%04d", i),
			}
			kinds := []string{"NetworkPolicy", "ServiceAccount", "Deployment", "Service"}
			if i%2 == 0 {
				kinds = append(kinds, "PodDisruptionBudget")
			}
			if i%3 == 0 {
				kinds = append(kinds, "HorizontalPodAutoscaler")
			}
			if i%4 == 0 {
				kinds = append(kinds, "Ingress")
			}
			for j, kind := range kinds {
				k := memoKey{kind: kind, key: key, manager: render.FieldManager}
				rv := strconv.Itoa(48_000_000 + 8*i + j)
				m.remember(k, memoEntry{hash: hash(rv).hash, resourceVersion: rv, content: hash(kind + rv).hash})
			}
			if i%3 == 0 {
				k := memoKey{kind: "Deployment", key: key, manager: render.HandoffFieldManager}
				rv := strconv.Itoa(48_000_000 + 8*i + 7)
				m.remember(k, memoEntry{hash: hash(rv).hash, resourceVersion: rv, content: hash("handoff" + rv).hash})
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		entries := m.len()
		runtime.KeepAlive(m)
		return float64(after.HeapAlloc-before.HeapAlloc) / float64(entries)
	}
	var perEntry float64
	for b.Loop() {
		perEntry = retained()
	}
	b.ReportMetric(perEntry, "B/entry")
}
