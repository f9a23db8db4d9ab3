// Package validation checks, against a real kube-apiserver and etcd (envtest, no controllers),
// that every validation rule of the PublicService and NetworkZone CRDs accepts what it should and
// rejects what it should, with a message a person can act on. It holds only tests: `make test-envtest`.
package validation
