package audit

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

// Workload kinds the audit treats specially.
const (
	kindPod        = "Pod"
	kindDeployment = "Deployment"
)

// Model is what an audit looks at: the objects present in a cluster, or the objects of
// manifest files together with what the operator would render from them. Both modes build
// the same Model, so they see the same workloads and policies.
type Model struct {
	Namespaces      []corev1.Namespace
	NetworkPolicies []networkingv1.NetworkPolicy
	Deployments     []appsv1.Deployment
	StatefulSets    []appsv1.StatefulSet
	DaemonSets      []appsv1.DaemonSet
	ReplicaSets     []appsv1.ReplicaSet
	Pods            []corev1.Pod
	PublicServices  []platformv1alpha1.PublicService
	NetworkZones    []platformv1alpha1.NetworkZone

	// Notes are remarks made while the Model was built (replaced duplicates, name conflicts).
	Notes []string
}

// Add appends a copy of obj to the list of its kind, replacing an object of the same kind,
// namespace and name (the later one wins, as with successive kubectl apply). It reports
// whether the kind is one the audit uses, and whether an object was replaced.
func (m *Model) Add(obj runtime.Object) (known, replaced bool) {
	switch o := obj.(type) {
	case *corev1.Namespace:
		m.Namespaces, replaced = upsert(m.Namespaces, *o.DeepCopy())
	case *networkingv1.NetworkPolicy:
		m.NetworkPolicies, replaced = upsert(m.NetworkPolicies, *o.DeepCopy())
	case *appsv1.Deployment:
		m.Deployments, replaced = upsert(m.Deployments, *o.DeepCopy())
	case *appsv1.StatefulSet:
		m.StatefulSets, replaced = upsert(m.StatefulSets, *o.DeepCopy())
	case *appsv1.DaemonSet:
		m.DaemonSets, replaced = upsert(m.DaemonSets, *o.DeepCopy())
	case *appsv1.ReplicaSet:
		m.ReplicaSets, replaced = upsert(m.ReplicaSets, *o.DeepCopy())
	case *corev1.Pod:
		m.Pods, replaced = upsert(m.Pods, *o.DeepCopy())
	case *platformv1alpha1.PublicService:
		m.PublicServices, replaced = upsert(m.PublicServices, *o.DeepCopy())
	case *platformv1alpha1.NetworkZone:
		m.NetworkZones, replaced = upsert(m.NetworkZones, *o.DeepCopy())
	default:
		return false, false
	}
	return true, replaced
}

// metaObject is a pointer to a Kubernetes object with metadata.
type metaObject[T any] interface {
	*T
	GetNamespace() string
	GetName() string
}

func upsert[T any, P metaObject[T]](list []T, obj T) ([]T, bool) {
	ns, name := P(&obj).GetNamespace(), P(&obj).GetName()
	for i := range list {
		if P(&list[i]).GetName() == name && P(&list[i]).GetNamespace() == ns {
			list[i] = obj
			return list, true
		}
	}
	return append(list, obj), false
}

func sortByKey[T any, P metaObject[T]](list []T) {
	// Objects are large: order their keys, then move each object once.
	type key struct {
		namespace, name string
		at              int
	}
	compare := func(a, b key) int {
		return cmp.Or(cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.name, b.name))
	}
	keys := make([]key, len(list))
	for i := range list {
		keys[i] = key{P(&list[i]).GetNamespace(), P(&list[i]).GetName(), i}
	}
	if slices.IsSortedFunc(keys, compare) {
		return
	}
	slices.SortFunc(keys, compare)
	// Position i takes the object at keys[i].at. Follow each cycle of that permutation with
	// one temporary, so that no second list is allocated; a placed position points to itself.
	for i := range keys {
		if keys[i].at == i {
			continue
		}
		tmp := list[i]
		j := i
		for keys[j].at != i {
			k := keys[j].at
			list[j], keys[j].at = list[k], j
			j = k
		}
		list[j], keys[j].at = tmp, j
	}
}

// sortedByKey reports whether a list is in namespace and name order.
func sortedByKey[T any, P metaObject[T]](list []T) bool {
	for i := 1; i < len(list); i++ {
		a, b := P(&list[i-1]), P(&list[i])
		if cmp.Or(cmp.Compare(a.GetNamespace(), b.GetNamespace()), cmp.Compare(a.GetName(), b.GetName())) > 0 {
			return false
		}
	}
	return true
}

// sorted reports whether every list of objects is in the order sort gives it.
func (m *Model) sorted() bool {
	return sortedByKey(m.Namespaces) && sortedByKey(m.NetworkPolicies) && sortedByKey(m.Deployments) &&
		sortedByKey(m.StatefulSets) && sortedByKey(m.DaemonSets) && sortedByKey(m.ReplicaSets) && sortedByKey(m.Pods) &&
		sortedByKey(m.PublicServices) && sortedByKey(m.NetworkZones)
}

// sort orders every list by namespace and name, so that results never depend on the order in
// which objects were listed or read.
func (m *Model) sort() {
	sortByKey(m.Namespaces)
	sortByKey(m.NetworkPolicies)
	sortByKey(m.Deployments)
	sortByKey(m.StatefulSets)
	sortByKey(m.DaemonSets)
	sortByKey(m.ReplicaSets)
	sortByKey(m.Pods)
	sortByKey(m.PublicServices)
	sortByKey(m.NetworkZones)
	slices.Sort(m.Notes)
	m.Notes = slices.Compact(m.Notes)
}

// clone returns a copy of m whose lists are its own (they can be sorted) and whose objects share
// their content with m's: for an analysis, which never modifies an object.
func (m *Model) clone() *Model {
	return &Model{
		Namespaces:      slices.Clone(m.Namespaces),
		NetworkPolicies: slices.Clone(m.NetworkPolicies),
		Deployments:     slices.Clone(m.Deployments),
		StatefulSets:    slices.Clone(m.StatefulSets),
		DaemonSets:      slices.Clone(m.DaemonSets),
		ReplicaSets:     slices.Clone(m.ReplicaSets),
		Pods:            slices.Clone(m.Pods),
		PublicServices:  slices.Clone(m.PublicServices),
		NetworkZones:    slices.Clone(m.NetworkZones),
		Notes:           slices.Clone(m.Notes),
	}
}

// DeepCopy returns a copy of m that shares nothing with it.
func (m *Model) DeepCopy() *Model {
	return &Model{
		Namespaces:      deepCopyList(m.Namespaces),
		NetworkPolicies: deepCopyList(m.NetworkPolicies),
		Deployments:     deepCopyList(m.Deployments),
		StatefulSets:    deepCopyList(m.StatefulSets),
		DaemonSets:      deepCopyList(m.DaemonSets),
		ReplicaSets:     deepCopyList(m.ReplicaSets),
		Pods:            deepCopyList(m.Pods),
		PublicServices:  deepCopyList(m.PublicServices),
		NetworkZones:    deepCopyList(m.NetworkZones),
		Notes:           slices.Clone(m.Notes),
	}
}

// deepCopier is a pointer to a Kubernetes object that deep-copies itself.
type deepCopier[T any] interface {
	*T
	DeepCopyInto(*T)
}

func deepCopyList[T any, P deepCopier[T]](list []T) []T {
	if list == nil {
		return nil
	}
	out := make([]T, len(list))
	for i := range list {
		P(&list[i]).DeepCopyInto(&out[i])
	}
	return out
}

// NamespaceLabels returns the labels of every namespace named by an object of the Model, with
// the kubernetes.io/metadata.name label the API server sets. A namespace that the Model
// names but does not hold gets only that label.
func (m *Model) NamespaceLabels() map[string]map[string]string {
	return m.namespaceLabels(m.Workloads())
}

// namespaceLabels is NamespaceLabels with the Model's workloads already computed.
func (m *Model) namespaceLabels(workloads []Workload) map[string]map[string]string {
	out := map[string]map[string]string{}
	add := func(ns string) {
		if ns != "" && out[ns] == nil {
			out[ns] = map[string]string{corev1.LabelMetadataName: ns}
		}
	}
	for _, ns := range m.Namespaces {
		l := maps.Clone(ns.Labels)
		if l == nil {
			l = map[string]string{}
		}
		l[corev1.LabelMetadataName] = ns.Name
		out[ns.Name] = l
	}
	for _, np := range m.NetworkPolicies {
		add(np.Namespace)
	}
	for _, w := range workloads {
		add(w.Namespace)
	}
	for _, s := range m.PublicServices {
		add(s.Namespace)
	}
	return out
}

// Workload is a set of pods that share one pod template: a Deployment, StatefulSet,
// DaemonSet or ReplicaSet without owner, the pods of another controller, or a bare Pod.
type Workload struct {
	// Kind is Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod, or the kind of the
	// controller of pods whose controller the Model does not hold (for example Job).
	Kind      string
	Namespace string
	Name      string
	// Labels are the labels of the pods.
	Labels map[string]string
	// Ports are the container ports of the pods (named ports in policies resolve to them).
	Ports []corev1.ContainerPort
	// Virtual marks a stand-in for pods that do not exist (the audit's probes, or a
	// PublicService whose Deployment does not exist yet).
	Virtual bool
}

// ID names the workload as netpol-analyzer does: "namespace/name[Kind]".
func (w Workload) ID() string { return w.Namespace + "/" + w.Name + "[" + w.Kind + "]" }

func workloadOf(kind string, meta metav1.ObjectMeta, tmpl corev1.PodTemplateSpec) Workload {
	return Workload{Kind: kind, Namespace: meta.Namespace, Name: meta.Name, Labels: maps.Clone(tmpl.Labels), Ports: containerPorts(tmpl.Spec)}
}

func containerPorts(spec corev1.PodSpec) []corev1.ContainerPort {
	var out []corev1.ContainerPort
	for _, c := range spec.Containers {
		out = append(out, c.Ports...)
	}
	return out
}

// Workloads returns the Model's workloads, sorted by ID. Deployments, StatefulSets and
// DaemonSets (and ReplicaSets without a controller) count by their pod template; Pods count
// only when no counted workload controls them (directly, or through a ReplicaSet of a counted
// Deployment), grouped by their controller if they have one. Finished pods do not count.
func (m *Model) Workloads() []Workload {
	var out []Workload
	counted := map[string]bool{} // "Kind/namespace/name"
	count := func(w Workload) {
		out = append(out, w)
		counted[w.Kind+"/"+w.Namespace+"/"+w.Name] = true
	}
	for _, d := range m.Deployments {
		count(workloadOf(kindDeployment, d.ObjectMeta, d.Spec.Template))
	}
	for _, s := range m.StatefulSets {
		count(workloadOf("StatefulSet", s.ObjectMeta, s.Spec.Template))
	}
	for _, d := range m.DaemonSets {
		count(workloadOf("DaemonSet", d.ObjectMeta, d.Spec.Template))
	}
	replicaSetOwner := map[string]*metav1.OwnerReference{} // namespace/name → controller
	// By index: a range variable whose address is taken would copy every object to the heap.
	for i := range m.ReplicaSets {
		rs := &m.ReplicaSets[i]
		if ref := metav1.GetControllerOf(rs); ref != nil {
			replicaSetOwner[rs.Namespace+"/"+rs.Name] = ref
			continue
		}
		count(workloadOf("ReplicaSet", rs.ObjectMeta, rs.Spec.Template))
	}

	groups := map[string]bool{}
	for i := range m.Pods {
		p := &m.Pods[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		ref := metav1.GetControllerOf(p)
		if ref != nil && ref.Kind == "Node" {
			ref = nil // a static pod's mirror: the analyzer, too, treats it as a bare pod
		}
		if ref == nil {
			count(Workload{Kind: kindPod, Namespace: p.Namespace, Name: p.Name, Labels: maps.Clone(p.Labels), Ports: containerPorts(p.Spec)})
			continue
		}
		if counted[ref.Kind+"/"+p.Namespace+"/"+ref.Name] {
			continue
		}
		if ref.Kind == "ReplicaSet" && counted[kindDeployment+"/"+p.Namespace+"/"+replicaSetDeployment(ref.Name, p, replicaSetOwner)] {
			continue
		}
		key := ref.Kind + "/" + p.Namespace + "/" + ref.Name
		if groups[key] {
			continue // one template per controller: the first pod (by name) stands for all
		}
		groups[key] = true
		out = append(out, Workload{Kind: ref.Kind, Namespace: p.Namespace, Name: ref.Name, Labels: maps.Clone(p.Labels), Ports: containerPorts(p.Spec)})
	}
	// Each ID is made once, not at every comparison.
	type keyed struct {
		id string
		w  Workload
	}
	byID := make([]keyed, len(out))
	for i, w := range out {
		byID[i] = keyed{w.ID(), w}
	}
	slices.SortFunc(byID, func(a, b keyed) int { return cmp.Compare(a.id, b.id) })
	for i := range byID {
		out[i] = byID[i].w
	}
	return out
}

// replicaSetDeployment names the Deployment that controls a pod's ReplicaSet: from the
// ReplicaSet's controller when the Model holds the ReplicaSet, otherwise from the ReplicaSet's
// name, which a Deployment makes as "<deployment>-<pod-template-hash>".
func replicaSetDeployment(rsName string, p *corev1.Pod, owners map[string]*metav1.OwnerReference) string {
	if ref, ok := owners[p.Namespace+"/"+rsName]; ok {
		if ref.Kind == kindDeployment {
			return ref.Name
		}
		return ""
	}
	if hash := p.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; hash != "" {
		if name, ok := strings.CutSuffix(rsName, "-"+hash); ok {
			return name
		}
	}
	return ""
}
