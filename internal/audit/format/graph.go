package format

import (
	"maps"
	"slices"
	"strings"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
)

// graph is what the mermaid, DOT and SVG outputs draw: services grouped by namespace, zones and
// stand-ins as external nodes, allowed flows as edges, violations in red.
type graph struct {
	nodes      []graphNode
	namespaces []string // sorted; nodes with a namespace are drawn inside its box
	edges      []graphEdge
}

type graphNode struct {
	id, label string
	kind      audit.PeerKind
	namespace string
	virtual   bool
	violation bool // audit.Unisolated, or the subject of a violation without a flow
}

type edgeStyle int

const (
	edgeOK        edgeStyle = iota // allowed and declared
	edgeTooOpen                    // allowed, not declared
	edgeTooClosed                  // declared, blocked
	edgeOneSided                   // declared by one side only
)

type graphEdge struct {
	from, to, label string
	style           edgeStyle
}

// buildGraph draws every PublicService and zone, and every other peer that has an edge or a
// violation.
func buildGraph(r *audit.Report) graph {
	var g graph
	flagged := map[string]bool{}
	for _, v := range r.Violations {
		if v.Kind == audit.Unisolated {
			flagged[v.Workload] = true
		}
	}
	used := map[string]bool{}
	for _, f := range r.Flows {
		e := graphEdge{from: f.From, to: f.To}
		allowed := f.Allowed.Union(f.Partly)
		switch {
		case !f.Extra.Empty():
			e.style, e.label = edgeTooOpen, allowedText(f)
			if !f.Declared.Empty() {
				e.label += " (declared " + f.Declared.String() + ")"
			}
		case !f.Missing.Empty():
			e.style = edgeTooClosed
			e.label = "blocked " + f.Missing.String()
			if !allowed.Empty() {
				e.label = allowedText(f) + "; " + e.label
			}
		default:
			e.style, e.label = edgeOK, allowedText(f)
		}
		g.edges = append(g.edges, e)
		used[f.From], used[f.To] = true, true
	}
	peers := map[string]bool{}
	for _, p := range r.Peers {
		peers[p.ID] = true
	}
	for _, v := range r.Violations {
		if v.Kind == audit.OneSided && peers[v.From] && peers[v.To] {
			g.edges = append(g.edges, graphEdge{from: v.From, to: v.To, label: "one-sided", style: edgeOneSided})
			used[v.From], used[v.To] = true, true
		}
	}
	namespaces := map[string]bool{}
	for _, p := range r.Peers {
		workloadFlagged := p.Workload != "" && flagged[p.Workload]
		if !used[p.ID] && p.Kind != audit.PeerService && p.Kind != audit.PeerZone && !workloadFlagged {
			continue
		}
		n := graphNode{id: p.ID, kind: p.Kind, namespace: p.Namespace, virtual: p.Virtual, violation: workloadFlagged, label: nodeLabel(p)}
		if p.Kind == audit.PeerAnyPod {
			n.namespace = "" // its namespace is made up: draw it outside
		}
		if n.namespace != "" {
			namespaces[n.namespace] = true
		}
		g.nodes = append(g.nodes, n)
	}
	g.namespaces = slices.Sorted(maps.Keys(namespaces))
	return g
}

// nodeLabel is the text of a node: its name and what it is.
func nodeLabel(p audit.Peer) string {
	switch p.Kind {
	case audit.PeerService:
		return p.Name + "\nPublicService"
	case audit.PeerZone:
		lines := []string{"zone " + p.Name}
		lines = append(lines, limit(p.CIDRs, 3)...)
		if len(p.Except) > 0 {
			lines = append(lines, "except "+strings.Join(limit(p.Except, 2), ", "))
		}
		return strings.Join(lines, "\n")
	case audit.PeerGateway:
		if p.ID == audit.GatewayID {
			return "gateway / ingress controller"
		}
		return p.Name + "\ngateway namespace"
	case audit.PeerDNS:
		if p.ID == audit.DNSID {
			return "cluster DNS"
		}
		return p.Name + "\ncluster DNS"
	case audit.PeerAnyPod:
		return "any other pod"
	case audit.PeerExternal:
		return "outside every zone"
	}
	return p.Name + "\n" + p.Description
}

// limit shortens a list to n entries and "...".
func limit(list []string, n int) []string {
	if len(list) <= n {
		return list
	}
	return append(slices.Clone(list[:n]), "...")
}
