package intent

import (
	"k8s.io/apimachinery/pkg/types"
)

// ServicePeer is another PublicService's pods, in a flow admitted by both sides.
type ServicePeer struct {
	// Namespace and Name of the peer PublicService; its pods carry render.SelectorLabels(Name).
	Namespace string
	Name      string
	// Port is the TCP port of the flow, on the provider's pods: for ingress this service's
	// port, for egress the provider's port.
	Port int32
}

// Key returns "namespace/name".
func (p ServicePeer) Key() string { return p.Namespace + "/" + p.Name }

// ZonePeer is a NetworkZone in a flow admitted by the zone's allowedNamespaces.
type ZonePeer struct {
	Name   string
	CIDRs  []string
	Except []string
	// Ports are the TCP ports of the flow (for ingress, this service's port).
	Ports []int32
}

// Problem is one reason a dependency is not satisfied. Reason is one of the
// v1alpha1.Reason* constants (ConsentMissing, DependencyNotFound, ZoneNotFound, ZoneNotAllowed).
type Problem struct {
	Reason  string
	Message string
}

// Resolved is a service's effective connectivity: what its NetworkPolicy admits, in sorted
// order (deterministic output), and why anything declared was left out.
type Resolved struct {
	// IngressServices are consumers that consume this service and that allowFrom admits.
	IngressServices []ServicePeer
	// IngressZones are zones in allowFrom that exist and admit this namespace.
	IngressZones []ZonePeer
	// IngressGateway is true for Public exposure: the gateway or ingress controller may call.
	IngressGateway bool
	// EgressServices are consumed services that exist and admit this one.
	EgressServices []ServicePeer
	// EgressZones are egressTo zones that exist and admit this namespace.
	EgressZones []ZonePeer

	// Unadmitted are services that declare they consume this one but that allowFrom does not admit.
	Unadmitted []types.NamespacedName
	// Problems are this service's own unsatisfied dependencies, sorted; their rules are dropped
	// (fail closed).
	Problems []Problem
	// RefusedZones are zones this service references that do not admit its namespace.
	RefusedZones []string
	// ReferencedZones are every zone this service references and that exists (admitted or not).
	ReferencedZones []string
}
