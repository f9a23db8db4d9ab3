package audit

import (
	"cmp"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
	"github.com/smartcity-io/smartcity-operator/internal/render"
)

// serviceIntent is one PublicService with its effective spec and resolved flows.
type serviceIntent struct {
	svc   *platformv1alpha1.PublicService
	key   types.NamespacedName
	spec  platformv1alpha1.PublicServiceSpec
	flows intent.Resolved
}

// resolveAll resolves every PublicService of the Model as the operator does: intent.Resolve
// with every service and zone of the Model, and the labels of the service's namespace.
// The result is in the Model's order (sorted by namespace and name when m is sorted).
func resolveAll(m *Model) []serviceIntent {
	return resolveWith(m, m.NamespaceLabels())
}

// resolveWith is resolveAll with the namespaces' labels already computed. Each service is
// resolved in a world of its own, as the operator gathers it (controllers.gatherWorld): the
// services it consumes and those that consume it, which are all intent.Resolve reads. A world
// of every service would make a city's resolution quadratic.
func resolveWith(m *Model, nsLabels map[string]map[string]string) []serviceIntent {
	zones := map[string]*platformv1alpha1.NetworkZone{}
	for i := range m.NetworkZones {
		zones[m.NetworkZones[i].Name] = &m.NetworkZones[i]
	}
	byKey := make(map[types.NamespacedName]*platformv1alpha1.PublicService, len(m.PublicServices))
	consumers := map[types.NamespacedName][]*platformv1alpha1.PublicService{}
	for i := range m.PublicServices {
		s := &m.PublicServices[i]
		byKey[types.NamespacedName{Namespace: s.Namespace, Name: s.Name}] = s
		for _, c := range s.Spec.Consumes {
			target := types.NamespacedName{Namespace: cmp.Or(c.Namespace, s.Namespace), Name: c.Service}
			consumers[target] = append(consumers[target], s)
		}
	}
	out := make([]serviceIntent, 0, len(m.PublicServices))
	for i := range m.PublicServices {
		s := &m.PublicServices[i]
		key := types.NamespacedName{Namespace: s.Namespace, Name: s.Name}
		w := intent.World{Services: map[types.NamespacedName]*platformv1alpha1.PublicService{}, Zones: zones,
			NamespaceLabels: nsLabels[s.Namespace]}
		for _, c := range s.Spec.Consumes {
			target := types.NamespacedName{Namespace: cmp.Or(c.Namespace, s.Namespace), Name: c.Service}
			if p, ok := byKey[target]; ok {
				w.Services[target] = p
			}
		}
		for _, c := range consumers[key] {
			w.Services[types.NamespacedName{Namespace: c.Namespace, Name: c.Name}] = c
		}
		spec := s.Effective()
		out = append(out, serviceIntent{svc: s, key: key, spec: spec, flows: intent.ResolveEffective(s, spec, w)})
	}
	return out
}

func (si serviceIntent) input(opts render.Options) render.Input {
	return render.Input{Service: si.svc, Spec: si.spec, Flows: si.flows, Options: opts}
}

// Child is one object the operator applies for a PublicService.
type Child struct {
	// Service is the PublicService the child belongs to.
	Service types.NamespacedName
	// Kind of the child (NetworkPolicy, ServiceAccount, Deployment, ...).
	Kind string
	// Object is the child as the operator applies it: a typed apply configuration from
	// internal/render, which marshals to a complete manifest (apiVersion and kind included).
	Object any
}

// Children returns, for every PublicService of the Model, the objects the operator applies,
// in the operator's order: NetworkPolicy first, then ServiceAccount, Deployment, Service,
// HorizontalPodAutoscaler, PodDisruptionBudget, and HTTPRoute (with opts.Gateway) or Ingress.
// Optional children appear only when the operator would create them. The Deployment is the
// steady state: its replicas are set only when no HPA scales it.
func Children(m *Model, opts render.Options) []Child {
	sorted := m.DeepCopy()
	sorted.sort()
	var out []Child
	for _, si := range resolveAll(sorted) {
		in := si.input(opts)
		add := func(kind string, obj any) { out = append(out, Child{Service: si.key, Kind: kind, Object: obj}) }
		add("NetworkPolicy", render.NetworkPolicy(in))
		add("ServiceAccount", render.ServiceAccount(in))
		add("Deployment", render.Deployment(in, !si.spec.Autoscaled()))
		add("Service", render.Service(in))
		if ac := render.HorizontalPodAutoscaler(in); ac != nil {
			add("HorizontalPodAutoscaler", ac)
		}
		if ac := render.PodDisruptionBudget(in); ac != nil {
			add("PodDisruptionBudget", ac)
		}
		if opts.Gateway != nil {
			if ac := render.HTTPRoute(in); ac != nil {
				add("HTTPRoute", ac)
			}
		} else if ac := render.Ingress(in); ac != nil {
			add("Ingress", ac)
		}
	}
	return out
}

// Rendered returns a copy of m to which, for every PublicService, the NetworkPolicy and the
// Deployment the operator would apply are added: what a cluster holds once the operator has
// reconciled the manifests. An object of the same name already in m is kept when the
// PublicService does not control it (the operator never takes one over: NameConflict), and
// replaced when it does; as in the operator, a NetworkPolicy conflict also means no
// Deployment. m is not modified.
func Rendered(m *Model, opts render.Options) (*Model, error) {
	out := m.DeepCopy()
	out.sort()
	for _, si := range resolveAll(out) {
		in := si.input(opts)
		np := &networkingv1.NetworkPolicy{}
		if err := convert(render.NetworkPolicy(in), np); err != nil {
			return nil, fmt.Errorf("failed to render the NetworkPolicy of PublicService %s: %w", si.key, err)
		}
		deploy := &appsv1.Deployment{}
		if err := convert(render.Deployment(in, !si.spec.Autoscaled()), deploy); err != nil {
			return nil, fmt.Errorf("failed to render the Deployment of PublicService %s: %w", si.key, err)
		}
		if existing := findNetworkPolicy(out, si.key); existing != nil && !controlledBy(existing.ObjectMeta, si.key.Name) {
			out.Notes = append(out.Notes, fmt.Sprintf("NetworkPolicy %s exists and PublicService %s does not control it: the operator "+
				"never takes it over (NameConflict) and creates no pods without its own policy, so the existing policy stays in force", si.key, si.key))
			continue
		}
		out.Add(np)
		if existing := findDeployment(out, si.key); existing != nil && !controlledBy(existing.ObjectMeta, si.key.Name) {
			out.Notes = append(out.Notes, fmt.Sprintf("Deployment %s exists and PublicService %s does not control it: "+
				"the operator never takes it over (NameConflict)", si.key, si.key))
			continue
		}
		out.Add(deploy)
	}
	out.sort()
	return out, nil
}

func findNetworkPolicy(m *Model, key types.NamespacedName) *networkingv1.NetworkPolicy {
	for i := range m.NetworkPolicies {
		if m.NetworkPolicies[i].Namespace == key.Namespace && m.NetworkPolicies[i].Name == key.Name {
			return &m.NetworkPolicies[i]
		}
	}
	return nil
}

func findDeployment(m *Model, key types.NamespacedName) *appsv1.Deployment {
	for i := range m.Deployments {
		if m.Deployments[i].Namespace == key.Namespace && m.Deployments[i].Name == key.Name {
			return &m.Deployments[i]
		}
	}
	return nil
}

// controlledBy reports whether a PublicService of the given name controls an object.
func controlledBy(meta metav1.ObjectMeta, service string) bool {
	ref := metav1.GetControllerOfNoCopy(&meta)
	return ref != nil && ref.Kind == "PublicService" && ref.Name == service &&
		ref.APIVersion == platformv1alpha1.GroupVersion.String()
}

// convert turns an apply configuration into the typed object it describes.
func convert(ac, obj any) error {
	data, err := json.Marshal(ac)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, obj)
}
