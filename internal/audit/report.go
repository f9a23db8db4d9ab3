package audit

import (
	"fmt"
	"strings"
)

// PeerKind says what a peer of a flow stands for.
type PeerKind string

const (
	// PeerService is the pods of a PublicService.
	PeerService PeerKind = "Service"
	// PeerZone is the addresses of a NetworkZone (its cidrs without its except ranges).
	PeerZone PeerKind = "Zone"
	// PeerGateway is the pods of the gateway or ingress controller's namespace, which Public
	// services admit.
	PeerGateway PeerKind = "Gateway"
	// PeerDNS is the cluster DNS pods, which every service may query.
	PeerDNS PeerKind = "DNS"
	// PeerWorkload is any other workload in the cluster.
	PeerWorkload PeerKind = "Workload"
	// PeerAnyPod is a pod without labels in a namespace of its own: what any other pod of the
	// cluster can reach unless a policy names it.
	PeerAnyPod PeerKind = "AnyPod"
	// PeerExternal is every IPv4 address outside all NetworkZones.
	PeerExternal PeerKind = "External"
)

// IDs of the peers that stand for pods or addresses rather than name them.
const (
	// GatewayID is the gateway or ingress controller when no workload runs in its namespace.
	GatewayID = "{gateway}"
	// DNSID is the cluster DNS when no workload in its namespace carries its labels.
	DNSID = "{dns}"
	// AnyPodID is any other pod of the cluster.
	AnyPodID = "{any-pod}"
	// ExternalID is every address outside the NetworkZones.
	ExternalID = "{external}"
	// ZonePrefix starts the ID of a NetworkZone peer: "zone/<name>".
	ZonePrefix = "zone/"

	// ExternalProbeAddress is the address that stands for {external} where one address is needed
	// (kubectl city explain): 203.0.113.10, in TEST-NET-3 (RFC 5737), which no network uses. It
	// is only data: the audit never sends anything.
	ExternalProbeAddress = "203.0.113.10"
	// anyPodNamespace is the namespace of the {any-pod} probe.
	anyPodNamespace = "audit-any-namespace"
)

// Peer is one end of a flow.
type Peer struct {
	// ID names the peer in flows and violations: "namespace/name" for a PublicService,
	// "zone/<name>" for a NetworkZone, "namespace/name[Kind]" for another workload, and
	// {gateway}, {dns}, {any-pod}, {external} for the stand-ins.
	ID   string   `json:"id"`
	Kind PeerKind `json:"kind"`
	// Namespace and Name of the service, zone or workload.
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	// Workload is the workload whose pods the peer's flows were computed for.
	Workload string `json:"workload,omitempty"`
	// Virtual marks a peer that no object of the cluster or the files stands for: the audit
	// invented its pods (labels and namespace) to ask the policies about them.
	Virtual bool `json:"virtual,omitempty"`
	// CIDRs and Except are a zone's ranges, as its spec gives them.
	CIDRs  []string `json:"cidrs,omitempty"`
	Except []string `json:"except,omitempty"`
	// Addresses are the addresses of an address peer of kubectl city explain (an IPv4 address
	// or CIDR).
	Addresses []string `json:"addresses,omitempty"`
	// Description says what the peer is, for people.
	Description string `json:"description,omitempty"`
}

// ViolationKind is a kind of difference between effective connectivity and intent.
type ViolationKind string

const (
	// TooOpen: a flow is allowed that no PublicService declares (for example through a
	// foreign allow-all policy), or on more ports than declared.
	TooOpen ViolationKind = "TooOpen"
	// TooClosed: a flow that both sides declare (after consent) is blocked.
	TooClosed ViolationKind = "TooClosed"
	// Unisolated: a workload in a managed namespace is selected by no policy for ingress or
	// for egress, so everything may reach it, or it may reach everything.
	Unisolated ViolationKind = "Unisolated"
	// OneSided: a declaration without its other side: consumes without the provider's
	// allowFrom, allowFrom without the consumer's consumes, or a zone that does not exist or
	// does not admit the namespace.
	OneSided ViolationKind = "OneSided"
)

var violationRank = map[ViolationKind]int{TooOpen: 0, TooClosed: 1, Unisolated: 2, OneSided: 3}

// Flow is the effective connectivity from one peer to another, with what is declared.
type Flow struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Allowed are the connections the policies allow; for a zone or {external}, from or to
	// every one of its addresses.
	Allowed Ports `json:"allowed"`
	// Partly are connections allowed for some of a zone's (or {external}'s) addresses only.
	Partly Ports `json:"partly,omitempty"`
	// Declared are the connections the PublicServices declare, after consent.
	Declared Ports `json:"declared"`
	// Extra are allowed (or partly allowed) and not declared: TooOpen.
	Extra Ports `json:"extra,omitempty"`
	// Missing are declared and not allowed for every address: TooClosed.
	Missing Ports `json:"missing,omitempty"`
}

// Verdict is "ok", or the violation kinds of the flow ("TooOpen", "TooClosed", or both).
func (f Flow) Verdict() string {
	var v []string
	if !f.Extra.Empty() {
		v = append(v, string(TooOpen))
	}
	if !f.Missing.Empty() {
		v = append(v, string(TooClosed))
	}
	if len(v) == 0 {
		return "ok"
	}
	return strings.Join(v, ",")
}

// Violation is one difference between effective connectivity and intent.
type Violation struct {
	Kind ViolationKind `json:"kind"`
	// Service is the PublicService concerned ("namespace/name"), if any.
	Service string `json:"service,omitempty"`
	// Workload is the workload concerned (Unisolated).
	Workload string `json:"workload,omitempty"`
	// From and To are the peers of the flow concerned (TooOpen, TooClosed, OneSided).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Ports are the extra (TooOpen) or missing (TooClosed) connections.
	Ports Ports `json:"ports,omitempty"`
	// Message says what is wrong, for people.
	Message string `json:"message"`
}

// PeerPorts is a peer with connections.
type PeerPorts struct {
	Peer  string `json:"peer"`
	Ports Ports  `json:"ports"`
	// Partly are connections that only some of a zone's addresses have.
	Partly Ports `json:"partly,omitempty"`
}

func (p PeerPorts) String() string {
	s := p.Peer + " " + p.Ports.String()
	if !p.Partly.Empty() {
		if p.Ports.Empty() {
			s = p.Peer + " " + p.Partly.String() + " (part of the addresses)"
		} else {
			s += " (" + p.Partly.String() + " for part of the addresses)"
		}
	}
	return s
}

// ServiceSummary compares one PublicService's effective ingress and egress with its intent:
// what a ConnectivityVerified condition reports.
type ServiceSummary struct {
	// Service is "namespace/name".
	Service   string `json:"service"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Workload is the workload whose pods stand for the service.
	Workload string `json:"workload"`
	// Ingress are the peers that can reach the service, and on what; Egress those it can reach.
	Ingress []PeerPorts `json:"ingress"`
	Egress  []PeerPorts `json:"egress"`
	// IntendedIngress and IntendedEgress are the declared flows, after consent.
	IntendedIngress []PeerPorts `json:"intendedIngress"`
	IntendedEgress  []PeerPorts `json:"intendedEgress"`
	// Extra and Missing flows in each direction.
	ExtraIngress   []PeerPorts `json:"extraIngress,omitempty"`
	MissingIngress []PeerPorts `json:"missingIngress,omitempty"`
	ExtraEgress    []PeerPorts `json:"extraEgress,omitempty"`
	MissingEgress  []PeerPorts `json:"missingEgress,omitempty"`
	// Verified is true when effective ingress and egress equal the intent.
	Verified bool `json:"verified"`
}

// ConditionPeers is how many peers a condition message names in each list: a city's service
// can have hundreds, and a condition message names a count and a few.
const ConditionPeers = 3

// Message says, in one line, whether the effective connectivity equals the intent and
// otherwise names every extra and missing flow (for a report).
func (s ServiceSummary) Message() string { return s.message(0) }

// ConditionMessage is Message naming at most ConditionPeers flows of each list, with the
// list's length when there are more (for a condition message).
func (s ServiceSummary) ConditionMessage() string { return s.message(ConditionPeers) }

// message names at most limit flows of each list (all when limit is 0).
func (s ServiceSummary) message(limit int) string {
	if s.Verified {
		return "Effective ingress and egress equal the declared intent"
	}
	var parts []string
	add := func(title string, list []PeerPorts) {
		if len(list) == 0 {
			return
		}
		shown := list
		if limit > 0 && len(list) > limit {
			shown = list[:limit]
		}
		items := make([]string, 0, len(shown)+1)
		for _, p := range shown {
			items = append(items, p.String())
		}
		if more := len(list) - len(shown); more > 0 {
			items = append(items, fmt.Sprintf("and %d more", more))
			title = fmt.Sprintf("%s (%d)", title, len(list))
		}
		parts = append(parts, title+": "+strings.Join(items, "; "))
	}
	add("extra ingress", s.ExtraIngress)
	add("missing ingress", s.MissingIngress)
	add("extra egress", s.ExtraEgress)
	add("missing egress", s.MissingEgress)
	return strings.Join(parts, "; ")
}

// Report is the result of an audit. Every list is sorted, so that equal inputs give equal
// reports.
type Report struct {
	// Source says what was audited: files, or a cluster.
	Source string `json:"source"`
	// ManagedNamespaces are the namespaces that hold a PublicService.
	ManagedNamespaces []string `json:"managedNamespaces"`
	// Peers are every peer of a flow, every PublicService and every NetworkZone.
	Peers []Peer `json:"peers"`
	// Flows are the pairs with at least one allowed or declared connection, where at least one
	// side is a PublicService. Every other pair is denied and undeclared.
	Flows []Flow `json:"flows"`
	// Services compare each PublicService's effective connectivity with its intent.
	Services []ServiceSummary `json:"services"`
	// Violations are the differences between effective connectivity and intent.
	Violations []Violation `json:"violations"`
	// Notes are remarks that are not violations (stand-ins used, duplicates, analyzer warnings).
	Notes []string `json:"notes,omitempty"`
}

// Clean reports whether the audit found no violation.
func (r *Report) Clean() bool { return len(r.Violations) == 0 }

// Service returns the summary of one PublicService.
func (r *Report) Service(namespace, name string) (ServiceSummary, bool) {
	for _, s := range r.Services {
		if s.Namespace == namespace && s.Name == name {
			return s, true
		}
	}
	return ServiceSummary{}, false
}

// Peer returns the peer with an ID.
func (r *Report) Peer(id string) (Peer, bool) {
	for _, p := range r.Peers {
		if p.ID == id {
			return p, true
		}
	}
	return Peer{}, false
}

// Counts returns the number of violations of each kind.
func (r *Report) Counts() map[ViolationKind]int {
	out := map[ViolationKind]int{}
	for _, v := range r.Violations {
		out[v.Kind]++
	}
	return out
}

// Summary says in one line how many services, flows and violations the report has.
func (r *Report) Summary() string {
	verified := 0
	for _, s := range r.Services {
		if s.Verified {
			verified++
		}
	}
	if r.Clean() {
		return fmt.Sprintf("%d services, %d flows, %d of %d services verified, no violations",
			len(r.Services), len(r.Flows), verified, len(r.Services))
	}
	c := r.Counts()
	var parts []string
	for _, k := range []ViolationKind{TooOpen, TooClosed, Unisolated, OneSided} {
		if c[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[k], k))
		}
	}
	return fmt.Sprintf("%d services, %d flows, %d of %d services verified, %s (%s)",
		len(r.Services), len(r.Flows), verified, len(r.Services), plural(len(r.Violations), "violation"), strings.Join(parts, ", "))
}

// plural writes a count with a noun: "1 violation", "2 violations".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
