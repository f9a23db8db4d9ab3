package audit

import "github.com/smartcity-io/smartcity-operator/internal/netpol"

// PortRange is a range of ports of one protocol (see netpol.PortRange).
type PortRange = netpol.PortRange

// Ports is a set of protocol ports in canonical form (see netpol.Ports).
type Ports = netpol.Ports
