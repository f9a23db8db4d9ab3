package format

import (
	"fmt"
	"io"
	"strings"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
)

// mermaidText escapes a label for a quoted mermaid label.
func mermaidText(s string) string {
	s = strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;").Replace(s)
	return strings.ReplaceAll(s, "\n", "<br/>")
}

func writeMermaid(out io.Writer, r *audit.Report) error {
	g := buildGraph(r)
	ids := map[string]string{}
	for i, n := range g.nodes {
		ids[n.id] = fmt.Sprintf("n%d", i)
	}
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	shape := func(n graphNode) string {
		label := mermaidText(n.label)
		switch n.kind {
		case audit.PeerService:
			return fmt.Sprintf(`%s(["%s"])`, ids[n.id], label)
		case audit.PeerZone, audit.PeerExternal:
			return fmt.Sprintf(`%s{{"%s"}}`, ids[n.id], label)
		}
		return fmt.Sprintf(`%s["%s"]`, ids[n.id], label)
	}
	for i, ns := range g.namespaces {
		fmt.Fprintf(&b, "  subgraph ns%d[\"namespace %s\"]\n", i, mermaidText(ns))
		for _, n := range g.nodes {
			if n.namespace == ns {
				fmt.Fprintf(&b, "    %s\n", shape(n))
			}
		}
		b.WriteString("  end\n")
	}
	for _, n := range g.nodes {
		if n.namespace == "" {
			fmt.Fprintf(&b, "  %s\n", shape(n))
		}
	}
	var red []string
	for i, e := range g.edges {
		arrow := "-->"
		if e.style == edgeTooClosed || e.style == edgeOneSided {
			arrow = "-.->"
		}
		fmt.Fprintf(&b, "  %s %s|\"%s\"| %s\n", ids[e.from], arrow, mermaidText(e.label), ids[e.to])
		if e.style != edgeOK {
			red = append(red, fmt.Sprint(i))
		}
	}
	b.WriteString("  classDef service fill:#e8f0fe,stroke:#1a56db\n")
	b.WriteString("  classDef zone fill:#fef3c7,stroke:#b45309\n")
	b.WriteString("  classDef virtual fill:#f3f4f6,stroke:#6b7280,stroke-dasharray:3 3\n")
	b.WriteString("  classDef violation stroke:#d00000,stroke-width:3px\n")
	classes := map[string][]string{}
	for _, n := range g.nodes {
		switch {
		case n.violation:
			classes["violation"] = append(classes["violation"], ids[n.id])
		case n.kind == audit.PeerService:
			classes["service"] = append(classes["service"], ids[n.id])
		case n.kind == audit.PeerZone:
			classes["zone"] = append(classes["zone"], ids[n.id])
		case n.virtual:
			classes["virtual"] = append(classes["virtual"], ids[n.id])
		}
	}
	for _, c := range []string{"service", "zone", "virtual", "violation"} {
		if len(classes[c]) > 0 {
			fmt.Fprintf(&b, "  class %s %s\n", strings.Join(classes[c], ","), c)
		}
	}
	if len(red) > 0 {
		fmt.Fprintf(&b, "  linkStyle %s stroke:#d00000,stroke-width:2px,color:#d00000\n", strings.Join(red, ","))
	}
	_, err := io.WriteString(out, b.String())
	return err
}
