package audit

import "github.com/smartcity-io/smartcity-operator/internal/netpol"

// PortRange is a range of ports of one protocol (see netpol.PortRange).
type PortRange = netpol.PortRange

// Ports is a set of protocol ports in canonical form (see netpol.Ports).
type Ports = netpol.Ports

// AllPorts is every port of every protocol.
var AllPorts = netpol.AllPorts

// PortsOf returns the set holding the given ports of one protocol.
var PortsOf = netpol.PortsOf

// ParsePorts reads the String form of a set: "all", "none", or "TCP 80,443, UDP 53-54".
var ParsePorts = netpol.ParsePorts
