package format

import (
	"fmt"
	"strings"

	"github.com/smartcity-io/smartcity-operator/internal/netpol"
)

// connlistMarkdown writes a table: src | dst | conn.
func connlistMarkdown(l netpol.Connlist) string {
	rows := connlistRows(l)
	lines := make([]string, 0, len(rows)+2)
	lines = append(lines, "| src | dst | conn |", "|-----|-----|------|")
	for _, r := range rows {
		lines = append(lines, fmt.Sprintf("| %s | %s | %s |", r.Src, r.Dst, r.Conn))
	}
	return strings.Join(lines, "\n") + "\n"
}
