package format

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/smartcity-io/smartcity-operator/internal/netpol"
)

// connlistDOT writes a Graphviz digraph: one subgraph per namespace holding its workloads (all
// of them, connected or not), the address blocks that have connections outside any subgraph,
// and one edge per connection labelled with its ports.
func connlistDOT(l netpol.Connlist) string {
	byNamespace := map[string][]string{}
	seen := map[string]bool{}
	for _, w := range l.Workloads {
		if seen[w.ID] {
			continue
		}
		seen[w.ID] = true
		label := strings.TrimPrefix(w.ID, w.Namespace+"/")
		byNamespace[w.Namespace] = append(byNamespace[w.Namespace], "\t"+dotNode(w.ID, label, "blue"))
	}
	rows := connlistRows(l)
	var blocks []string
	edges := make([]string, 0, len(rows))
	for _, r := range rows {
		for _, peer := range []string{r.Src, r.Dst} {
			if !seen[peer] {
				seen[peer] = true
				blocks = append(blocks, dotNode(peer, peer, "red2"))
			}
		}
		weight := "1"
		if r.Src <= r.Dst {
			weight = "0.5"
		}
		edges = append(edges, fmt.Sprintf("\t%q -> %q [label=%q color=%q fontcolor=%q weight=%s]", r.Src, r.Dst, r.Conn, "gold2", "darkgreen", weight))
	}
	slices.Sort(blocks)
	slices.Sort(edges)
	lines := []string{"digraph {"}
	for _, ns := range slices.Sorted(maps.Keys(byNamespace)) {
		nodes := byNamespace[ns]
		slices.Sort(nodes)
		lines = append(lines, "\tsubgraph \"cluster_"+strings.ReplaceAll(ns, "-", "_")+"\" {", "\t\tcolor=\"black\"", "\t\tfontcolor=\"black\"")
		lines = append(lines, nodes...)
		lines = append(lines, "\t\tlabel=\""+ns+"\"", "\t}")
	}
	lines = append(lines, blocks...)
	lines = append(lines, edges...)
	lines = append(lines, "}")
	return strings.Join(lines, "\n")
}

func dotNode(id, label, color string) string {
	return fmt.Sprintf("\t%q [label=%q color=%q fontcolor=%q]", id, label, color, color)
}
