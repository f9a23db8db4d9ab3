// Package netpol computes the connections Kubernetes NetworkPolicies allow between workloads
// and address blocks, without asking about every pair: policies are indexed by the workloads
// they select, each rule's peers are resolved once against an index of workloads grouped by
// label identity, and address blocks are split only where a rule tells them apart.
package netpol
