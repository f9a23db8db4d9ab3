package metricsauth

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
)

// authenticatedGroup is the group every authenticated user belongs to. The API server adds it
// to the users it authenticates itself, and so does the filter, so that a binding to
// system:authenticated means the same here as there.
const authenticatedGroup = "system:authenticated"

// bearerToken returns the token of an `Authorization: Bearer <token>` header, and false when
// the header is missing, names another scheme or carries an empty token. As in the API server,
// the scheme is case-insensitive and one space separates it from the token; anything after a
// further space is ignored.
func bearerToken(h http.Header) (string, bool) {
	scheme, rest, found := strings.Cut(strings.TrimSpace(h.Get("Authorization")), " ")
	if !found || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	token, _, _ := strings.Cut(rest, " ")
	return token, token != ""
}

// tokenKey is the key of a token's review in the cache: its SHA-256, so that the cache, a heap
// dump or a debugger never holds a usable credential.
func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// accessReviewSpec is the SubjectAccessReview of a request to path with the HTTP method by the
// user a TokenReview returned: a non-resource request whose verb is the lowercased method, as
// the API server authorizes its own non-resource paths (a scraper's GET /metrics needs `get`
// on the nonResourceURL /metrics). The user's groups gain system:authenticated when the
// review did not list it; the user's fields are copied, never shared.
func accessReviewSpec(u authenticationv1.UserInfo, method, path string) authorizationv1.SubjectAccessReviewSpec {
	groups := slices.Clone(u.Groups)
	if !slices.Contains(groups, authenticatedGroup) {
		groups = append(groups, authenticatedGroup)
	}
	var extra map[string]authorizationv1.ExtraValue
	if len(u.Extra) > 0 {
		extra = make(map[string]authorizationv1.ExtraValue, len(u.Extra))
		for k, v := range u.Extra {
			extra[k] = authorizationv1.ExtraValue(slices.Clone(v))
		}
	}
	return authorizationv1.SubjectAccessReviewSpec{
		User:   u.Username,
		UID:    u.UID,
		Groups: groups,
		Extra:  extra,
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{
			Path: path,
			Verb: strings.ToLower(method),
		},
	}
}

// decisionKey is the key of an access decision in the cache: the whole review spec (user,
// uid, groups, extra, path and verb), so that two requests share a decision only when the API
// server would be asked the same question. encoding/json writes map keys sorted, so equal
// specs give equal keys.
func decisionKey(spec authorizationv1.SubjectAccessReviewSpec) (string, error) {
	b, err := json.Marshal(spec)
	return string(b), err
}
