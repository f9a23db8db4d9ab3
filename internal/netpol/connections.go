package netpol

import (
	"cmp"
	"slices"
)

// Connection is what is allowed from one peer to another, named as netpol-analyzer's
// connlist names them: workloads by their ID, addresses by their ranges
// ("0.0.0.0-9.255.255.255,11.0.0.0-255.255.255.255").
type Connection struct {
	Src, Dst string
	Ports    Ports
}

// Connlist is the effective connectivity of a cluster, as netpol-analyzer's connlist gives it.
type Connlist struct {
	// Workloads are every workload, whether or not it has connections.
	Workloads []Workload
	// Connections are the allowed connections, sorted by source and destination.
	Connections []Connection
	// Pairs is the number of (source, destination) pairs considered: every ordered pair of
	// distinct workloads, and every workload with every address block of either direction.
	Pairs int
}

// Connlist returns every workload and every allowed connection (Connections).
func (e *Engine) Connlist() Connlist {
	n := len(e.workloads)
	return Connlist{Workloads: slices.Clone(e.workloads), Connections: e.Connections(),
		Pairs: n*(n-1) + n*(len(e.srcBlocks)+len(e.dstBlocks))}
}

// Connections lists every allowed connection between two workloads, from a source block to a
// workload and from a workload to a destination block, sorted by source and destination, as
// netpol-analyzer's connlist does: nothing between two address blocks, nothing from a workload
// to itself, nothing where no connection is allowed.
func (e *Engine) Connections() []Connection {
	var out []Connection
	add := func(src, dst string, ps Ports) {
		if !ps.Empty() {
			out = append(out, Connection{Src: src, Dst: dst, Ports: ps})
		}
	}
	for i, src := range e.workloads {
		for j, dst := range e.workloads {
			if src.ID == dst.ID || !e.MayConnect(i, j) {
				continue
			}
			add(src.ID, dst.ID, e.Allowed(WorkloadPeer(i), WorkloadPeer(j)))
		}
		for _, b := range e.dstBlocks {
			add(src.ID, b.ToIPRanges(), e.Allowed(WorkloadPeer(i), BlockPeer(b)))
		}
	}
	for _, b := range e.srcBlocks {
		name := b.ToIPRanges()
		for j, dst := range e.workloads {
			add(name, dst.ID, e.Allowed(BlockPeer(b), WorkloadPeer(j)))
		}
	}
	slices.SortFunc(out, func(a, b Connection) int { return cmp.Or(cmp.Compare(a.Src, b.Src), cmp.Compare(a.Dst, b.Dst)) })
	return out
}
