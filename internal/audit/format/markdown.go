package format

import (
	"fmt"
	"io"
	"strings"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
)

// mdCell escapes a table cell for Markdown.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

func mdCode(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" }

func writeMarkdown(out io.Writer, r *audit.Report) error {
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
