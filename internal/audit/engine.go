package audit

import (
	"fmt"

	"github.com/np-guard/models/pkg/netset"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/smartcity-io/smartcity-operator/internal/netpol"
)

// engine is the NetworkPolicy engine (internal/netpol) over the audit's workloads, which it
// finds by ID. Every workload enters it with its template's labels and container ports;
// addresses outside the cluster are split at every ipBlock and except of every policy
// (SourceBlocks and DestinationBlocks), so that one answer holds for every address of a block.
type engine struct {
	*netpol.Engine
	index map[string]int // Workload.ID() → index in the engine
}

// newEngine indexes namespaces (with their labels), NetworkPolicies and workloads.
func newEngine(namespaces map[string]map[string]string, policies []networkingv1.NetworkPolicy, workloads []Workload) (*engine, error) {
	ws := make([]netpol.Workload, 0, len(workloads))
	index := make(map[string]int, len(workloads))
	for _, w := range workloads {
		if _, ok := namespaces[w.Namespace]; !ok {
			return nil, fmt.Errorf("workload %s is in namespace %s, which the audit does not know", w.ID(), w.Namespace)
		}
		index[w.ID()] = len(ws)
		ws = append(ws, netpol.Workload{ID: w.ID(), Namespace: w.Namespace, Labels: w.Labels, Ports: w.Ports})
	}
	e, err := netpol.New(namespaces, policies, ws)
	if err != nil {
		return nil, err
	}
	return &engine{Engine: e, index: index}, nil
}

// workloadConns returns the connections allowed between two workloads (by index).
func (e *engine) workloadConns(src, dst int) Ports {
	if !e.MayConnect(src, dst) {
		return nil
	}
	return e.Allowed(netpol.WorkloadPeer(src), netpol.WorkloadPeer(dst))
}

// reach returns the connections allowed between a set of addresses and a workload (by index): from the
// addresses when ingress, to them otherwise. full holds for every address of the set, some
// for at least one.
func (e *engine) reach(addrs *netset.IPBlock, w int, ingress bool) (full, some Ports) {
	for i, b := range e.blocksIn(addrs, ingress) {
		var ps Ports
		if ingress {
			ps = e.Allowed(netpol.BlockPeer(b), netpol.WorkloadPeer(w))
		} else {
			ps = e.Allowed(netpol.WorkloadPeer(w), netpol.BlockPeer(b))
		}
		some = some.Union(ps)
		if i == 0 {
			full = ps
		} else {
			full = full.Intersect(ps)
		}
	}
	return full, some
}

// blocksIn returns the parts of addrs that lie in different address blocks of the engine
// (for the given direction): within one part, every address gets the same answer.
func (e *engine) blocksIn(addrs *netset.IPBlock, ingress bool) []*netset.IPBlock {
	blocks := e.DestinationBlocks()
	if ingress {
		blocks = e.SourceBlocks()
	}
	var out []*netset.IPBlock
	for _, b := range blocks {
		if part := b.Intersect(addrs); !part.IsEmpty() {
			out = append(out, part)
		}
	}
	return out
}
