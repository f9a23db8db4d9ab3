package audit

import (
	"slices"
)

// Within returns a copy of the Model holding only the namespaced objects of the given
// namespaces (and every NetworkZone). Pods elsewhere are then represented by the audit's
// {any-pod} stand-in. The operator uses it to verify one service against the namespaces its
// flows involve, instead of the whole cluster.
func (m *Model) Within(namespaces ...string) *Model {
	in := func(ns string) bool { return slices.Contains(namespaces, ns) }
	out := &Model{
		NetworkZones: slices.Clone(m.NetworkZones),
		Notes:        slices.Clone(m.Notes),
	}
	for i := range m.Namespaces {
		if in(m.Namespaces[i].Name) {
			out.Namespaces = append(out.Namespaces, m.Namespaces[i])
		}
	}
	out.NetworkPolicies = filterNamespaced(m.NetworkPolicies, in)
	out.Deployments = filterNamespaced(m.Deployments, in)
	out.StatefulSets = filterNamespaced(m.StatefulSets, in)
	out.DaemonSets = filterNamespaced(m.DaemonSets, in)
	out.ReplicaSets = filterNamespaced(m.ReplicaSets, in)
	out.Pods = filterNamespaced(m.Pods, in)
	out.PublicServices = filterNamespaced(m.PublicServices, in)
	return out
}

func filterNamespaced[T any, P metaObject[T]](items []T, in func(string) bool) []T {
	var out []T
	for i := range items {
		if in(P(&items[i]).GetNamespace()) {
			out = append(out, items[i])
		}
	}
	return out
}
