package audit

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/np-guard/models/pkg/netset"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/smartcity-io/smartcity-operator/internal/netpol"
)

// Explanation says whether one connection is allowed, and which NetworkPolicies decide.
type Explanation struct {
	From Peer `json:"from"`
	To   Peer `json:"to"`
	// Port is the connection explained (one protocol and port).
	Port Ports `json:"port"`
	// Allowed is true when the connection is allowed (for a zone or address range: from or to
	// every one of its addresses).
	Allowed bool `json:"allowed"`
	// Checks hold one answer per group of addresses that the policies treat alike (one check
	// when neither side is an address range).
	Checks []Check `json:"checks"`
	// Declared are the connections the PublicServices declare from From to To (after consent).
	Declared Ports `json:"declared"`
	// Violations are the audit's violations about this pair of peers.
	Violations []Violation `json:"violations"`
	// Notes are remarks (for example a disagreement between the per-policy evaluation and the
	// verdict for all policies together, which would point at a defect of the engine).
	Notes []string `json:"notes,omitempty"`
}

// Check is the answer for one group of addresses (or for two in-cluster peers).
type Check struct {
	// Addresses are the source (or destination) addresses this check holds for; empty when
	// both peers are in the cluster.
	Addresses []string `json:"addresses,omitempty"`
	Allowed   bool     `json:"allowed"`
	// Egress is the source side, Ingress the destination side.
	Egress  Direction `json:"egress"`
	Ingress Direction `json:"ingress"`
}

// Direction is what the policies of one side say.
type Direction struct {
	// Workload whose pods' policies decide this direction; empty outside the cluster.
	Workload string `json:"workload,omitempty"`
	Allowed  bool   `json:"allowed"`
	// SelectedBy are the NetworkPolicies ("namespace/name") that select the pods for this
	// direction, which isolates them; AllowedBy are those of them whose rules allow the
	// connection.
	SelectedBy []string `json:"selectedBy"`
	AllowedBy  []string `json:"allowedBy"`
	// Reason says it in a sentence.
	Reason string `json:"reason"`
}

// Explain says whether the connection from one peer to another on a port is allowed and which
// NetworkPolicies decide, for a Model (rendered, for files). from and to are peer IDs as in
// reports ("namespace/service", "zone/<name>", "namespace/name[Kind]", {gateway}, {dns},
// {any-pod}, {external}), "namespace/name" of any workload, or an IPv4 address or CIDR.
// A zero port means the declared port of the pair, else the destination's port.
//
// Each side is evaluated policy by policy: the policies that select the pods for that
// direction are found by their pod selector and policy types, and each one says, by its rules
// of that direction alone, whether it allows the connection. The result is checked against
// the engine's verdict for all policies together.
func Explain(m *Model, opts Options, from, to string, port PortRange) (*Explanation, error) {
	a, err := newAnalysis(m, opts)
	if err != nil {
		return nil, err
	}
	r, err := a.report()
	if err != nil {
		return nil, err
	}
	src, err := a.resolvePeer(from)
	if err != nil {
		return nil, err
	}
	dst, err := a.resolvePeer(to)
	if err != nil {
		return nil, err
	}
	if src.workload == nil && dst.workload == nil {
		return nil, inputErrorf("%s and %s are both outside the cluster: NetworkPolicies only apply to pods", from, to)
	}
	if src.ID == dst.ID {
		return nil, inputErrorf("%s and %s are the same peer", from, to)
	}
	declared := a.declared[[2]string{src.ID, dst.ID}]
	if port.Protocol == "" {
		port.Protocol = corev1.ProtocolTCP
	}
	if port.From == 0 {
		p, ok := defaultPort(declared, dst)
		if !ok {
			return nil, inputErrorf("no port is declared from %s to %s: give one with --port", src.ID, dst.ID)
		}
		port = p
	}
	port.To = port.From
	x := &Explanation{From: src.Peer, To: dst.Peer, Port: Ports{port}, Declared: declared, Violations: []Violation{}}
	for _, v := range r.Violations {
		if v.From == src.ID && v.To == dst.ID {
			x.Violations = append(x.Violations, v)
		}
	}
	a.explainChecks(x, src, dst, port)
	x.Allowed = len(x.Checks) > 0
	for _, c := range x.Checks {
		x.Allowed = x.Allowed && c.Allowed
	}
	return x, nil
}

// defaultPort is the first declared port of the pair, else the destination's port.
func defaultPort(declared Ports, dst *node) (PortRange, bool) {
	if len(declared) > 0 {
		return PortRange{Protocol: declared[0].Protocol, From: declared[0].From, To: declared[0].From}, true
	}
	if dst.service != nil {
		return PortRange{Protocol: corev1.ProtocolTCP, From: *dst.service.spec.Port, To: *dst.service.spec.Port}, true
	}
	if dst.workload != nil {
		for _, p := range dst.workload.Ports {
			if p.ContainerPort > 0 {
				proto := p.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				return PortRange{Protocol: proto, From: p.ContainerPort, To: p.ContainerPort}, true
			}
		}
	}
	return PortRange{}, false
}

// resolvePeer finds the node a name means, or makes one for an address.
func (a *analysis) resolvePeer(name string) (*node, error) {
	if n, ok := a.byID[name]; ok {
		return n, nil
	}
	for _, alias := range []string{"{" + name + "}", ZonePrefix + name} {
		if n, ok := a.byID[alias]; ok && !strings.Contains(name, "/") {
			return n, nil
		}
	}
	if ns, wl, ok := strings.Cut(name, "/"); ok && ns != "zone" {
		var matches []*node
		for _, n := range a.nodes {
			if n.workload != nil && n.workload.Namespace == ns && n.workload.Name == wl {
				matches = append(matches, n)
			}
		}
		switch len(matches) {
		case 1:
			return matches[0], nil
		case 0:
		default:
			ids := make([]string, 0, len(matches))
			for _, n := range matches {
				ids = append(ids, n.ID)
			}
			return nil, inputErrorf("%s names several workloads: %s", name, strings.Join(ids, ", "))
		}
	}
	if block, err := addressBlock(name); err == nil {
		desc := "address " + name
		var zones []string
		for _, n := range a.nodes {
			if n.Kind == PeerZone && block.Overlap(n.block) {
				zones = append(zones, n.ID)
			}
		}
		if len(zones) > 0 {
			desc += " (in " + strings.Join(zones, ", ") + ")"
		}
		return &node{Peer: Peer{ID: name, Kind: PeerExternal, Addresses: block.ToCidrList(), Description: desc}, block: block}, nil
	}
	return nil, inputErrorf("%q is not a service, workload, zone or IPv4 address of the audit: use namespace/service, "+
		"namespace/workload, zone/<name>, an IPv4 address or CIDR, or one of %s, %s, %s, %s", name, GatewayID, DNSID, AnyPodID, ExternalID)
}

// addressBlock parses an IPv4 address or CIDR.
func addressBlock(s string) (*netset.IPBlock, error) {
	if p, err := netip.ParsePrefix(s); err == nil && p.Addr().Is4() {
		return netset.IPBlockFromCidr(p.Masked().String())
	}
	if addr, err := netip.ParseAddr(s); err == nil && addr.Is4() {
		return netset.IPBlockFromIPAddress(addr.String())
	}
	return nil, fmt.Errorf("%q is not an IPv4 address or CIDR", s)
}

// explainChecks evaluates the connection for each group of addresses that the policies treat
// alike, and merges groups with the same answer.
func (a *analysis) explainChecks(x *Explanation, src, dst *node, port PortRange) {
	want := Ports{port}
	type part struct {
		block *netset.IPBlock // nil when both peers are in the cluster
		check Check
	}
	var parts []part
	switch {
	case src.workload != nil && dst.workload != nil:
		parts = append(parts, part{check: a.check(src, dst, nil, want)})
	default:
		addrs, ingress := src.block, true
		if dst.block != nil {
			addrs, ingress = dst.block, false
		}
		for _, b := range a.engine.blocksIn(addrs, ingress) {
			parts = append(parts, part{block: b, check: a.check(src, dst, b, want)})
		}
	}
	var blocks []*netset.IPBlock // the addresses of each check so far
	for _, p := range parts {
		merged := false
		for i := range x.Checks {
			c := &x.Checks[i]
			if c.Allowed == p.check.Allowed && slices.Equal(c.Egress.AllowedBy, p.check.Egress.AllowedBy) &&
				slices.Equal(c.Ingress.AllowedBy, p.check.Ingress.AllowedBy) && c.Egress.Reason == p.check.Egress.Reason &&
				c.Ingress.Reason == p.check.Ingress.Reason {
				blocks[i] = blocks[i].Union(p.block)
				c.Addresses = blocks[i].ListToPrint()
				merged = true
				break
			}
		}
		if !merged {
			if p.block != nil {
				p.check.Addresses = p.block.ListToPrint()
			}
			x.Checks = append(x.Checks, p.check)
			blocks = append(blocks, p.block)
		}
	}
	for _, p := range parts {
		// The engine's verdict with every policy at once must agree with the per-policy one.
		full := a.engine.Allowed(a.peerOf(src, p.block), a.peerOf(dst, p.block))
		if full.Contains(want) != p.check.Allowed {
			x.Notes = append(x.Notes, fmt.Sprintf("the verdict for all policies together (%t) differs from the per-policy evaluation (%t)%s",
				full.Contains(want), p.check.Allowed, addressesSuffix(p.block)))
		}
	}
}

// peerOf is the engine's peer of a node: its workload, or the given part of its addresses.
func (a *analysis) peerOf(n *node, block *netset.IPBlock) netpol.Peer {
	if n.workload != nil {
		return netpol.WorkloadPeer(n.index)
	}
	return netpol.BlockPeer(block)
}

func addressesSuffix(b *netset.IPBlock) string {
	if b == nil {
		return ""
	}
	return " for " + strings.Join(b.ToCidrList(), ", ")
}

// check evaluates one connection side by side. block is the part of the addresses of the side
// outside the cluster, if any.
func (a *analysis) check(src, dst *node, block *netset.IPBlock, want Ports) Check {
	var c Check
	c.Egress = a.direction(src, dst, block, want, networkingv1.PolicyTypeEgress)
	c.Ingress = a.direction(src, dst, block, want, networkingv1.PolicyTypeIngress)
	c.Allowed = c.Egress.Allowed && c.Ingress.Allowed
	return c
}

// direction evaluates the policies of one side: the source's for egress, the destination's for
// ingress. Each policy that selects the side's pods for the direction says, by its own rules
// alone, whether it allows the connection.
func (a *analysis) direction(src, dst *node, block *netset.IPBlock, want Ports, dir networkingv1.PolicyType) Direction {
	side := dst
	verb := "reach"
	if dir == networkingv1.PolicyTypeEgress {
		side, verb = src, "leave"
	}
	d := Direction{SelectedBy: []string{}, AllowedBy: []string{}}
	if side.workload == nil {
		d.Allowed = true
		d.Reason = "outside the cluster: no NetworkPolicy applies"
		return d
	}
	d.Workload = side.workload.ID()
	if side.Virtual && side.Kind != PeerService {
		d.Workload = side.ID
	}
	from, to := a.peerOf(src, block), a.peerOf(dst, block)
	for _, name := range a.engine.Selecting(side.index, dir) {
		d.SelectedBy = append(d.SelectedBy, name)
		if a.engine.AllowedByPolicy(name, dir, from, to).Contains(want) {
			d.AllowedBy = append(d.AllowedBy, name)
		}
	}
	switch {
	case len(d.SelectedBy) == 0:
		d.Allowed = true
		d.Reason = fmt.Sprintf("no NetworkPolicy selects %s for %s, so it is not isolated: everything may %s it", d.Workload, strings.ToLower(string(dir)), verb)
	case len(d.AllowedBy) > 0:
		d.Allowed = true
		d.Reason = "allowed by NetworkPolicy " + strings.Join(d.AllowedBy, ", ")
	default:
		d.Reason = fmt.Sprintf("denied: NetworkPolicy %s isolates %s for %s and none of its rules allows this connection",
			d.SelectedBy[0], d.Workload, strings.ToLower(string(dir)))
		if len(d.SelectedBy) > 1 {
			d.Reason = fmt.Sprintf("denied: NetworkPolicies %s isolate %s for %s and none of their rules allows this connection",
				strings.Join(d.SelectedBy, ", "), d.Workload, strings.ToLower(string(dir)))
		}
	}
	return d
}

// WriteExplanation writes an explanation as text, for people.
func WriteExplanation(out io.Writer, x *Explanation) error {
	var b strings.Builder
	w := &b
	verdict := "DENIED"
	if x.Allowed {
		verdict = "ALLOWED"
	}
	fmt.Fprintf(w, "%s: %s -> %s on %s\n\n", verdict, x.From.ID, x.To.ID, x.Port)
	fmt.Fprintf(w, "From:     %s\n", peerLine(x.From))
	fmt.Fprintf(w, "To:       %s\n", peerLine(x.To))
	if x.Declared.Empty() {
		fmt.Fprintf(w, "Declared: nothing (no PublicService declares a flow from %s to %s)\n", x.From.ID, x.To.ID)
	} else {
		fmt.Fprintf(w, "Declared: %s\n", x.Declared)
	}
	for _, c := range x.Checks {
		b.WriteString("\n")
		if len(c.Addresses) > 0 {
			v := "denied"
			if c.Allowed {
				v = "allowed"
			}
			fmt.Fprintf(w, "Addresses %s: %s\n", strings.Join(c.Addresses, ", "), v)
		}
		fmt.Fprintf(w, "  Egress  (%s): %s\n", sideName(c.Egress, x.From), c.Egress.Reason)
		fmt.Fprintf(w, "  Ingress (%s): %s\n", sideName(c.Ingress, x.To), c.Ingress.Reason)
	}
	if len(x.Violations) > 0 {
		fmt.Fprintf(w, "\nViolations:\n")
		for _, v := range x.Violations {
			fmt.Fprintf(w, "  %s: %s\n", v.Kind, v.Message)
		}
	}
	for _, n := range x.Notes {
		fmt.Fprintf(w, "\nNote: %s\n", n)
	}
	_, err := io.WriteString(out, b.String())
	return err
}

func peerLine(p Peer) string {
	s := p.ID
	if p.Workload != "" && p.Workload != p.ID {
		s += " (pods of " + p.Workload + ")"
	}
	if p.Description != "" {
		s += ": " + p.Description
	}
	return s
}

func sideName(d Direction, p Peer) string {
	if d.Workload != "" {
		return d.Workload
	}
	return p.ID
}
