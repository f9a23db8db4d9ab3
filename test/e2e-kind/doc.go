// Package e2ekind proves the sample city's isolation on a real kind cluster with real traffic:
// for every flow it compares the declared intent, the audit engine's verdict on the live cluster
// and what a probe observes. Its tests carry the build tag e2e (as test/e2e); hack/kind/e2e.sh (make
// test-e2e-kind) creates the cluster, deploys the operator and the city, and runs them.
package e2ekind
