package format

import (
	"fmt"
	"io"
	"strings"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
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
func Write(w io.Writer, r *audit.Report, f Format) error {
	switch f {
	case FormatTable, "":
		return writeTable(w, r)
	case FormatJSON:
		return writeJSON(w, r)
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
