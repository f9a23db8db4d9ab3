package controllers

import (
	"fmt"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	promtestutil "github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/audit"
	"github.com/smartcity-io/smartcity-operator/internal/render"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

var _ = Describe("ConnectivityVerified", func() {
	It("is True when the effective flows equal the intent, False naming a foreign allow-all, and True again once it is gone", func() {
		ns := newNamespace(nil)
		create(testutil.PublicService("vneid", ns).Profile(platformv1alpha1.ProfileIdentityVerification).AllowFromService("forms", "").Obj())
		create(testutil.PublicService("forms", ns).Consumes("vneid", "").Obj())
		waitCondition(ns, "vneid", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, platformv1alpha1.ReasonEffectiveMatchesIntent)
		waitCondition(ns, "forms", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, platformv1alpha1.ReasonEffectiveMatchesIntent)

		allowAll := &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "allow-everything", Namespace: ns},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress:     []networkingv1.NetworkPolicyIngressRule{{}},
			},
		}
		create(allowAll)
		Eventually(condition(ns, "vneid", platformv1alpha1.ConditionConnectivityVerified), timeout, interval).Should(And(
			haveCondition(metav1.ConditionFalse, platformv1alpha1.ReasonConnectivityMismatch),
			HaveField("Message", ContainSubstring("extra ingress"))))
		// Not part of Ready: an audit finding never takes a service down.
		Expect(condition(ns, "vneid", platformv1alpha1.ConditionNetworkIsolated)()).To(
			haveCondition(metav1.ConditionTrue, platformv1alpha1.ReasonPolicyApplied))

		Expect(k8sClient.Delete(ctx, allowAll)).To(Succeed())
		waitCondition(ns, "vneid", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, platformv1alpha1.ReasonEffectiveMatchesIntent)
	})

	It("exports services per condition and violations as Prometheus metrics", func() {
		Expect(promtestutil.CollectAndLint(collector)).To(BeEmpty())
		// Every condition and status, and every violation kind, is exported, zero or not.
		Expect(promtestutil.CollectAndCount(collector, "smartcity_publicservices")).To(Equal(5 * 3))
		Expect(promtestutil.CollectAndCount(collector, "smartcity_connectivity_violations")).To(Equal(4))

		ns := newNamespace(nil)
		create(testutil.PublicService("vneid", ns).Profile(platformv1alpha1.ProfileIdentityVerification).Obj())
		waitCondition(ns, "vneid", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, platformv1alpha1.ReasonEffectiveMatchesIntent)
		// The suite's other services share the gauges: compare with their values before.
		tooOpen := func() float64 { return gauge("smartcity_connectivity_violations", "kind", string(audit.TooOpen)) }
		unverified := func() float64 {
			return gauge("smartcity_publicservices", "condition", platformv1alpha1.ConditionConnectivityVerified, "status", "False")
		}
		tooOpenBefore, unverifiedBefore := tooOpen(), unverified()
		create(&networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "allow-everything", Namespace: ns},
			Spec: networkingv1.NetworkPolicySpec{
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress:     []networkingv1.NetworkPolicyIngressRule{{}},
			},
		})
		waitCondition(ns, "vneid", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionFalse, platformv1alpha1.ReasonConnectivityMismatch)
		Eventually(tooOpen, timeout, interval).Should(BeNumerically(">", tooOpenBefore))
		Eventually(unverified, timeout, interval).Should(BeNumerically(">", unverifiedBefore))
	})

	It("gives the same report live (the operator's objects in the API server) as offline (the manifests)", func() {
		samples := filepath.Join("..", "config", "samples")
		for _, obj := range sampleObjects(samples) {
			Expect(k8sClient.Create(ctx, obj)).To(Succeed(), "creating %T %s", obj, obj.GetName())
		}
		for _, s := range [][2]string{{"city-portal", "portal"}, {"city-identity", "vneid"}, {"city-health", "checkin"}} {
			waitCondition(s[0], s[1], platformv1alpha1.ConditionNetworkIsolated, metav1.ConditionTrue, platformv1alpha1.ReasonPolicyApplied)
			waitCondition(s[0], s[1], platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionTrue, platformv1alpha1.ReasonDependenciesSatisfied)
			waitCondition(s[0], s[1], platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, platformv1alpha1.ReasonEffectiveMatchesIntent)
		}
		// The suite's operator runs with these options; the offline audit must render alike.
		opts := audit.Options{Render: render.Options{IngressClass: "city", ZoneServiceType: "NodePort"}}
		offline, err := audit.AuditFiles([]string{samples}, false, opts)
		Expect(err).NotTo(HaveOccurred())
		var live *audit.Report
		Eventually(func(g Gomega) {
			// What the connectivity controller reads: the namespaces of the services' flows.
			model, err := audit.ReadNamespaces(ctx, k8sClient, "city-portal", "city-identity", "city-health", "kube-system", "ingress-nginx")
			g.Expect(err).NotTo(HaveOccurred())
			live, err = audit.Analyze(model, opts)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(live.Flows).To(Equal(offline.Flows))
		}, timeout, interval).Should(Succeed())
		Expect(offline.Clean()).To(BeTrue(), "the sample city has violations: %v", offline.Violations)
		Expect(live.Violations).To(Equal(offline.Violations))
		Expect(live.Services).To(Equal(offline.Services))
		Expect(live.ManagedNamespaces).To(Equal(offline.ManagedNamespaces))
	})
})

// sampleObjects reads the sample city's manifests with the audit's reader: namespaces
// first, then zones, then services.
func sampleObjects(dir string) []client.Object {
	m, err := audit.ReadFiles([]string{dir}, false, nil)
	Expect(err).NotTo(HaveOccurred())
	out := make([]client.Object, 0, len(m.Namespaces)+len(m.NetworkZones)+len(m.PublicServices))
	for i := range m.Namespaces {
		out = append(out, &m.Namespaces[i])
	}
	for i := range m.NetworkZones {
		out = append(out, &m.NetworkZones[i])
	}
	for i := range m.PublicServices {
		out = append(out, &m.PublicServices[i])
	}
	Expect(out).To(HaveLen(8), "the sample city has 3 namespaces, 2 zones and 3 services")
	return out
}

// gauge returns the value of a gauge of the suite's registry with these labels (name, value
// pairs), failing when there is no such gauge.
func gauge(name string, labels ...string) float64 {
	GinkgoHelper()
	families, err := metricsRegistry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, labels) {
				return m.GetGauge().GetValue()
			}
		}
	}
	Fail(fmt.Sprintf("no gauge %s%v", name, labels))
	return 0
}

func hasLabels(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}
