package format

import (
	"encoding/json"

	"github.com/smartcity-io/smartcity-operator/internal/netpol"
)

// connlistJSON writes a list of {"src", "dst", "conn"}, indented by two spaces.
func connlistJSON(l netpol.Connlist) (string, error) {
	data, err := json.MarshalIndent(connlistRows(l), "", "  ")
	return string(data), err
}
