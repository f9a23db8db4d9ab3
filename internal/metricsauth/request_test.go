package metricsauth

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
)

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header string
		want   string
		wantOK bool
	}{
		{name: "no header", header: "", wantOK: false},
		{name: "a token", header: "Bearer abc.def", want: "abc.def", wantOK: true},
		{name: "the scheme in any case", header: "bEaReR abc", want: "abc", wantOK: true},
		{name: "surrounding spaces", header: "  Bearer abc  ", want: "abc", wantOK: true},
		{name: "anything after the token is ignored", header: "Bearer abc trailing", want: "abc", wantOK: true},
		{name: "another scheme", header: "Basic YWxpY2U6c2VjcmV0", wantOK: false},
		{name: "the scheme alone", header: "Bearer", wantOK: false},
		{name: "two spaces before the token", header: "Bearer  abc", wantOK: false},
		{name: "a token alone", header: "abc", wantOK: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("Authorization", tc.header)
			}
			got, ok := bearerToken(h)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("bearerToken(%q) = %q, %v; want %q, %v", tc.header, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestTokenKey(t *testing.T) {
	const token = "eyJhbGciOiJSUzI1NiJ9.secret"
	key := tokenKey(token)
	// SHA-256 of the empty string, so the key is the hash and nothing else.
	if got, want := tokenKey(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; got != want {
		t.Errorf("tokenKey(\"\") = %s, want %s", got, want)
	}
	if strings.Contains(key, "secret") || strings.Contains(key, token) {
		t.Errorf("tokenKey(%q) = %s holds the token", token, key)
	}
	if key != tokenKey(token) {
		t.Errorf("tokenKey is not stable: %s, then %s", key, tokenKey(token))
	}
	if key == tokenKey(token+"x") {
		t.Errorf("two tokens share the key %s", key)
	}
}

func TestAccessReviewSpec(t *testing.T) {
	alice := authenticationv1.UserInfo{
		Username: "system:serviceaccount:monitoring:prometheus",
		UID:      "1234",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:monitoring"},
		Extra:    map[string]authenticationv1.ExtraValue{"authentication.kubernetes.io/pod-name": {"prometheus-0"}},
	}
	for _, tc := range []struct {
		name   string
		user   authenticationv1.UserInfo
		method string
		path   string
		want   authorizationv1.SubjectAccessReviewSpec
	}{{
		name: "a ServiceAccount scrapes /metrics", user: alice, method: http.MethodGet, path: "/metrics",
		want: authorizationv1.SubjectAccessReviewSpec{
			User:                  "system:serviceaccount:monitoring:prometheus",
			UID:                   "1234",
			Groups:                []string{"system:serviceaccounts", "system:serviceaccounts:monitoring", "system:authenticated"},
			Extra:                 map[string]authorizationv1.ExtraValue{"authentication.kubernetes.io/pod-name": {"prometheus-0"}},
			NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"},
		},
	}, {
		name:   "system:authenticated is not added twice; the verb is the lowercased method",
		user:   authenticationv1.UserInfo{Username: "bob", Groups: []string{"system:authenticated"}},
		method: http.MethodPost, path: "/metrics/extra",
		want: authorizationv1.SubjectAccessReviewSpec{
			User:                  "bob",
			Groups:                []string{"system:authenticated"},
			NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: "/metrics/extra", Verb: "post"},
		},
	}, {
		name: "a user with no groups", user: authenticationv1.UserInfo{Username: "carol"}, method: http.MethodHead, path: "/",
		want: authorizationv1.SubjectAccessReviewSpec{
			User:                  "carol",
			Groups:                []string{"system:authenticated"},
			NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: "/", Verb: "head"},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			before := *tc.user.DeepCopy()
			got := accessReviewSpec(tc.user, tc.method, tc.path)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("accessReviewSpec (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tc.user); diff != "" {
				t.Errorf("accessReviewSpec changed its input (-before +after):\n%s", diff)
			}
		})
	}
}

func TestDecisionKey(t *testing.T) {
	base := func() authorizationv1.SubjectAccessReviewSpec {
		return authorizationv1.SubjectAccessReviewSpec{
			User: "alice", UID: "1", Groups: []string{"a", "system:authenticated"},
			Extra:                 map[string]authorizationv1.ExtraValue{"k1": {"v"}, "k2": {"w"}},
			NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"},
		}
	}
	key := func(spec authorizationv1.SubjectAccessReviewSpec) string {
		t.Helper()
		k, err := decisionKey(spec)
		if err != nil {
			t.Fatalf("decisionKey: %v", err)
		}
		return k
	}
	want := key(base())
	for range 10 {
		// The extra map is built afresh each time, so its iteration order varies.
		if got := key(base()); got != want {
			t.Fatalf("equal specs give different keys:\n%s\n%s", want, got)
		}
	}
	for name, change := range map[string]func(*authorizationv1.SubjectAccessReviewSpec){
		"user":   func(s *authorizationv1.SubjectAccessReviewSpec) { s.User = "bob" },
		"uid":    func(s *authorizationv1.SubjectAccessReviewSpec) { s.UID = "2" },
		"groups": func(s *authorizationv1.SubjectAccessReviewSpec) { s.Groups = append(s.Groups, "admins") },
		"extra":  func(s *authorizationv1.SubjectAccessReviewSpec) { s.Extra["k1"] = authorizationv1.ExtraValue{"x"} },
		"path":   func(s *authorizationv1.SubjectAccessReviewSpec) { s.NonResourceAttributes.Path = "/healthz" },
		"verb":   func(s *authorizationv1.SubjectAccessReviewSpec) { s.NonResourceAttributes.Verb = "post" },
	} {
		t.Run(name, func(t *testing.T) {
			spec := base()
			change(&spec)
			if key(spec) == want {
				t.Errorf("specs that differ in their %s share the key %s", name, want)
			}
		})
	}
}
