package format

import (
	"strings"

	"github.com/smartcity-io/smartcity-operator/internal/netpol"
)

// connlistText writes one line per connection: "src => dst : conn".
func connlistText(l netpol.Connlist) string {
	var b strings.Builder
	for _, r := range connlistRows(l) {
		b.WriteString(r.Src + " => " + r.Dst + " : " + r.Conn + "\n")
	}
	return b.String()
}
