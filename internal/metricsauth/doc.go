// Package metricsauth guards the operator's secure metrics endpoint: it authenticates a
// scraper's bearer token with a TokenReview and authorizes its request with a
// SubjectAccessReview, as controller-runtime's metrics filter does, but with client-go's two
// typed clients alone, so the manager does not link k8s.io/apiserver.
package metricsauth
