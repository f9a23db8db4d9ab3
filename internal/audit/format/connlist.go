package format

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/smartcity-io/smartcity-operator/internal/netpol"
)

// ConnlistFormat is an output format of `kubectl city connectivity`.
type ConnlistFormat string

// The connectivity list's formats, as netpol-analyzer's connlist writes them.
const (
	ConnlistText     ConnlistFormat = "txt"
	ConnlistJSON     ConnlistFormat = "json"
	ConnlistCSV      ConnlistFormat = "csv"
	ConnlistMarkdown ConnlistFormat = "md"
	ConnlistDOT      ConnlistFormat = "dot"
)

// ConnlistFormats are the formats WriteConnlist knows, in the order help texts list them.
var ConnlistFormats = []ConnlistFormat{ConnlistText, ConnlistJSON, ConnlistCSV, ConnlistMarkdown, ConnlistDOT}

// WriteConnlist writes a connectivity list in one of ConnlistFormats, byte for byte as
// netpol-analyzer's connlist does (ConnectionsListToString), with a final newline.
func WriteConnlist(w io.Writer, l netpol.Connlist, f ConnlistFormat) error {
	var s string
	var err error
	switch f {
	case ConnlistText:
		s = connlistText(l)
	case ConnlistJSON:
		s, err = connlistJSON(l)
	case ConnlistCSV:
		s, err = connlistCSV(l)
	case ConnlistMarkdown:
		s = connlistMarkdown(l)
	case ConnlistDOT:
		s = connlistDOT(l)
	default:
		return fmt.Errorf("unknown format %q", f)
	}
	if err != nil {
		return err
	}
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	_, err = io.WriteString(w, s)
	return err
}

// connlistRow is one connection as connlist writes it.
type connlistRow struct {
	Src  string `json:"src"`
	Dst  string `json:"dst"`
	Conn string `json:"conn"`
}

func connlistRows(l netpol.Connlist) []connlistRow {
	out := make([]connlistRow, 0, len(l.Connections))
	for _, c := range l.Connections {
		out = append(out, connlistRow{Src: c.Src, Dst: c.Dst, Conn: ConnString(c.Ports)})
	}
	return out
}

// ConnString names connections as connlist does: "All Connections", "No Connections", or
// each protocol with its ports, sorted and joined by commas ("SCTP 1-65535,TCP 80,8000-8100").
func ConnString(ps netpol.Ports) string {
	switch {
	case ps.Empty():
		return "No Connections"
	case ps.Contains(netpol.AllPorts()):
		return "All Connections"
	}
	byProtocol := map[string][]string{}
	for _, r := range ps {
		p := strconv.Itoa(int(r.From))
		if r.To != r.From {
			p += "-" + strconv.Itoa(int(r.To))
		}
		byProtocol[string(r.Protocol)] = append(byProtocol[string(r.Protocol)], p)
	}
	parts := make([]string, 0, len(byProtocol))
	for proto, ports := range byProtocol {
		parts = append(parts, proto+" "+strings.Join(ports, ","))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}
