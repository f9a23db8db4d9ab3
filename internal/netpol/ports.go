package netpol

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Port numbers bound every range.
const (
	minPort int32 = 1
	maxPort int32 = 65535
)

// protocols are the protocols a NetworkPolicy can name, in display order.
var protocols = []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}

// PortRange is a range of ports of one protocol, From ≤ To.
type PortRange struct {
	Protocol corev1.Protocol
	From, To int32
}

// Ports is a set of protocol ports in canonical form: sorted by protocol (TCP, UDP, SCTP) and
// port, with no overlapping or touching ranges, so that equal sets compare equal.
type Ports []PortRange

// AllPorts is every port of every protocol.
func AllPorts() Ports {
	out := make(Ports, 0, len(protocols))
	for _, p := range protocols {
		out = append(out, PortRange{p, minPort, maxPort})
	}
	return out
}

// PortsOf returns the set holding the given ports of one protocol.
func PortsOf(protocol corev1.Protocol, ports ...int32) Ports {
	out := make(Ports, 0, len(ports))
	for _, p := range ports {
		if p >= minPort && p <= maxPort {
			out = append(out, PortRange{protocol, p, p})
		}
	}
	return out.canonicalize()
}

func protocolRank(p corev1.Protocol) int {
	if i := slices.Index(protocols, p); i >= 0 {
		return i
	}
	return len(protocols)
}

// canonical returns ps in canonical form; ps is not modified.
func (ps Ports) canonical() Ports { return slices.Clone(ps).canonicalize() }

// canonicalize puts a set the caller owns in canonical form, in its own array: the set
// operations build their results in new lists already, and need not copy them once more.
func (ps Ports) canonicalize() Ports {
	slices.SortFunc(ps, func(a, b PortRange) int {
		return cmp.Or(cmp.Compare(protocolRank(a.Protocol), protocolRank(b.Protocol)), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	out := ps[:0] // written behind the range it is read from
	for _, r := range ps {
		if r.From > r.To {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Protocol == r.Protocol && r.From <= out[n-1].To+1 {
			out[n-1].To = max(out[n-1].To, r.To)
			continue
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil
	}
	return slices.Clip(out)
}

// Union returns the ports in ps or other.
func (ps Ports) Union(other Ports) Ports {
	if len(ps)+len(other) == 0 {
		return nil
	}
	return append(append(make(Ports, 0, len(ps)+len(other)), ps...), other...).canonicalize()
}

// Intersect returns the ports in both ps and other.
func (ps Ports) Intersect(other Ports) Ports {
	var out Ports
	for _, a := range ps {
		for _, b := range other {
			if a.Protocol == b.Protocol && max(a.From, b.From) <= min(a.To, b.To) {
				out = append(out, PortRange{a.Protocol, max(a.From, b.From), min(a.To, b.To)})
			}
		}
	}
	return out.canonicalize()
}

// Subtract returns the ports in ps and not in other.
func (ps Ports) Subtract(other Ports) Ports {
	out := ps.canonical()
	for _, b := range other {
		var next Ports
		for _, a := range out {
			if a.Protocol != b.Protocol || b.To < a.From || b.From > a.To {
				next = append(next, a)
				continue
			}
			if a.From < b.From {
				next = append(next, PortRange{a.Protocol, a.From, b.From - 1})
			}
			if a.To > b.To {
				next = append(next, PortRange{a.Protocol, b.To + 1, a.To})
			}
		}
		out = next
	}
	return out.canonicalize()
}

// Contains reports whether every port of other is in ps.
func (ps Ports) Contains(other Ports) bool { return len(other.Subtract(ps)) == 0 }

// Empty reports whether the set holds no port.
func (ps Ports) Empty() bool { return len(ps) == 0 }

// String renders the set for people: "TCP 8080", "TCP 53, UDP 53", "TCP 1-1023", "all" for
// every port of every protocol, "none" for the empty set.
func (ps Ports) String() string {
	c := ps.canonical()
	switch {
	case len(c) == 0:
		return "none"
	case slices.Equal(c, AllPorts()):
		return "all"
	}
	var parts []string
	for _, p := range protocols {
		var ranges []string
		for _, r := range c {
			if r.Protocol != p {
				continue
			}
			switch {
			case r.From == minPort && r.To == maxPort:
				ranges = append(ranges, "all ports")
			case r.From == r.To:
				ranges = append(ranges, strconv.Itoa(int(r.From)))
			default:
				ranges = append(ranges, fmt.Sprintf("%d-%d", r.From, r.To))
			}
		}
		if len(ranges) > 0 {
			parts = append(parts, string(p)+" "+strings.Join(ranges, ","))
		}
	}
	return strings.Join(parts, ", ")
}

// MarshalJSON writes the set as its String form ("TCP 8080, UDP 53").
func (ps Ports) MarshalJSON() ([]byte, error) { return json.Marshal(ps.String()) }

// UnmarshalJSON reads the String form back, so that reports round-trip.
func (ps *Ports) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	p, err := ParsePorts(s)
	if err != nil {
		return err
	}
	*ps = p
	return nil
}

// ParsePorts reads the String form of a set: "all", "none", or "TCP 80,443, UDP 53-54".
func ParsePorts(s string) (Ports, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "none":
		return nil, nil
	case "all":
		return AllPorts(), nil
	}
	var out Ports
	var proto corev1.Protocol
	for field := range strings.SplitSeq(s, ",") {
		field = strings.TrimSpace(field)
		if name, rest, ok := strings.Cut(field, " "); ok {
			proto, field = corev1.Protocol(strings.ToUpper(name)), strings.TrimSpace(rest)
		}
		if protocolRank(proto) == len(protocols) {
			return nil, fmt.Errorf("unknown protocol in %q", s)
		}
		if field == "all ports" {
			out = append(out, PortRange{proto, minPort, maxPort})
			continue
		}
		from, to, isRange := strings.Cut(field, "-")
		if !isRange {
			to = from
		}
		f, err1 := strconv.Atoi(from)
		t, err2 := strconv.Atoi(to)
		if err1 != nil || err2 != nil || f < int(minPort) || t > int(maxPort) || f > t {
			return nil, fmt.Errorf("invalid port range %q in %q", field, s)
		}
		out = append(out, PortRange{proto, int32(f), int32(t)})
	}
	return out.canonicalize(), nil
}
