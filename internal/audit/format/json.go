package format

import (
	"encoding/json"
	"io"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
)

// writeJSON writes the report as indented JSON (the Report's own fields).
func writeJSON(w io.Writer, r *audit.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
