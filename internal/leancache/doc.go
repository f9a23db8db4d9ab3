// Package leancache trims the objects the operator's informers keep to what its decisions
// read: managedFields only where a decision reads them, and of pods and the workloads the
// connectivity check reads, only labels, owners, container ports and failure states.
package leancache
