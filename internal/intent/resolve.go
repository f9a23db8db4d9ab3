package intent

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

// World is what Resolve needs to know besides the service itself.
type World struct {
	// Services holds the PublicServices that the service consumes or that name it in their
	// consumes or allowFrom; absent keys are services that do not exist. More is harmless.
	Services map[types.NamespacedName]*platformv1alpha1.PublicService
	// Zones holds the NetworkZones by name; absent names are zones that do not exist.
	Zones map[string]*platformv1alpha1.NetworkZone
	// NamespaceLabels are the labels of the service's namespace (zone consent).
	NamespaceLabels map[string]string
}

// Resolve computes the flows a service's policy admits. A flow between two services exists
// only when the consumer consumes the provider and the provider's allowFrom admits the
// consumer; a zone is used only when it exists and its allowedNamespaces admits the
// service's namespace. Everything else is dropped (fail closed) and explained.
func Resolve(svc *platformv1alpha1.PublicService, w World) Resolved {
	return ResolveEffective(svc, svc.Effective(), w)
}

// ResolveEffective is Resolve for a caller that holds the service's effective spec already
// (spec is svc.Effective()), which it does not compute again.
func ResolveEffective(svc *platformv1alpha1.PublicService, spec platformv1alpha1.PublicServiceSpec, w World) Resolved {
	self := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	var r Resolved
	referenced := map[string]bool{}

	for _, c := range spec.Consumes {
		key := types.NamespacedName{Namespace: c.Namespace, Name: c.Service}
		provider, ok := w.Services[key]
		switch {
		case !ok:
			r.Problems = append(r.Problems, Problem{platformv1alpha1.ReasonDependencyNotFound,
				fmt.Sprintf("consumed service %s does not exist", key)})
		case !Admits(provider, self):
			r.Problems = append(r.Problems, Problem{platformv1alpha1.ReasonConsentMissing,
				fmt.Sprintf("%s does not admit %s: its spec.allowFrom needs {service: %s, namespace: %s} or {namespace: %s}", key, self, self.Name, self.Namespace, self.Namespace)})
		default:
			port := provider.EffectivePort()
			if c.Port != nil {
				port = *c.Port
			}
			r.EgressServices = append(r.EgressServices, ServicePeer{Namespace: key.Namespace, Name: key.Name, Port: port})
		}
	}

	for _, a := range spec.AllowFrom {
		if a.Zone == "" {
			continue
		}
		if spec.Exposure.Mode != platformv1alpha1.ExposureCityNetwork {
			continue // CEL forbids it; never open a zone to a non-CityNetwork service
		}
		if z, ok := r.zone(w, a.Zone, referenced); ok {
			r.IngressZones = append(r.IngressZones, ZonePeer{Name: z.Name, CIDRs: z.Spec.CIDRs, Except: z.Spec.Except, Ports: []int32{*spec.Port}})
		}
	}

	// Consumers, whether allowFrom names them or admits their namespace: a flow needs both sides.
	for key, other := range w.Services {
		if !Consumes(other, self) {
			continue
		}
		switch {
		case Admits(svc, key):
			r.IngressServices = append(r.IngressServices, ServicePeer{Namespace: key.Namespace, Name: key.Name, Port: *spec.Port})
		case key != self:
			r.Unadmitted = append(r.Unadmitted, key)
		}
	}

	for _, e := range spec.EgressTo {
		if z, ok := r.zone(w, e.Zone, referenced); ok {
			ports := slices.Clone(e.Ports)
			slices.Sort(ports)
			r.EgressZones = append(r.EgressZones, ZonePeer{Name: z.Name, CIDRs: z.Spec.CIDRs, Except: z.Spec.Except, Ports: slices.Compact(ports)})
		}
	}

	r.IngressGateway = spec.Exposure.Mode == platformv1alpha1.ExposurePublic
	for z := range referenced {
		r.ReferencedZones = append(r.ReferencedZones, z)
	}
	r.sort()
	return r
}

// zone looks a zone up and checks that it admits the namespace, recording problems.
func (r *Resolved) zone(w World, name string, referenced map[string]bool) (*platformv1alpha1.NetworkZone, bool) {
	z, ok := w.Zones[name]
	if !ok {
		r.Problems = append(r.Problems, Problem{platformv1alpha1.ReasonZoneNotFound,
			fmt.Sprintf("NetworkZone %s does not exist", name)})
		return nil, false
	}
	referenced[name] = true
	if err := ZoneAdmits(z, w.NamespaceLabels); err != nil {
		r.Problems = append(r.Problems, Problem{platformv1alpha1.ReasonZoneNotAllowed,
			fmt.Sprintf("NetworkZone %s: %v", name, err)})
		if !slices.Contains(r.RefusedZones, name) {
			r.RefusedZones = append(r.RefusedZones, name)
		}
		return nil, false
	}
	return z, true
}

// ZoneAdmits returns nil when the zone's allowedNamespaces selects a namespace with these
// labels, or an error saying why not. An absent or empty selector admits no namespace.
func ZoneAdmits(z *platformv1alpha1.NetworkZone, nsLabels map[string]string) error {
	sel := z.Spec.AllowedNamespaces
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return fmt.Errorf("spec.allowedNamespaces is empty, so no namespace may use the zone")
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return fmt.Errorf("spec.allowedNamespaces is invalid: %w", err)
	}
	if !s.Matches(labels.Set(nsLabels)) {
		return fmt.Errorf("spec.allowedNamespaces (%s) does not select this namespace", s)
	}
	return nil
}

// Consumes reports whether svc declares that it consumes target.
func Consumes(svc *platformv1alpha1.PublicService, target types.NamespacedName) bool {
	for _, c := range svc.Spec.Consumes {
		ns := cmp.Or(c.Namespace, svc.Namespace)
		if c.Service == target.Name && ns == target.Namespace {
			return true
		}
	}
	return false
}

// Admits reports whether svc's allowFrom admits the service consumer: by name, or by its
// namespace (an entry with a namespace and no service). Admission alone opens nothing; the
// consumer must also consume svc (see Resolve).
func Admits(svc *platformv1alpha1.PublicService, consumer types.NamespacedName) bool {
	for _, a := range svc.Spec.AllowFrom {
		switch {
		case a.Zone != "":
		case a.Service == "":
			if a.Namespace == consumer.Namespace {
				return true
			}
		case a.Service == consumer.Name && cmp.Or(a.Namespace, svc.Namespace) == consumer.Namespace:
			return true
		}
	}
	return false
}

// ConsumedKeys returns the "namespace/name" keys of the services svc consumes (for indexes).
func ConsumedKeys(svc *platformv1alpha1.PublicService) []string {
	keys := make([]string, 0, len(svc.Spec.Consumes))
	for _, c := range svc.Spec.Consumes {
		keys = append(keys, cmp.Or(c.Namespace, svc.Namespace)+"/"+c.Service)
	}
	return keys
}

// AnyService is the name part of the key of an allowFrom entry that admits a whole namespace.
const AnyService = "*"

// NamespaceKey returns the key "namespace/*" that AdmittedKeys gives an allowFrom entry
// admitting the namespace's consumers.
func NamespaceKey(namespace string) string { return namespace + "/" + AnyService }

// IsNamespaceKey reports whether a key from AdmittedKeys stands for a whole namespace.
func IsNamespaceKey(key string) bool { return strings.HasSuffix(key, "/"+AnyService) }

// AdmittedKeys returns the keys of the sources svc's allowFrom lists (for indexes):
// "namespace/name" for a service, NamespaceKey(namespace) for a namespace alone.
func AdmittedKeys(svc *platformv1alpha1.PublicService) []string {
	var keys []string
	for _, a := range svc.Spec.AllowFrom {
		switch {
		case a.Service != "":
			keys = append(keys, cmp.Or(a.Namespace, svc.Namespace)+"/"+a.Service)
		case a.Namespace != "":
			keys = append(keys, NamespaceKey(a.Namespace))
		}
	}
	return keys
}

// ZoneNames returns the names of the zones svc references in allowFrom and egressTo.
func ZoneNames(svc *platformv1alpha1.PublicService) []string {
	var names []string
	for _, a := range svc.Spec.AllowFrom {
		if a.Zone != "" {
			names = append(names, a.Zone)
		}
	}
	for _, e := range svc.Spec.EgressTo {
		names = append(names, e.Zone)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func (r *Resolved) sort() {
	byPeer := func(a, b ServicePeer) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Port, b.Port))
	}
	byZone := func(a, b ZonePeer) int { return cmp.Compare(a.Name, b.Name) }
	slices.SortFunc(r.IngressServices, byPeer)
	r.IngressServices = slices.CompactFunc(r.IngressServices, func(a, b ServicePeer) bool { return byPeer(a, b) == 0 })
	slices.SortFunc(r.EgressServices, byPeer)
	r.EgressServices = slices.CompactFunc(r.EgressServices, func(a, b ServicePeer) bool { return byPeer(a, b) == 0 })
	slices.SortFunc(r.IngressZones, byZone)
	slices.SortFunc(r.EgressZones, byZone)
	slices.SortFunc(r.Unadmitted, func(a, b types.NamespacedName) int { return cmp.Compare(a.String(), b.String()) })
	slices.SortFunc(r.Problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Reason, b.Reason), cmp.Compare(a.Message, b.Message))
	})
	r.Problems = slices.Compact(r.Problems)
	slices.Sort(r.RefusedZones)
	slices.Sort(r.ReferencedZones)
}
