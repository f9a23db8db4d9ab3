package format

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
)

// allowedText is a flow's allowed connections, with the partly allowed ones.
func allowedText(f audit.Flow) string {
	switch {
	case f.Partly.Empty():
		return f.Allowed.String()
	case f.Allowed.Empty():
		return f.Partly.String() + " (partly)"
	}
	return f.Allowed.String() + " + " + f.Partly.String() + " (partly)"
}

// verdictText is "ok" or the flow's problems with their ports.
func verdictText(f audit.Flow) string {
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
func violationPlace(v audit.Violation) string {
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

func writeTable(out io.Writer, r *audit.Report) error {
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

func verifiedText(s audit.ServiceSummary) string {
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
