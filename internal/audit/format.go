package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// Format is an output format of a report.
type Format string

// The formats Write knows. SVG is drawn from DOT by the kubectl-city plugin (internal/audit/svg),
// so that the operator, which only needs reports, does not link a Graphviz renderer.
const (
	FormatTable    Format = "table"
	FormatJSON     Format = "json"
	FormatMarkdown Format = "markdown"
	FormatMermaid  Format = "mermaid"
	FormatDOT      Format = "dot"
	FormatSVG      Format = "svg"
)

// Formats lists every format, table first.
var Formats = []Format{FormatTable, FormatJSON, FormatMarkdown, FormatMermaid, FormatDOT, FormatSVG}

// Write writes a report in a text format (every format but SVG).
func Write(w io.Writer, r *Report, f Format) error {
	switch f {
	case FormatTable, "":
		return writeTable(w, r)
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case FormatMarkdown:
		return writeMarkdown(w, r)
	case FormatMermaid:
		return writeMermaid(w, r)
	case FormatDOT:
		return writeDOT(w, r)
	}
	return fmt.Errorf("format %q cannot be written as text (formats: %s)", f, formatList())
}

func formatList() string {
	names := make([]string, 0, len(Formats))
	for _, f := range Formats {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

// allowedText is a flow's allowed connections, with the partly allowed ones.
func allowedText(f Flow) string {
	switch {
	case f.Partly.Empty():
		return f.Allowed.String()
	case f.Allowed.Empty():
		return f.Partly.String() + " (partly)"
	}
	return f.Allowed.String() + " + " + f.Partly.String() + " (partly)"
}

// verdictText is "ok" or the flow's problems with their ports.
func verdictText(f Flow) string {
	var parts []string
	if !f.Extra.Empty() {
		parts = append(parts, "TooOpen: "+f.Extra.String())
	}
	if !f.Missing.Empty() {
		parts = append(parts, "TooClosed: "+f.Missing.String())
	}
	if len(parts) == 0 {
		return "ok"
	}
	return strings.Join(parts, "; ")
}

// violationPlace names where a violation is: its flow, its workload or its service.
func violationPlace(v Violation) string {
	switch {
	case v.From != "" && v.To != "":
		return v.From + " -> " + v.To
	case v.Workload != "":
		return v.Workload
	}
	return v.Service
}

// columns lays rows out in columns separated by two spaces, as kubectl does.
func columns(b *strings.Builder, rows [][]string) {
	w := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for _, row := range rows {
		_, _ = fmt.Fprintln(w, strings.Join(row, "\t"))
	}
	_ = w.Flush() // a strings.Builder never fails
}

func writeTable(out io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Source: %s\n", r.Source)
	fmt.Fprintf(&b, "Managed namespaces: %s\n\n", orNone(strings.Join(r.ManagedNamespaces, ", ")))

	b.WriteString("CONNECTIVITY\n")
	if len(r.Flows) == 0 {
		b.WriteString("(no flow is allowed or declared)\n")
	} else {
		rows := append(make([][]string, 0, 1+len(r.Flows)), []string{"FROM", "TO", "ALLOWED", "DECLARED", "VERDICT"})
		for _, f := range r.Flows {
			rows = append(rows, []string{f.From, f.To, allowedText(f), f.Declared.String(), verdictText(f)})
		}
		columns(&b, rows)
	}

	b.WriteString("\nSERVICES\n")
	if len(r.Services) == 0 {
		b.WriteString("(no PublicService)\n")
	} else {
		rows := append(make([][]string, 0, 1+len(r.Services)), []string{"SERVICE", "WORKLOAD", "INGRESS PEERS", "EGRESS PEERS", "VERIFIED"})
		for _, s := range r.Services {
			rows = append(rows, []string{s.Service, s.Workload, fmt.Sprint(len(s.Ingress)), fmt.Sprint(len(s.Egress)), verifiedText(s)})
		}
		columns(&b, rows)
	}

	b.WriteString("\nVIOLATIONS\n")
	if len(r.Violations) == 0 {
		b.WriteString("(none)\n")
	} else {
		rows := append(make([][]string, 0, 1+len(r.Violations)), []string{"KIND", "WHERE", "MESSAGE"})
		for _, v := range r.Violations {
			rows = append(rows, []string{string(v.Kind), violationPlace(v), v.Message})
		}
		columns(&b, rows)
	}
	if len(r.Notes) > 0 {
		b.WriteString("\nNOTES\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	fmt.Fprintf(&b, "\n%s\n", r.Summary())
	_, err := io.WriteString(out, b.String())
	return err
}

func verifiedText(s ServiceSummary) string {
	if s.Verified {
		return "True"
	}
	return "False"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// mdCell escapes a table cell for Markdown.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

func mdCode(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" }

func writeMarkdown(out io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## Connectivity audit\n\n")
	fmt.Fprintf(&b, "Source: %s. Managed namespaces: %s.\n\n", mdCode(r.Source), orNone(strings.Join(mapSlice(r.ManagedNamespaces, mdCode), ", ")))
	if r.Clean() {
		fmt.Fprintf(&b, "**Verified**: %s.\n\n", r.Summary())
	} else {
		fmt.Fprintf(&b, "**Violations found**: %s.\n\n", r.Summary())
	}

	fmt.Fprintf(&b, "### Flows\n\n")
	if len(r.Flows) == 0 {
		fmt.Fprintf(&b, "No flow is allowed or declared.\n\n")
	} else {
		fmt.Fprintf(&b, "| From | To | Allowed | Declared | Verdict |\n|---|---|---|---|---|\n")
		for _, f := range r.Flows {
			verdict := verdictText(f)
			if verdict != "ok" {
				verdict = "**" + verdict + "**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", mdCode(f.From), mdCode(f.To), mdCell(allowedText(f)), mdCell(f.Declared.String()), mdCell(verdict))
		}
		b.WriteString("\n")
	}

	fmt.Fprintf(&b, "### Services\n\n")
	if len(r.Services) == 0 {
		fmt.Fprintf(&b, "No PublicService.\n\n")
	} else {
		fmt.Fprintf(&b, "| Service | Workload | Verified | Details |\n|---|---|---|---|\n")
		for _, s := range r.Services {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdCode(s.Service), mdCode(s.Workload), verifiedText(s), mdCell(s.Message()))
		}
		b.WriteString("\n")
	}

	fmt.Fprintf(&b, "### Violations\n\n")
	if len(r.Violations) == 0 {
		fmt.Fprintf(&b, "None.\n")
	} else {
		fmt.Fprintf(&b, "| Kind | Where | Message |\n|---|---|---|\n")
		for _, v := range r.Violations {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", v.Kind, mdCode(violationPlace(v)), mdCell(v.Message))
		}
	}
	if len(r.Notes) > 0 {
		fmt.Fprintf(&b, "\n### Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", mdCell(n))
		}
	}
	_, err := io.WriteString(out, b.String())
	return err
}

func mapSlice(in []string, f func(string) string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		out = append(out, f(s))
	}
	return out
}

// graph is what the mermaid, DOT and SVG outputs draw: services grouped by namespace, zones and
// stand-ins as external nodes, allowed flows as edges, violations in red.
type graph struct {
	nodes      []graphNode
	namespaces []string // sorted; nodes with a namespace are drawn inside its box
	edges      []graphEdge
}

type graphNode struct {
	id, label string
	kind      PeerKind
	namespace string
	virtual   bool
	violation bool // Unisolated, or the subject of a violation without a flow
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
func buildGraph(r *Report) graph {
	var g graph
	flagged := map[string]bool{}
	for _, v := range r.Violations {
		if v.Kind == Unisolated {
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
		if v.Kind == OneSided && peers[v.From] && peers[v.To] {
			g.edges = append(g.edges, graphEdge{from: v.From, to: v.To, label: "one-sided", style: edgeOneSided})
			used[v.From], used[v.To] = true, true
		}
	}
	namespaces := map[string]bool{}
	for _, p := range r.Peers {
		workloadFlagged := p.Workload != "" && flagged[p.Workload]
		if !used[p.ID] && p.Kind != PeerService && p.Kind != PeerZone && !workloadFlagged {
			continue
		}
		n := graphNode{id: p.ID, kind: p.Kind, namespace: p.Namespace, virtual: p.Virtual, violation: workloadFlagged, label: nodeLabel(p)}
		if p.Kind == PeerAnyPod {
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
func nodeLabel(p Peer) string {
	switch p.Kind {
	case PeerService:
		return p.Name + "\nPublicService"
	case PeerZone:
		lines := []string{"zone " + p.Name}
		lines = append(lines, limit(p.CIDRs, 3)...)
		if len(p.Except) > 0 {
			lines = append(lines, "except "+strings.Join(limit(p.Except, 2), ", "))
		}
		return strings.Join(lines, "\n")
	case PeerGateway:
		if p.ID == GatewayID {
			return "gateway / ingress controller"
		}
		return p.Name + "\ngateway namespace"
	case PeerDNS:
		if p.ID == DNSID {
			return "cluster DNS"
		}
		return p.Name + "\ncluster DNS"
	case PeerAnyPod:
		return "any other pod"
	case PeerExternal:
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

// mermaidText escapes a label for a quoted mermaid label.
func mermaidText(s string) string {
	s = strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;").Replace(s)
	return strings.ReplaceAll(s, "\n", "<br/>")
}

func writeMermaid(out io.Writer, r *Report) error {
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
		case PeerService:
			return fmt.Sprintf(`%s(["%s"])`, ids[n.id], label)
		case PeerZone, PeerExternal:
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
		case n.kind == PeerService:
			classes["service"] = append(classes["service"], ids[n.id])
		case n.kind == PeerZone:
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

// dotQuote quotes a DOT ID or label.
func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// DOT returns the report's graph in Graphviz DOT.
func DOT(r *Report) []byte {
	var b strings.Builder
	_ = writeDOT(&b, r)
	return []byte(b.String())
}

func writeDOT(out io.Writer, r *Report) error {
	g := buildGraph(r)
	var b strings.Builder
	b.WriteString("digraph connectivity {\n")
	b.WriteString("  rankdir=LR;\n  compound=true;\n  fontname=\"Helvetica\";\n")
	b.WriteString("  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	fmt.Fprintf(&b, "  label=%s;\n  labelloc=t;\n", dotQuote("Connectivity: "+r.Summary()))
	node := func(indent string, n graphNode) {
		attrs := []string{"label=" + dotQuote(n.label)}
		switch n.kind {
		case PeerService:
			attrs = append(attrs, `shape=box`, `style="rounded,filled"`, `fillcolor="#e8f0fe"`, `color="#1a56db"`)
		case PeerZone:
			attrs = append(attrs, `shape=hexagon`, `style=filled`, `fillcolor="#fef3c7"`, `color="#b45309"`)
		case PeerExternal:
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
func GraphNodes(r *Report) []string {
	g := buildGraph(r)
	out := make([]string, 0, len(g.nodes))
	for _, n := range g.nodes {
		out = append(out, n.id)
	}
	return out
}
