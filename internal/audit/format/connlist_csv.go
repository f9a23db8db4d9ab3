package format

import (
	"bytes"
	"encoding/csv"

	"github.com/smartcity-io/smartcity-operator/internal/netpol"
)

// connlistCSV writes a header (src,dst,conn) and one row per connection.
func connlistCSV(l netpol.Connlist) (string, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write([]string{"src", "dst", "conn"}); err != nil {
		return "", err
	}
	for _, r := range connlistRows(l) {
		if err := w.Write([]string{r.Src, r.Dst, r.Conn}); err != nil {
			return "", err
		}
	}
	w.Flush()
	return buf.String(), w.Error()
}
