// Package audit proves the city's network connectivity: from the objects actually present
// (NetworkPolicies of anyone, namespaces, workloads) it computes, with the
// NetworkPolicy engine of internal/netpol, which
// connections are allowed between PublicServices, other workloads and NetworkZones, compares
// them with what the PublicServices declare after consent, and reports the differences
// (TooOpen, TooClosed, Unisolated, OneSided) per service and as tables, JSON, Markdown,
// Mermaid and DOT. A cluster (ReadCluster) and manifest files rendered as the operator renders
// them (ReadFiles, Rendered) give the same Model, and the same Report.
package audit
