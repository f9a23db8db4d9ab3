// Package roles checks, against a real kube-apiserver and etcd (envtest, no controllers), the
// ClusterRoles of config/rbac that are handed out to people: each user bound to one makes real
// requests, allowed and forbidden; and the auditor role grants exactly the kinds that
// `kubectl city audit` and `kubectl city connectivity` read live. It holds only tests:
// `make test-envtest`.
package roles
