package testutil

import (
	"maps"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

// NetworkZoneWrapper builds a NetworkZone. Every method changes the wrapped object and
// returns the wrapper; Obj returns a copy.
type NetworkZoneWrapper struct{ platformv1alpha1.NetworkZone }

// NetworkZone starts a cluster-scoped NetworkZone named name with no CIDRs and no
// allowedNamespaces (so it admits no namespace).
func NetworkZone(name string) *NetworkZoneWrapper {
	return &NetworkZoneWrapper{platformv1alpha1.NetworkZone{ObjectMeta: metav1.ObjectMeta{Name: name}}}
}

// Obj returns a deep copy of the built NetworkZone.
func (w *NetworkZoneWrapper) Obj() *platformv1alpha1.NetworkZone { return w.DeepCopy() }

// Name sets metadata.name.
func (w *NetworkZoneWrapper) Name(name string) *NetworkZoneWrapper {
	w.ObjectMeta.Name = name
	return w
}

// CIDRs appends to spec.cidrs; with none, spec.cidrs is sent as an empty list.
func (w *NetworkZoneWrapper) CIDRs(cidrs ...string) *NetworkZoneWrapper {
	if w.Spec.CIDRs == nil {
		w.Spec.CIDRs = []string{}
	}
	w.Spec.CIDRs = append(w.Spec.CIDRs, cidrs...)
	return w
}

// WithoutCIDRs removes spec.cidrs.
func (w *NetworkZoneWrapper) WithoutCIDRs() *NetworkZoneWrapper {
	w.Spec.CIDRs = nil
	return w
}

// Except appends to spec.except.
func (w *NetworkZoneWrapper) Except(cidrs ...string) *NetworkZoneWrapper {
	w.Spec.Except = append(w.Spec.Except, cidrs...)
	return w
}

// AllowNamespaces sets spec.allowedNamespaces to a selector with these matchLabels, for
// example {"kubernetes.io/metadata.name": "health"}.
func (w *NetworkZoneWrapper) AllowNamespaces(matchLabels map[string]string) *NetworkZoneWrapper {
	w.Spec.AllowedNamespaces = &metav1.LabelSelector{MatchLabels: maps.Clone(matchLabels)}
	return w
}

// Provider sets spec.provider.
func (w *NetworkZoneWrapper) Provider(p string) *NetworkZoneWrapper {
	w.Spec.Provider = p
	return w
}

// Description sets spec.description.
func (w *NetworkZoneWrapper) Description(d string) *NetworkZoneWrapper {
	w.Spec.Description = d
	return w
}
