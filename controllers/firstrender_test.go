package controllers

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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

	// policy returns a service's NetworkPolicy (nil while it does not exist).
	policy := func(ns, name string) func() *networkingv1.NetworkPolicy {
		return live(ns, name, func() *networkingv1.NetworkPolicy { return &networkingv1.NetworkPolicy{} })
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
		// The provider arrives a moment later, as in one kubectl apply of a whole city.
		time.Sleep(500 * time.Millisecond)
		Expect(policy(nsA, "a")()).To(BeNil(), "the consumer's first render waits for the provider it names")
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
		consumers := []string{"c1", "c2", "c3"}
		for _, name := range consumers {
			time.Sleep(300 * time.Millisecond)
			create(testutil.PublicService(name, nsA).Consumes("hub", nsB).Obj())
		}

		peers := make([]any, 0, len(consumers))
		for _, name := range consumers {
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
	})
})
