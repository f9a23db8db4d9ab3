package controllers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// Consumer A (in its own namespace, port 8080) calls provider B (another namespace, port 9090).
// A flow A→B exists only when A consumes B and B's allowFrom admits A.
var _ = Describe("Bilateral consent", func() {
	const providerPort = 9090
	var nsA, nsB string

	BeforeEach(func() {
		nsA, nsB = newNamespace(nil), newNamespace(nil)
	})

	consumer := func(consumes bool) *platformv1alpha1.PublicService {
		w := testutil.PublicService("a", nsA)
		if consumes {
			w.Consumes("b", nsB)
		}
		return w.Obj()
	}
	provider := func(admits bool) *platformv1alpha1.PublicService {
		w := testutil.PublicService("b", nsB).Port(providerPort)
		if admits {
			w.AllowFromService("a", nsA)
		}
		return w.Obj()
	}
	// egressToB is A's egress rule to B's pods on B's port.
	egressToB := func() networkingv1.NetworkPolicyEgressRule {
		return networkingv1.NetworkPolicyEgressRule{
			To: []networkingv1.NetworkPolicyPeer{servicePeer(nsB, "b")}, Ports: []networkingv1.NetworkPolicyPort{tcpPort(providerPort)}}
	}
	// ingressFromA is B's ingress rule from A's pods on B's port.
	ingressFromA := func() networkingv1.NetworkPolicyIngressRule {
		return networkingv1.NetworkPolicyIngressRule{
			From: []networkingv1.NetworkPolicyPeer{servicePeer(nsA, "a")}, Ports: []networkingv1.NetworkPolicyPort{tcpPort(providerPort)}}
	}
	onlyDNS := []networkingv1.NetworkPolicyEgressRule{dnsEgress()}
	satisfied := func(ns, name string) {
		GinkgoHelper()
		waitCondition(ns, name, platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionTrue,
			platformv1alpha1.ReasonDependenciesSatisfied)
	}

	It("renders the flow on both sides when A consumes B and B admits A", func() {
		create(provider(true))
		create(consumer(true))

		Eventually(networkPolicySpec(nsA, "a"), timeout, interval).Should(HaveField("Egress", ConsistOf(dnsEgress(), egressToB())))
		Eventually(networkPolicySpec(nsB, "b"), timeout, interval).Should(HaveField("Ingress", ConsistOf(ingressFromA())))
		satisfied(nsA, "a")
		satisfied(nsB, "b")
		Eventually(serviceStatus(nsB, "b"), timeout, interval).Should(And(
			HaveField("AdmittedConsumers", ConsistOf(nsA+"/a")),
			HaveField("UnadmittedConsumers", BeEmpty())))
		Eventually(serviceStatus(nsA, "a"), timeout, interval).Should(
			HaveField("Destinations", ConsistOf(nsB+"/b:9090")))
		Expect(networkPolicySpec(nsA, "a")().Ingress).To(BeEmpty(), "B does not consume A")
	})

	It("drops the flow and tells both sides when A consumes B but B does not admit A", func() {
		create(provider(false))
		settle(nsB, "b", 1)
		before := getService(nsB, "b").Status.Conditions

		create(consumer(true))
		waitCondition(nsA, "a", platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionFalse, platformv1alpha1.ReasonConsentMissing)
		Expect(*condition(nsA, "a", platformv1alpha1.ConditionDependenciesSatisfied)()).To(
			HaveField("Message", ContainSubstring("spec.allowFrom needs {service: a, namespace: %s}", nsA)))
		Expect(networkPolicySpec(nsA, "a")().Egress).To(Equal(onlyDNS), "no egress without the provider's consent")

		Eventually(serviceStatus(nsB, "b"), timeout, interval).Should(HaveField("UnadmittedConsumers", ConsistOf(nsA+"/a")))
		Eventually(warningEvents(nsB, "b", "ConsumerNotAdmitted"), timeout, interval).Should(ContainElement(
			HaveField("Note", ContainSubstring(nsA+"/a"))))
		b := getService(nsB, "b")
		Expect(b.Status.AdmittedConsumers).To(BeEmpty())
		Expect(b.Status.Conditions).To(Equal(before), "a consumer that B does not admit changed B's conditions")
		Expect(networkPolicySpec(nsB, "b")().Ingress).To(BeEmpty())
	})

	It("renders nothing when B admits A but A does not consume B", func() {
		create(provider(true))
		create(consumer(false))
		satisfied(nsA, "a")
		satisfied(nsB, "b")

		Expect(networkPolicySpec(nsA, "a")().Egress).To(Equal(onlyDNS))
		Expect(networkPolicySpec(nsB, "b")().Ingress).To(BeEmpty(), "allowFrom alone opens nothing")
		Expect(serviceStatus(nsB, "b")()).To(And(HaveField("AdmittedConsumers", BeEmpty()), HaveField("UnadmittedConsumers", BeEmpty())))
		Expect(serviceStatus(nsA, "a")().Destinations).To(BeEmpty())
	})

	It("renders nothing when neither side declares the flow", func() {
		create(provider(false))
		create(consumer(false))
		satisfied(nsA, "a")
		satisfied(nsB, "b")

		Expect(networkPolicySpec(nsA, "a")().Egress).To(Equal(onlyDNS))
		Expect(networkPolicySpec(nsB, "b")().Ingress).To(BeEmpty())
		Expect(serviceStatus(nsB, "b")()).To(And(HaveField("AdmittedConsumers", BeEmpty()), HaveField("UnadmittedConsumers", BeEmpty())))
		Expect(warningEvents(nsB, "b", "ConsumerNotAdmitted")()).To(BeEmpty())
	})

	It("reports DependencyNotFound until the consumed service exists, then renders the flow without touching A", func() {
		create(consumer(true))
		waitCondition(nsA, "a", platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionFalse,
			platformv1alpha1.ReasonDependencyNotFound)
		Expect(networkPolicySpec(nsA, "a")().Egress).To(Equal(onlyDNS))
		generation := getService(nsA, "a").Generation

		create(provider(true))
		satisfied(nsA, "a")
		Eventually(networkPolicySpec(nsA, "a"), timeout, interval).Should(HaveField("Egress", ConsistOf(dnsEgress(), egressToB())))
		Eventually(networkPolicySpec(nsB, "b"), timeout, interval).Should(HaveField("Ingress", ConsistOf(ingressFromA())))
		Expect(getService(nsA, "a").Generation).To(Equal(generation))
	})

	It("withdraws the flow from both sides when B stops admitting A", func() {
		create(provider(true))
		create(consumer(true))
		Eventually(networkPolicySpec(nsB, "b"), timeout, interval).Should(HaveField("Ingress", ConsistOf(ingressFromA())))
		Eventually(networkPolicySpec(nsA, "a"), timeout, interval).Should(HaveField("Egress", ConsistOf(dnsEgress(), egressToB())))

		updateService(nsB, "b", func(svc *platformv1alpha1.PublicService) { svc.Spec.AllowFrom = nil })
		Eventually(networkPolicySpec(nsB, "b"), timeout, interval).Should(HaveField("Ingress", BeEmpty()))
		Eventually(networkPolicySpec(nsA, "a"), timeout, interval).Should(HaveField("Egress", Equal(onlyDNS)))
		waitCondition(nsA, "a", platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionFalse, platformv1alpha1.ReasonConsentMissing)
		Eventually(serviceStatus(nsB, "b"), timeout, interval).Should(HaveField("UnadmittedConsumers", ConsistOf(nsA+"/a")))
	})
})
