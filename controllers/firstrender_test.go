package controllers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// The suite runs with --first-render-hold at its default: a new service's first render waits
// while services keep arriving, for what its first policy would miss (firstrender.go).
var _ = Describe("First render while a city arrives", func() {
	var nsA, nsB string

	BeforeEach(func() {
		nsA, nsB = newNamespace(nil), newNamespace(nil)
	})

	policy := func(ns, name string) func() *networkingv1.NetworkPolicy {
		return live(ns, name, func() *networkingv1.NetworkPolicy { return &networkingv1.NetworkPolicy{} })
	}
	// holding reports whether the suite's controller holds the service's first render now.
	holding := func(ns, name string) func() bool {
		return func() bool {
			a := &serviceReconciler.arrivals
			a.mu.Lock()
			defer a.mu.Unlock()
			st, ok := a.held[types.NamespacedName{Namespace: ns, Name: name}]
			return ok && !st.released
		}
	}
	// ingressPeers lists the peers of every ingress rule of a policy.
	ingressPeers := func(np *networkingv1.NetworkPolicy) []networkingv1.NetworkPolicyPeer {
		var out []networkingv1.NetworkPolicyPeer
		for _, rule := range np.Spec.Ingress {
			out = append(out, rule.From...)
		}
		return out
	}
	egressPeers := func(np *networkingv1.NetworkPolicy) []networkingv1.NetworkPolicyPeer {
		var out []networkingv1.NetworkPolicyPeer
		for _, rule := range np.Spec.Egress {
			out = append(out, rule.To...)
		}
		return out
	}

	It("writes a consumer's policy once, with its flow, when the provider arrives after it", func() {
		create(testutil.PublicService("a", nsA).Consumes("b", nsB).Obj())
		// The provider arrives once the consumer waits for it, as in one kubectl apply of a city.
		Eventually(holding(nsA, "a"), timeout, interval).Should(BeTrue(), "the consumer's first render waits for the provider it names")
		Expect(policy(nsA, "a")()).To(BeNil())
		create(testutil.PublicService("b", nsB).AllowFromService("a", nsA).Obj())

		Eventually(policy(nsA, "a"), timeout, interval).ShouldNot(BeNil())
		a := policy(nsA, "a")()
		Expect(egressPeers(a)).To(ContainElement(servicePeer(nsB, "b")), "the first policy already has the flow")
		Expect(a.Generation).To(BeEquivalentTo(1), "the policy was written once")
		Eventually(policy(nsB, "b"), timeout, interval).Should(
			WithTransform(ingressPeers, ContainElement(servicePeer(nsA, "a"))))
		Expect(policy(nsB, "b")().Generation).To(BeEquivalentTo(1))
		waitCondition(nsA, "a", platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionTrue,
			platformv1alpha1.ReasonDependenciesSatisfied)
	})

	It("writes a provider's policy once when the consumers of a namespace it admits arrive after it", func() {
		create(testutil.PublicService("hub", nsB).AllowFromNamespace(nsA).Obj())
		Eventually(holding(nsB, "hub"), timeout, interval).Should(BeTrue(), "the hub waits while services arrive")
		consumers := []string{"c1", "c2", "c3"}
		peers := make([]any, 0, len(consumers))
		for _, name := range consumers {
			create(testutil.PublicService(name, nsA).Consumes("hub", nsB).Obj())
			peers = append(peers, servicePeer(nsA, name))
		}

		Eventually(policy(nsB, "hub"), timeout, interval).ShouldNot(BeNil())
		hub := policy(nsB, "hub")()
		Expect(ingressPeers(hub)).To(ContainElements(peers...), "the first policy admits every consumer")
		Expect(hub.Generation).To(BeEquivalentTo(1), "the policy was written once")
	})

	It("renders a service whose peer never comes once the city has arrived", func() {
		create(testutil.PublicService("a", nsA).Consumes("nobody", nsB).Obj())

		waitCondition(nsA, "a", platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionFalse,
			platformv1alpha1.ReasonDependencyNotFound)
		Expect(policy(nsA, "a")()).NotTo(BeNil(), "rendered without the missing peer, failing closed")
		Expect(egressPeers(policy(nsA, "a")())).NotTo(ContainElement(servicePeer(nsB, "nobody")))
		Expect(holding(nsA, "a")()).To(BeFalse())
	})

	Describe("what a first render waits for", func() {
		var r *PublicServiceReconciler
		var zone string

		BeforeEach(func() {
			r = &PublicServiceReconciler{Client: k8sClient} // reads the API server directly
			create(testutil.PublicService("provider", nsB).Obj())
			create(testutil.PublicService("consumer", nsB).Obj())
			zone = "present-" + nsA
			create(testutil.NetworkZone(zone).CIDRs("10.40.0.0/16").Obj())
			DeferCleanup(func() { Expect(k8sClient.Delete(ctx, testutil.NetworkZone(zone).Obj())).To(Succeed()) })
			create(&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: nsA, Name: "rendered"}})
			labels := map[string]string{"app": "running"}
			create(&appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Namespace: nsA, Name: "running"},
				Spec: appsv1.DeploymentSpec{
					Selector: &metav1.LabelSelector{MatchLabels: labels},
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: labels},
						Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: testutil.DefaultImage}}},
					},
				},
			})
		})

		// awaits is what svc's first render waits for. svc is not created: the check reads
		// only its spec, and what exists under its name.
		awaits := func(svc *platformv1alpha1.PublicService) []string {
			GinkgoHelper()
			got, err := r.firstRenderAwaits(ctx, svc)
			Expect(err).NotTo(HaveOccurred())
			return got
		}

		It("waits for nothing when the spec names nothing, or only what exists", func() {
			Expect(awaits(testutil.PublicService("a", nsA).Obj())).To(BeEmpty())
			Expect(awaits(testutil.PublicService("a", nsA).Consumes("provider", nsB).AllowFromService("consumer", nsB).
				Exposure(platformv1alpha1.ExposureCityNetwork).AllowFromZone(zone).Obj())).To(BeEmpty())
			Expect(awaits(testutil.PublicService("a", nsA).AllowFromService("a", "").Obj())).To(BeEmpty(), "itself")
		})

		It("waits for missing services and zones, and for the consumers of an admitted namespace", func() {
			Expect(awaits(testutil.PublicService("a", nsA).Consumes("provider", nsB).Consumes("later", "").Obj())).
				To(Equal([]string{nsA + "/later"}))
			Expect(awaits(testutil.PublicService("a", nsA).AllowFromService("later", nsB).Obj())).To(Equal([]string{nsB + "/later"}))
			Expect(awaits(testutil.PublicService("a", nsA).AllowFromNamespace(nsB).Obj())).To(Equal([]string{nsB + "/*"}))
			Expect(awaits(testutil.PublicService("a", nsA).Exposure(platformv1alpha1.ExposureCityNetwork).
				AllowFromZone(zone).AllowFromZone("later-zone").Obj())).To(Equal([]string{"zone/later-zone"}))
		})

		It("waits for nothing once the service's policy or Deployment exists", func() {
			Expect(awaits(testutil.PublicService("rendered", nsA).Consumes("later", "").AllowFromNamespace(nsB).Obj())).To(BeEmpty())
			// Its policy was deleted under running pods: restored at once.
			Expect(awaits(testutil.PublicService("running", nsA).Consumes("later", "").AllowFromNamespace(nsB).Obj())).To(BeEmpty())
		})
	})
})
