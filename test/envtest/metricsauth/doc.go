// Package metricsauth checks, against a real kube-apiserver and etcd (envtest, RBAC
// authorization), the filter of the operator's secure metrics endpoint (internal/metricsauth):
// a controller-runtime metrics server, run with the operator's metrics-auth-role only, serves
// a ServiceAccount bound to metrics-reader and refuses everyone else. It holds only tests:
// `make test-envtest`.
package metricsauth
