package metricsauth

import (
	"context"
	"io"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var _ = Describe("The secure metrics endpoint", func() {
	It("serves the metrics to a ServiceAccount bound to metrics-reader", func(ctx SpecContext) {
		token := serviceAccountToken(ctx, "prometheus")
		bind(ctx, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "prometheus", Namespace: monitoringNamespace}, "metrics-reader")

		code, body := scrape(ctx, "Bearer "+token)
		Expect(code).To(Equal(http.StatusOK), body)
		Expect(body).To(ContainSubstring(suiteMetric + " 1"))
	})

	It("refuses a ServiceAccount without the binding, naming it", func(ctx SpecContext) {
		token := serviceAccountToken(ctx, "unbound")

		code, body := scrape(ctx, "Bearer "+token)
		Expect(code).To(Equal(http.StatusForbidden), body)
		Expect(body).To(Equal("Authorization denied for user system:serviceaccount:monitoring:unbound\n"))
	})

	It("refuses a request without a token", func(ctx SpecContext) {
		code, body := scrape(ctx, "")
		Expect(code).To(Equal(http.StatusUnauthorized), body)
		Expect(body).To(Equal("Unauthorized\n"))
	})

	It("refuses a token the API server did not issue", func(ctx SpecContext) {
		code, body := scrape(ctx, "Bearer garbage")
		Expect(code).To(Equal(http.StatusUnauthorized), body)
		Expect(body).To(Equal("Unauthorized\n"))
	})
})

// scrape gets the metrics with the Authorization header auth (none when empty), and returns
// the status code and body.
func scrape(ctx context.Context, auth string) (int, string) {
	GinkgoHelper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	Expect(err).NotTo(HaveOccurred())
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := scraper.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp.StatusCode, string(body)
}

// serviceAccountToken creates the ServiceAccount name in monitoringNamespace and returns a
// token of it from the TokenRequest API, as a projected token of a scraper's pod would be.
func serviceAccountToken(ctx context.Context, name string) string {
	GinkgoHelper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: monitoringNamespace}}
	Expect(admin.Create(ctx, sa)).To(Succeed())
	req := &authenticationv1.TokenRequest{}
	Expect(admin.SubResource("token").Create(ctx, sa, req)).To(Succeed())
	Expect(req.Status.Token).NotTo(BeEmpty())
	return req.Status.Token
}

// bind binds subject to the ClusterRole role and returns once the API server authorizes the
// role's first rule for it (bindings take effect asynchronously, and the filter would cache
// an early denial for 30 seconds).
func bind(ctx context.Context, subject rbacv1.Subject, role string) {
	GinkgoHelper()
	Expect(admin.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: subject.Name + "-" + role},
		Subjects:   []rbacv1.Subject{subject},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
	})).To(Succeed())

	cr := &rbacv1.ClusterRole{}
	Expect(admin.Get(ctx, client.ObjectKey{Name: role}, cr)).To(Succeed())
	Expect(cr.Rules).NotTo(BeEmpty(), "ClusterRole %s has no rule", role)
	first := cr.Rules[0]
	spec := authorizationv1.SubjectAccessReviewSpec{User: subject.Name}
	if subject.Kind == rbacv1.ServiceAccountKind {
		spec.User = "system:serviceaccount:" + subject.Namespace + ":" + subject.Name
	}
	if len(first.NonResourceURLs) > 0 {
		spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: first.NonResourceURLs[0], Verb: first.Verbs[0]}
	} else {
		spec.ResourceAttributes = &authorizationv1.ResourceAttributes{Verb: first.Verbs[0], Group: first.APIGroups[0], Resource: first.Resources[0]}
	}
	Eventually(func(g Gomega) {
		sar := &authorizationv1.SubjectAccessReview{Spec: spec}
		g.Expect(admin.Create(ctx, sar)).To(Succeed())
		g.Expect(sar.Status.Allowed).To(BeTrue(), "the binding of %s to %s is not in effect yet", spec.User, role)
	}).Should(Succeed())
}
