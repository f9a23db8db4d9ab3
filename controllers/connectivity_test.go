package controllers

import (
	"bytes"
	"io"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

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
		waitCondition(ns, "vneid", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, platformv1alpha1.ReasonConnectivityVerified)
		waitCondition(ns, "forms", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, platformv1alpha1.ReasonConnectivityVerified)

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
		waitCondition(ns, "vneid", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, platformv1alpha1.ReasonConnectivityVerified)
	})

	It("exports services per condition and violations as Prometheus metrics", func() {
		ns := newNamespace(nil)
		create(testutil.PublicService("vneid", ns).Profile(platformv1alpha1.ProfileIdentityVerification).Obj())
		waitCondition(ns, "vneid", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, platformv1alpha1.ReasonConnectivityVerified)
		before := gauge("smartcity_connectivity_violations", "kind", string(audit.TooOpen))
		create(&networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "allow-everything", Namespace: ns},
			Spec: networkingv1.NetworkPolicySpec{
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress:     []networkingv1.NetworkPolicyIngressRule{{}},
			},
		})
		waitCondition(ns, "vneid", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionFalse, platformv1alpha1.ReasonConnectivityMismatch)
		Eventually(func() float64 { return gauge("smartcity_connectivity_violations", "kind", string(audit.TooOpen)) },
			timeout, interval).Should(BeNumerically(">", before))
		Expect(gauge("smartcity_publicservices", "condition", platformv1alpha1.ConditionConnectivityVerified, "status", "False")).
			To(BeNumerically(">=", 1))
	})

	It("gives the same report live (the operator's objects in the API server) as offline (the manifests)", func() {
		samples := filepath.Join("..", "config", "samples")
		for _, obj := range sampleObjects(samples) {
			Expect(k8sClient.Create(ctx, obj)).To(Succeed(), "creating %s %s", obj.GetKind(), obj.GetName())
		}
		for _, s := range [][2]string{{"city-portal", "portal"}, {"city-identity", "vneid"}, {"city-health", "checkin"}} {
			waitCondition(s[0], s[1], platformv1alpha1.ConditionNetworkIsolated, metav1.ConditionTrue, platformv1alpha1.ReasonPolicyApplied)
			waitCondition(s[0], s[1], platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionTrue, platformv1alpha1.ReasonDependenciesSatisfied)
			waitCondition(s[0], s[1], platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, platformv1alpha1.ReasonConnectivityVerified)
		}
		// The suite's operator runs with these options; the offline audit must render alike.
		opts := audit.Options{Render: render.Options{IngressClass: "city", ZoneServiceType: "NodePort"}}
		offline, err := audit.AuditFiles([]string{samples}, false, opts)
		Expect(err).NotTo(HaveOccurred())
		var live *audit.Report
		Eventually(func(g Gomega) {
			model, err := audit.ReadCluster(ctx, k8sClient)
			g.Expect(err).NotTo(HaveOccurred())
			live, err = audit.Analyze(model.Within("city-portal", "city-identity", "city-health", "kube-system", "ingress-nginx"), opts)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(live.Flows).To(Equal(offline.Flows))
		}, timeout, interval).Should(Succeed())
		Expect(offline.Clean()).To(BeTrue(), "the sample city has violations: %v", offline.Violations)
		Expect(live.Violations).To(Equal(offline.Violations))
		Expect(live.Services).To(Equal(offline.Services))
		Expect(live.ManagedNamespaces).To(Equal(offline.ManagedNamespaces))
	})
})

// sampleObjects reads every object of the sample city's manifests.
func sampleObjects(dir string) []*unstructured.Unstructured {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	Expect(err).NotTo(HaveOccurred())
	var out []*unstructured.Unstructured
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		raw, err := os.ReadFile(f)
		Expect(err).NotTo(HaveOccurred())
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
		for {
			u := &unstructured.Unstructured{}
			if err := dec.Decode(&u.Object); err == io.EOF {
				break
			} else {
				Expect(err).NotTo(HaveOccurred(), f)
			}
			if len(u.Object) > 0 {
				out = append(out, u)
			}
		}
	}
	// Namespaces first, then zones, then services.
	rank := map[string]int{"Namespace": 0, "NetworkZone": 1, "PublicService": 2}
	sorted := make([]*unstructured.Unstructured, 0, len(out))
	for r := range 3 {
		for _, u := range out {
			if rank[u.GetKind()] == r {
				sorted = append(sorted, u)
			}
		}
	}
	return sorted
}

// gauge returns the value of a gauge of the controller-runtime registry with these labels
// (name, value pairs), or 0.
func gauge(name string, labels ...string) float64 {
	families, err := metrics.Registry.Gather()
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
