// Package e2e is the end-to-end suite: it runs the operator against a real cluster (by default
// the local kwok cluster that `make test-e2e` starts, or any KUBECONFIG) and checks what envtest
// cannot: pods rolling out, garbage collection, scaling by the HPA controller, namespace
// deletion, drift repair, crash recovery and leader election. Its files carry the build tag e2e.
package e2e
