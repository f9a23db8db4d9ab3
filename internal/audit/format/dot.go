package format

import (
	"fmt"
	"io"
	"strings"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
)

// dotQuote quotes a DOT ID or label.
func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// DOT returns the report's graph in Graphviz DOT.
func DOT(r *audit.Report) []byte {
	var b strings.Builder
	_ = writeDOT(&b, r)
	return []byte(b.String())
}

func writeDOT(out io.Writer, r *audit.Report) error {
	g := buildGraph(r)
	var b strings.Builder
	b.WriteString("digraph connectivity {\n")
	b.WriteString("  rankdir=LR;\n  compound=true;\n  fontname=\"Helvetica\";\n")
	b.WriteString("  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	fmt.Fprintf(&b, "  label=%s;\n  labelloc=t;\n", dotQuote("Connectivity: "+r.Summary()))
	node := func(indent string, n graphNode) {
		attrs := []string{"label=" + dotQuote(n.label)}
		switch n.kind {
		case audit.PeerService:
			attrs = append(attrs, `shape=box`, `style="rounded,filled"`, `fillcolor="#e8f0fe"`, `color="#1a56db"`)
		case audit.PeerZone:
			attrs = append(attrs, `shape=hexagon`, `style=filled`, `fillcolor="#fef3c7"`, `color="#b45309"`)
		case audit.PeerExternal:
			attrs = append(attrs, `shape=hexagon`, `style="filled,dashed"`, `fillcolor="#f3f4f6"`)
		default:
			if n.virtual {
				attrs = append(attrs, `shape=box`, `style="dashed,filled"`, `fillcolor="#f3f4f6"`)
			} else {
				attrs = append(attrs, `shape=box`)
			}
		}
		if n.violation {
			attrs = append(attrs, `color="#d00000"`, `penwidth=3`)
		}
		fmt.Fprintf(&b, "%s%s [%s];\n", indent, dotQuote(n.id), strings.Join(attrs, ", "))
	}
	for _, ns := range g.namespaces {
		fmt.Fprintf(&b, "  subgraph %s {\n", dotQuote("cluster_"+ns))
		fmt.Fprintf(&b, "    label=%s;\n    style=rounded;\n    color=\"#9ca3af\";\n", dotQuote("namespace "+ns))
		for _, n := range g.nodes {
			if n.namespace == ns {
				node("    ", n)
			}
		}
		b.WriteString("  }\n")
	}
	for _, n := range g.nodes {
		if n.namespace == "" {
			node("  ", n)
		}
	}
	for _, e := range g.edges {
		attrs := []string{"label=" + dotQuote(e.label)}
		switch e.style {
		case edgeTooOpen:
			attrs = append(attrs, `color="#d00000"`, `fontcolor="#d00000"`, `penwidth=2`)
		case edgeTooClosed:
			attrs = append(attrs, `color="#d00000"`, `fontcolor="#d00000"`, `penwidth=2`, `style=dashed`)
		case edgeOneSided:
			attrs = append(attrs, `color="#d00000"`, `fontcolor="#d00000"`, `style=dotted`)
		}
		fmt.Fprintf(&b, "  %s -> %s [%s];\n", dotQuote(e.from), dotQuote(e.to), strings.Join(attrs, ", "))
	}
	b.WriteString("}\n")
	_, err := io.WriteString(out, b.String())
	return err
}

// GraphNodes returns the IDs of the peers that the mermaid, DOT and SVG outputs draw, in
// drawing order.
func GraphNodes(r *audit.Report) []string {
	g := buildGraph(r)
	out := make([]string, 0, len(g.nodes))
	for _, n := range g.nodes {
		out = append(out, n.id)
	}
	return out
}
