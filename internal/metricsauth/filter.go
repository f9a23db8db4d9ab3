package metricsauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/cache"
	"k8s.io/apimachinery/pkg/util/wait"
	authenticationv1client "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authorizationv1client "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// How long a review's answer is reused. Scrapers are few and scrape every few seconds, so
// these caches turn a scrape into zero API requests almost always.
const (
	// authenticatedTTL is controller-runtime's: a token that is revoked (its ServiceAccount
	// deleted) keeps scraping for at most a minute.
	authenticatedTTL = time.Minute
	// unauthenticatedTTL is shorter than controller-runtime's minute. A rejected token stays
	// rejected almost always, so caching the rejection only has to absorb a scraper that
	// retries with it; but a token can also be rejected before it is valid everywhere (an
	// API server replica that does not know a new signing key yet, a ServiceAccount its
	// cache has not seen), and then the scraper should not stay locked out for a minute.
	unauthenticatedTTL = 10 * time.Second
	// allowedTTL and deniedTTL are controller-runtime's: a revoked binding keeps scraping for
	// at most five minutes, and a new binding takes effect within 30 seconds.
	allowedTTL = 5 * time.Minute
	deniedTTL  = 30 * time.Second
	// cacheSize bounds each cache, so that a flood of distinct tokens costs requests to the
	// API server but no memory beyond this many entries.
	cacheSize = 1024
)

// WithAuthenticationAndAuthorization is a metricsserver.FilterProvider: its filter lets a
// request through to the metrics handler only when its bearer token passes a TokenReview
// (else 401) and its user may use the request's verb on its path by a SubjectAccessReview
// (else 403). A review that fails answers 500. The operator's ServiceAccount needs `create`
// on tokenreviews and subjectaccessreviews (config/rbac/metrics_auth_role.yaml); a scraper
// needs `get` on the nonResourceURL /metrics (config/rbac/metrics_reader_role.yaml).
func WithAuthenticationAndAuthorization(cfg *rest.Config, httpClient *http.Client) (metricsserver.Filter, error) {
	authn, err := authenticationv1client.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("failed to create the TokenReview client: %w", err)
	}
	authz, err := authorizationv1client.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("failed to create the SubjectAccessReview client: %w", err)
	}
	r := newReviewer(authn.TokenReviews(), authz.SubjectAccessReviews(), clock.RealClock{}, reviewBackoff)
	return r.filter, nil
}

// reviewer asks the API server who a token is and what its user may do, and remembers the
// answers for a while.
type reviewer struct {
	tokens    authenticationv1client.TokenReviewInterface
	access    authorizationv1client.SubjectAccessReviewInterface
	backoff   wait.Backoff
	users     *cache.LRUExpireCache // tokenKey -> authenticationv1.TokenReviewStatus
	decisions *cache.LRUExpireCache // decisionKey -> authorizationv1.SubjectAccessReviewStatus
}

func newReviewer(tokens authenticationv1client.TokenReviewInterface, access authorizationv1client.SubjectAccessReviewInterface,
	clk cache.Clock, backoff wait.Backoff) *reviewer {
	return &reviewer{
		tokens:    tokens,
		access:    access,
		backoff:   backoff,
		users:     cache.NewLRUExpireCacheWithClock(cacheSize, clk),
		decisions: cache.NewLRUExpireCacheWithClock(cacheSize, clk),
	}
}

// filter is the metricsserver.Filter: it wraps the metrics handler in the two checks.
func (r *reviewer) filter(log logr.Logger, next http.Handler) (http.Handler, error) {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		token, ok := bearerToken(req.Header)
		if !ok {
			log.V(4).Info("Request without a bearer token", "path", req.URL.Path)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		review, err := r.authenticate(req.Context(), token)
		if err != nil {
			log.Error(err, "TokenReview failed, answering 500", "path", req.URL.Path)
			http.Error(w, "Authentication failed", http.StatusInternalServerError)
			return
		}
		// A token the API server rejects is the scraper's fault: 401, logged at V(4).
		// (controller-runtime's filter answers 500 and logs an error, because the API
		// server's bearer token authenticator reports a rejected token as an error.)
		if !review.Authenticated {
			log.V(4).Info("Token rejected by the TokenReview", "path", req.URL.Path, "reason", review.Error)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		// The token has done its work; the metrics handler has no use for it.
		req.Header.Del("Authorization")

		spec := accessReviewSpec(review.User, req.Method, req.URL.Path)
		decision, err := r.authorize(req.Context(), spec)
		if err != nil {
			msg := fmt.Sprintf("Authorization for user %s failed", spec.User)
			log.Error(err, msg+", answering 500", "path", spec.NonResourceAttributes.Path, "verb", spec.NonResourceAttributes.Verb)
			http.Error(w, msg, http.StatusInternalServerError)
			return
		}
		if !decision.Allowed {
			msg := fmt.Sprintf("Authorization denied for user %s", spec.User)
			log.V(4).Info(msg, "path", spec.NonResourceAttributes.Path, "verb", spec.NonResourceAttributes.Verb, "reason", decision.Reason)
			http.Error(w, msg, http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, req)
	}), nil
}

// authenticate returns the TokenReview of token, from the cache or from the API server. A
// review that fails is not cached: the next request asks again.
func (r *reviewer) authenticate(ctx context.Context, token string) (authenticationv1.TokenReviewStatus, error) {
	key := tokenKey(token)
	if status, ok := r.users.Get(key); ok {
		return status.(authenticationv1.TokenReviewStatus), nil
	}
	// No audiences: the API server checks the token against its own, as for a request to it.
	review := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}
	var result *authenticationv1.TokenReview
	err := r.review(ctx, func(ctx context.Context) (err error) {
		result, err = r.tokens.Create(ctx, review, metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return authenticationv1.TokenReviewStatus{}, err
	}
	ttl := authenticatedTTL
	if !result.Status.Authenticated {
		ttl = unauthenticatedTTL
	}
	r.users.Add(key, result.Status, ttl)
	return result.Status, nil
}

// authorize returns the SubjectAccessReview of spec, from the cache or from the API server. A
// review that fails, or that both allows and denies, is an error and is not cached.
func (r *reviewer) authorize(ctx context.Context, spec authorizationv1.SubjectAccessReviewSpec) (authorizationv1.SubjectAccessReviewStatus, error) {
	key, err := decisionKey(spec)
	if err != nil {
		return authorizationv1.SubjectAccessReviewStatus{}, fmt.Errorf("failed to build the SubjectAccessReview's cache key: %w", err)
	}
	if status, ok := r.decisions.Get(key); ok {
		return status.(authorizationv1.SubjectAccessReviewStatus), nil
	}
	review := &authorizationv1.SubjectAccessReview{Spec: spec}
	var result *authorizationv1.SubjectAccessReview
	err = r.review(ctx, func(ctx context.Context) (err error) {
		result, err = r.access.Create(ctx, review, metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return authorizationv1.SubjectAccessReviewStatus{}, err
	}
	if result.Status.Allowed && result.Status.Denied {
		return authorizationv1.SubjectAccessReviewStatus{}, errors.New("the SubjectAccessReview both allowed and denied the request")
	}
	ttl := allowedTTL
	if !result.Status.Allowed {
		ttl = deniedTTL
	}
	r.decisions.Add(key, result.Status, ttl)
	return result.Status, nil
}

// review makes one review, its transient failures retried, within reviewTimeout.
func (r *reviewer) review(ctx context.Context, call func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, reviewTimeout)
	defer cancel()
	return withRetries(ctx, r.backoff, call)
}
