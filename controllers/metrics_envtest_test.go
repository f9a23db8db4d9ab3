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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
	"github.com/smartcity-io/smartcity-operator/internal/version"
)

var _ = Describe("Metrics people alert on", func() {
	It("exports every metric and label the example PrometheusRule uses, once a service converged", func() {
		ns := newNamespace(nil)
		create(testutil.PublicService("vneid", ns).Profile(platformv1alpha1.ProfileIdentityVerification).Obj())
		settle(ns, "vneid", 3) // the profile's minimum replicas
		waitCondition(ns, "vneid", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, platformv1alpha1.ReasonEffectiveMatchesIntent)

		rules, err := readRules(filepath.Join("..", "config", "prometheus", "rule.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(rules).NotTo(BeEmpty())
		v := version.Get()
		Eventually(func(g Gomega) {
			scrape := scrapeOperator(g)
			g.Expect(checkRules(rules, scrape)).To(BeEmpty())
			// This service's series, the build and the analysis times the connectivity controller observed.
			g.Expect(scrape).To(ContainElement(series{"smartcity_publicservice_condition", map[string]string{
				"namespace": ns, "name": "vneid", "condition": platformv1alpha1.ConditionConnectivityVerified, "status": "True"}}))
			g.Expect(scrape).To(ContainElement(series{"smartcity_build_info", map[string]string{
				"version": v.Version, "revision": v.Commit, "goversion": v.GoVersion}}))
			g.Expect(scrape).To(ContainElement(series{"smartcity_connectivity_audit_duration_seconds_count", map[string]string{}}))
		}, timeout, interval).Should(Succeed())
		Expect(gauge("smartcity_publicservice_condition", "namespace", ns, "name", "vneid",
			"condition", platformv1alpha1.ConditionReady, "status", "True")).To(Equal(1.0))
		Expect(histogramCount("smartcity_connectivity_audit_duration_seconds")).To(BeNumerically(">", 0))
	})
})

// scrapeOperator scrapes the suite's operator as Prometheus would: its city collector and
// controller-runtime's registry, over HTTP in the text format, and returns the series.
func scrapeOperator(g Gomega) []series {
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
