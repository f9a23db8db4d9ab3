package leancache

import (
	"hash/maphash"
	"maps"
	"sync"
	"unique"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
)

// maxSharedLabelSets bounds the label sets that labelSets holds: at 1,700 services the caches
// hold about 30,000 label maps (metadata labels and selectors) of 3,700 contents, so the table
// has room for a city four times as large. When it is full it starts again empty: what cached
// objects already share stays shared. The table keeps the sets of deleted objects until then
// (at most this many, about 8 MB), which is why pods' labels, new at every rollout (their
// pod-template-hash), are not shared.
const maxSharedLabelSets = 1 << 14

// labelSets is the process's table of label sets by content (see Share).
var labelSets = newLabelTable(maxSharedLabelSets)

// labelTable holds one map of each label set seen, by a hash of its content.
type labelTable struct {
	mu    sync.Mutex
	seed  maphash.Seed
	max   int
	byKey map[uint64]map[string]string
}

func newLabelTable(maxSets int) *labelTable {
	return &labelTable{seed: maphash.MakeSeed(), max: maxSets}
}

// intern returns the table's map with m's content, after adding m if there is none. A hash
// shared by two contents keeps the first: the second is returned as it is, unshared.
func (t *labelTable) intern(m map[string]string) map[string]string {
	if len(m) == 0 {
		return m
	}
	key := t.hash(m)
	t.mu.Lock()
	defer t.mu.Unlock()
	if shared, ok := t.byKey[key]; ok {
		if maps.Equal(shared, m) {
			return shared
		}
		return m
	}
	if t.byKey == nil || len(t.byKey) >= t.max {
		t.byKey = make(map[uint64]map[string]string)
	}
	t.byKey[key] = m
	return m
}

// hash sums a hash of each entry, so that it does not depend on the map's order.
func (t *labelTable) hash(m map[string]string) uint64 {
	var sum uint64
	var h maphash.Hash
	h.SetSeed(t.seed)
	for k, v := range m {
		h.Reset()
		h.WriteString(k)
		h.WriteByte(0)
		h.WriteString(v)
		sum += h.Sum64()
	}
	return sum
}

// len returns the number of label sets in the table.
func (t *labelTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byKey)
}

// Share makes a cached object share what many cached objects hold the same of: its label maps
// (metadata labels except a pod's, and the selectors of NetworkPolicies and their peers, Deployments and the
// other workloads, Services and PodDisruptionBudgets) become one map per content across the
// caches, and its namespace and owner references canonical strings (unique.Make). A service's
// children carry the same labels, and its name is in the peers of every policy that admits or
// reaches it: at 1,700 services, 30,000 label maps have 3,700 contents.
//
// The caches' objects are read-only (a Get or List copies them, and the readers that list
// without copies only read), so sharing is safe there; Form does not share, and nothing outside
// the caches should. Share never changes what an object holds, only where.
func Share(in any) (any, error) {
	if obj, ok := in.(metav1.Object); ok {
		if _, pod := in.(*corev1.Pod); !pod {
			obj.SetLabels(labelSets.intern(obj.GetLabels()))
		}
		obj.SetNamespace(canonical(obj.GetNamespace()))
		owners := obj.GetOwnerReferences()
		for i := range owners {
			o := &owners[i]
			o.APIVersion, o.Kind, o.Name, o.UID = canonical(o.APIVersion), canonical(o.Kind), canonical(o.Name), canonical(o.UID)
		}
	}
	switch o := in.(type) {
	case *networkingv1.NetworkPolicy:
		shareSelector(&o.Spec.PodSelector)
		for i := range o.Spec.Ingress {
			sharePeers(o.Spec.Ingress[i].From)
		}
		for i := range o.Spec.Egress {
			sharePeers(o.Spec.Egress[i].To)
		}
	case *appsv1.Deployment:
		shareWorkload(o.Spec.Selector, &o.Spec.Template)
	case *appsv1.ReplicaSet:
		shareWorkload(o.Spec.Selector, &o.Spec.Template)
	case *appsv1.StatefulSet:
		shareWorkload(o.Spec.Selector, &o.Spec.Template)
	case *appsv1.DaemonSet:
		shareWorkload(o.Spec.Selector, &o.Spec.Template)
	case *corev1.Service:
		o.Spec.Selector = labelSets.intern(o.Spec.Selector)
	case *policyv1.PodDisruptionBudget:
		shareSelector(o.Spec.Selector)
	}
	return in, nil
}

// canonical returns the process's one copy of s (a namespace, a UID).
func canonical[S ~string](s S) S {
	if s == "" {
		return s
	}
	return unique.Make(s).Value()
}

func sharePeers(peers []networkingv1.NetworkPolicyPeer) {
	for i := range peers {
		shareSelector(peers[i].PodSelector)
		shareSelector(peers[i].NamespaceSelector)
	}
}

func shareWorkload(selector *metav1.LabelSelector, template *corev1.PodTemplateSpec) {
	shareSelector(selector)
	template.Labels = labelSets.intern(template.Labels)
}

func shareSelector(s *metav1.LabelSelector) {
	if s != nil {
		s.MatchLabels = labelSets.intern(s.MatchLabels)
	}
}

// thenShare returns fn followed by Share: the transform a cache runs.
func thenShare(fn toolscache.TransformFunc) toolscache.TransformFunc {
	return func(in any) (any, error) {
		out, err := fn(in)
		if err != nil {
			return nil, err
		}
		return Share(out)
	}
}
