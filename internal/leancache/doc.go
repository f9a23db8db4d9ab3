// Package leancache trims the objects the operator's informers keep to what its decisions
// read: managedFields only where a decision reads them, and of pods and the workloads the
// connectivity check reads, only labels, owners, container ports and failure states. A
// Deployment keeps a digest of the pod template it loses, so that the apply memo, which
// compares objects in the cache's form (Form), still sees drift. Cached objects with the same
// labels or selectors share one map (Share).
package leancache
