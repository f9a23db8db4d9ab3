package controllers

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
	"github.com/smartcity-io/smartcity-operator/internal/version"
)

var _ = Describe("Metrics people alert on", func() {
	It("exports every metric and label the example PrometheusRule uses, and the series it alerts on", func() {
		// A service that converged, then a foreign allow-all makes it more open than declared;
		// another whose pods never become ready.
		open, starting := newNamespace(nil), newNamespace(nil)
		create(testutil.PublicService("vneid", open).Profile(platformv1alpha1.ProfileIdentityVerification).Obj())
		settle(open, "vneid", 3) // the profile's minimum replicas
		waitCondition(open, "vneid", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, platformv1alpha1.ReasonEffectiveMatchesIntent)
		create(&networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "allow-everything", Namespace: open},
			Spec: networkingv1.NetworkPolicySpec{
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress:     []networkingv1.NetworkPolicyIngressRule{{}},
			},
		})
		waitCondition(open, "vneid", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionFalse, platformv1alpha1.ReasonConnectivityMismatch)
		create(testutil.PublicService("forms", starting).Obj())
		waitCondition(starting, "forms", platformv1alpha1.ConditionReady, metav1.ConditionFalse, platformv1alpha1.ReasonNotReady)

		rules, err := readRules(filepath.Join("..", "config", "prometheus", "rule.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(rules).NotTo(BeEmpty())
		// The suite's other services may be in either state too: this spec's are, and only in theirs.
		alerted := map[string]string{"PublicServiceNotReady": starting + "/forms", "PublicServiceConnectivityNotVerified": open + "/vneid"}
		v := version.Get()
		Eventually(func(g Gomega) {
			scrape := scrapeOperator(g)
			g.Expect(checkRules(rules, scrape)).To(BeEmpty())
			for _, r := range rules {
				g.Expect(alerted).To(HaveKey(r.Alert))
				selected, err := selectedServices(r, scrape)
				g.Expect(err).NotTo(HaveOccurred())
				for alert, svc := range alerted {
					if alert == r.Alert {
						g.Expect(selected).To(ContainElement(svc), "%s", r.Alert)
					} else {
						g.Expect(selected).NotTo(ContainElement(svc), "%s", r.Alert)
					}
				}
			}
			// The build and the analysis times the connectivity controller observed.
			g.Expect(scrape).To(ContainElement(promSeries{"smartcity_build_info", map[string]string{
				"version": v.Version, "revision": v.Commit, "goversion": v.GoVersion}}))
			g.Expect(scrape).To(ContainElement(promSeries{"smartcity_connectivity_audit_duration_seconds_count", map[string]string{}}))
		}, timeout, interval).Should(Succeed())
		Expect(gauge("smartcity_publicservice_condition", "namespace", open, "name", "vneid",
			"condition", platformv1alpha1.ConditionReady, "status", "True")).To(Equal(1.0))
		Expect(histogramCount("smartcity_connectivity_audit_duration_seconds")).To(BeNumerically(">", 0))
	})
})

// scrapeOperator scrapes the suite's operator as Prometheus would: its city collector and
// controller-runtime's registry, over HTTP in the text format, and returns the series.
func scrapeOperator(g Gomega) []promSeries {
	srv := httptest.NewServer(promhttp.HandlerFor(prometheus.Gatherers{metricsRegistry, ctrlmetrics.Registry},
		promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	g.Expect(resp.Header.Get("Content-Type")).To(HavePrefix("text/plain"))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	g.Expect(err).NotTo(HaveOccurred())
	return scrapeSeries(families)
}

// histogramCount returns the number of observations of a histogram of the suite's registry.
func histogramCount(name string) uint64 {
	GinkgoHelper()
	families, err := metricsRegistry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	Fail("no histogram " + strings.TrimSpace(name))
	return 0
}
