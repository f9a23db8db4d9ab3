package metricsauth

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/scheme"
	authenticationv1client "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authorizationv1client "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
)

// The paths of the two reviews on the API server.
const (
	tokenReviewPath  = "/apis/authentication.k8s.io/v1/tokenreviews"
	accessReviewPath = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
)

// fakeAPIServer answers TokenReviews and SubjectAccessReviews like a small cluster: the
// token "alice-token" is alice's and "bob-token" is bob's, any other token is rejected, and
// only alice may get /metrics. It counts the reviews it receives, and answers the next ones
// of a kind with the HTTP status codes queued in fail, if any.
type fakeAPIServer struct {
	mu      sync.Mutex
	reviews map[string]int   // path -> reviews received
	fail    map[string][]int // path -> status codes to answer next, in turn
}

func (s *fakeAPIServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reviews[r.URL.Path]++
	var code int
	if q := s.fail[r.URL.Path]; len(q) > 0 {
		code, s.fail[r.URL.Path] = q[0], q[1:]
	}
	s.mu.Unlock()
	if code != 0 {
		status := metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure, Code: int32(code), Message: "injected"}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(status)
		return
	}
	switch r.URL.Path {
	case tokenReviewPath:
		review := &authenticationv1.TokenReview{}
		if !decode(w, r, review) {
			return
		}
		users := map[string]string{"alice-token": "alice", "bob-token": "bob"}
		if name, ok := users[review.Spec.Token]; ok {
			review.Status = authenticationv1.TokenReviewStatus{Authenticated: true,
				User: authenticationv1.UserInfo{Username: name, UID: name + "-uid", Groups: []string{"system:authenticated"}}}
		} else {
			review.Status = authenticationv1.TokenReviewStatus{Error: "invalid bearer token"}
		}
		encode(w, review)
	case accessReviewPath:
		review := &authorizationv1.SubjectAccessReview{}
		if !decode(w, r, review) {
			return
		}
		a := review.Spec.NonResourceAttributes
		review.Status.Allowed = review.Spec.User == "alice" && a != nil && a.Path == "/metrics" && a.Verb == "get"
		if !review.Status.Allowed {
			review.Status.Reason = "no RBAC policy matched"
		}
		encode(w, review)
	default:
		http.NotFound(w, r)
	}
}

// decode reads the review in the request, in whichever encoding the client chose (client-go's
// typed clients send Protobuf).
func decode(w http.ResponseWriter, r *http.Request, into runtime.Object) bool {
	body, err := io.ReadAll(r.Body)
	if err == nil {
		_, _, err = scheme.Codecs.UniversalDeserializer().Decode(body, nil, into)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
	}
	return err == nil
}

func encode(w http.ResponseWriter, obj any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(obj)
}

// count is the number of reviews of path the server received.
func (s *fakeAPIServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reviews[path]
}

// failNext makes the server answer the next reviews of path with codes, in turn.
func (s *fakeAPIServer) failNext(path string, codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[path] = append(s.fail[path], codes...)
}

// fixture is a filtered metrics handler in front of a fake API server, on a fake clock.
type fixture struct {
	api     *fakeAPIServer
	clock   *clocktesting.FakeClock
	handler http.Handler
	// seenAuthorization is the Authorization header the metrics handler last received.
	seenAuthorization string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		api:   &fakeAPIServer{reviews: map[string]int{}, fail: map[string][]int{}},
		clock: clocktesting.NewFakeClock(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)),
	}
	srv := httptest.NewServer(f.api)
	t.Cleanup(srv.Close)
	cfg := &rest.Config{Host: srv.URL}
	authn, err := authenticationv1client.NewForConfigAndClient(cfg, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	authz, err := authorizationv1client.NewForConfigAndClient(cfg, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	// The real backoff's shape and number of attempts, in milliseconds rather than seconds.
	fast := wait.Backoff{Duration: time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}
	r := newReviewer(authn.TokenReviews(), authz.SubjectAccessReviews(), f.clock, fast)
	metrics := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		f.seenAuthorization = req.Header.Get("Authorization")
		_, _ = io.WriteString(w, "city_metric 1\n")
	})
	f.handler, err = r.filter(testr.New(t), metrics)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// scrape sends method path with the Authorization header auth (none when empty) and returns
// the status code and body.
func (f *fixture) scrape(method, path, auth string) (int, string) {
	req := httptest.NewRequest(method, path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec.Code, strings.TrimSpace(rec.Body.String())
}

func TestFilterAnswers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		method   string
		path     string
		auth     string
		wantCode int
		wantBody string
	}{
		{name: "alice gets the metrics", method: http.MethodGet, path: "/metrics", auth: "Bearer alice-token",
			wantCode: http.StatusOK, wantBody: "city_metric 1"},
		{name: "no token", method: http.MethodGet, path: "/metrics", wantCode: http.StatusUnauthorized, wantBody: "Unauthorized"},
		{name: "another scheme", method: http.MethodGet, path: "/metrics", auth: "Basic YWxpY2U6eA==",
			wantCode: http.StatusUnauthorized, wantBody: "Unauthorized"},
		{name: "a garbage token", method: http.MethodGet, path: "/metrics", auth: "Bearer garbage",
			wantCode: http.StatusUnauthorized, wantBody: "Unauthorized"},
		{name: "bob may not get the metrics", method: http.MethodGet, path: "/metrics", auth: "Bearer bob-token",
			wantCode: http.StatusForbidden, wantBody: "Authorization denied for user bob"},
		{name: "alice may get /metrics only", method: http.MethodGet, path: "/debug", auth: "Bearer alice-token",
			wantCode: http.StatusForbidden, wantBody: "Authorization denied for user alice"},
		{name: "alice may not post", method: http.MethodPost, path: "/metrics", auth: "Bearer alice-token",
			wantCode: http.StatusForbidden, wantBody: "Authorization denied for user alice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			code, body := f.scrape(tc.method, tc.path, tc.auth)
			if code != tc.wantCode || body != tc.wantBody {
				t.Errorf("%s %s with %q: %d %q, want %d %q", tc.method, tc.path, tc.auth, code, body, tc.wantCode, tc.wantBody)
			}
			if f.seenAuthorization != "" {
				t.Errorf("the metrics handler received the token: %q", f.seenAuthorization)
			}
		})
	}
}

// TestFilterCaches scrapes twice, the clock moved on by wait in between, and counts the reviews
// the second scrape made.
func TestFilterCaches(t *testing.T) {
	for _, tc := range []struct {
		name         string
		auth         string
		wait         time.Duration
		wantCode     int
		wantTokenRev int // TokenReviews of the second scrape
		wantSAR      int // SubjectAccessReviews of the second scrape
	}{
		{name: "allowed, again at once", auth: "Bearer alice-token", wait: 0, wantCode: http.StatusOK},
		{name: "allowed, within both TTLs", auth: "Bearer alice-token", wait: 59 * time.Second, wantCode: http.StatusOK},
		{name: "allowed, the token review expired, the decision not", auth: "Bearer alice-token", wait: 61 * time.Second,
			wantCode: http.StatusOK, wantTokenRev: 1},
		{name: "allowed, both expired", auth: "Bearer alice-token", wait: 5*time.Minute + time.Second,
			wantCode: http.StatusOK, wantTokenRev: 1, wantSAR: 1},
		{name: "denied, within the TTLs", auth: "Bearer bob-token", wait: 29 * time.Second, wantCode: http.StatusForbidden},
		{name: "denied, the decision expired", auth: "Bearer bob-token", wait: 31 * time.Second,
			wantCode: http.StatusForbidden, wantSAR: 1},
		{name: "rejected token, within its TTL", auth: "Bearer garbage", wait: 9 * time.Second, wantCode: http.StatusUnauthorized},
		{name: "rejected token, its TTL expired", auth: "Bearer garbage", wait: 11 * time.Second,
			wantCode: http.StatusUnauthorized, wantTokenRev: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if code, body := f.scrape(http.MethodGet, "/metrics", tc.auth); code != tc.wantCode {
				t.Fatalf("first scrape: %d %q, want %d", code, body, tc.wantCode)
			}
			tokens, decisions := f.api.count(tokenReviewPath), f.api.count(accessReviewPath)
			if tokens != 1 {
				t.Fatalf("the first scrape made %d TokenReviews, want 1", tokens)
			}
			f.clock.Step(tc.wait)
			if code, body := f.scrape(http.MethodGet, "/metrics", tc.auth); code != tc.wantCode {
				t.Fatalf("second scrape: %d %q, want %d", code, body, tc.wantCode)
			}
			if got := f.api.count(tokenReviewPath) - tokens; got != tc.wantTokenRev {
				t.Errorf("the second scrape made %d TokenReviews, want %d", got, tc.wantTokenRev)
			}
			if got := f.api.count(accessReviewPath) - decisions; got != tc.wantSAR {
				t.Errorf("the second scrape made %d SubjectAccessReviews, want %d", got, tc.wantSAR)
			}
		})
	}
	t.Run("another token of the same user shares the decision", func(t *testing.T) {
		f := newFixture(t)
		f.scrape(http.MethodGet, "/metrics", "Bearer alice-token")
		f.scrape(http.MethodGet, "/metrics", "Bearer bob-token")
		f.scrape(http.MethodGet, "/debug", "Bearer alice-token")
		if got := f.api.count(accessReviewPath); got != 3 {
			t.Errorf("three distinct questions made %d SubjectAccessReviews, want 3", got)
		}
	})
}

// TestFilterRetries makes the fake API server fail the first reviews and checks what the scraper
// gets and how many reviews were made.
func TestFilterRetries(t *testing.T) {
	for _, tc := range []struct {
		name         string
		path         string // the review that fails
		codes        []int  // its first answers
		wantCode     int
		wantBody     string
		wantReviews  int // of path
		wantAfterFix int // the reviews of path of the next scrape, once the server answers again
	}{
		{name: "a TokenReview's 500 is retried", path: tokenReviewPath, codes: []int{500},
			wantCode: http.StatusOK, wantBody: "city_metric 1", wantReviews: 2},
		{name: "a TokenReview's 429 and 503 are retried", path: tokenReviewPath, codes: []int{429, 503},
			wantCode: http.StatusOK, wantBody: "city_metric 1", wantReviews: 3},
		{name: "a TokenReview's 403 is not retried, nor cached", path: tokenReviewPath, codes: []int{403},
			wantCode: http.StatusInternalServerError, wantBody: "Authentication failed", wantReviews: 1, wantAfterFix: 1},
		{name: "a TokenReview failing five times gives up", path: tokenReviewPath, codes: []int{500, 500, 500, 500, 500},
			wantCode: http.StatusInternalServerError, wantBody: "Authentication failed", wantReviews: 5, wantAfterFix: 1},
		{name: "a SubjectAccessReview's 500 is retried", path: accessReviewPath, codes: []int{500},
			wantCode: http.StatusOK, wantBody: "city_metric 1", wantReviews: 2},
		{name: "a SubjectAccessReview's 403 is not retried, nor cached", path: accessReviewPath, codes: []int{403},
			wantCode: http.StatusInternalServerError, wantBody: "Authorization for user alice failed", wantReviews: 1, wantAfterFix: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.api.failNext(tc.path, tc.codes...)
			code, body := f.scrape(http.MethodGet, "/metrics", "Bearer alice-token")
			if code != tc.wantCode || body != tc.wantBody {
				t.Errorf("scrape: %d %q, want %d %q", code, body, tc.wantCode, tc.wantBody)
			}
			reviews := f.api.count(tc.path)
			if reviews != tc.wantReviews {
				t.Errorf("%d reviews of %s, want %d", reviews, tc.path, tc.wantReviews)
			}
			if code, body := f.scrape(http.MethodGet, "/metrics", "Bearer alice-token"); code != http.StatusOK {
				t.Errorf("scrape once the API server answers: %d %q, want 200", code, body)
			}
			if got := f.api.count(tc.path) - reviews; got != tc.wantAfterFix {
				t.Errorf("the scrape once the API server answers made %d reviews of %s, want %d", got, tc.path, tc.wantAfterFix)
			}
		})
	}
}
