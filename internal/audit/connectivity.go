package audit

import (
	"github.com/smartcity-io/smartcity-operator/internal/netpol"
)

// Connectivity computes the effective connectivity of a Model between every pair of workloads
// and address blocks, whether or not a PublicService is involved, as netpol-analyzer's
// connlist lists it. Give it a live Model, or a Model from files after Rendered. m is not
// modified.
func Connectivity(m *Model) (netpol.Connlist, error) {
	model := m.clone() // the engine never modifies an object
	model.sort()
	e, err := newEngine(model.NamespaceLabels(), model.NetworkPolicies, model.Workloads())
	if err != nil {
		return netpol.Connlist{}, err
	}
	return e.Connlist(), nil
}
