// Package audit proves the city's network connectivity: from the objects actually present
// (NetworkPolicies of anyone, namespaces, workloads) it computes, with the NetworkPolicy
// engine of internal/netpol, which connections are allowed between PublicServices, other
// workloads and NetworkZones, compares them with what the PublicServices declare after
// consent, and reports the differences (TooOpen, TooClosed, Unisolated, OneSided) per service
// (internal/audit/format writes the reports). A cluster (ReadCluster) and manifest files
// rendered as the operator renders them (ReadFiles, Rendered) give the same Model, and the
// same Report; Connectivity lists what is allowed between every pair of workloads.
package audit
