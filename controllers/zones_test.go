package controllers

import (
	"maps"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

var _ = Describe("Zone consent", func() {
	// hospitalLabel is the namespace label that the zones of these tests admit.
	hospitalLabel := map[string]string{"city.example/hospital-network": "true"}
	// reRender bounds how long a watch-driven re-render may take: no polling, so seconds.
	const reRender = 5 * time.Second

	checkIn := func(ns, zone string) *platformv1alpha1.PublicService {
		return testutil.PublicService("checkin", ns).Profile(platformv1alpha1.ProfileHospitalCheckIn).AllowFromZone(zone).Obj()
	}
	// ingressFromZone is the check-in service's ingress rule from these CIDRs on its port.
	ingressFromZone := func(cidrs ...string) networkingv1.NetworkPolicyIngressRule {
		rule := networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{tcpPort(8080)}}
		for _, c := range cidrs {
			rule.From = append(rule.From, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: c}})
		}
		return rule
	}
	labelNamespace := func(ns string, labels map[string]string) {
		GinkgoHelper()
		updateObject("", ns, &corev1.Namespace{}, "test", func(n *corev1.Namespace) {
			if n.Labels == nil {
				n.Labels = map[string]string{}
			}
			maps.Copy(n.Labels, labels)
		})
	}

	It("admits zone clients on the check-in service when the zone admits the namespace", func() {
		ns := newNamespace(hospitalLabel)
		zone := "lan-" + ns
		create(testutil.NetworkZone(zone).CIDRs("10.20.0.0/16", "10.21.0.0/16").Except("10.20.99.0/24").
			AllowNamespaces(hospitalLabel).Obj())
		create(checkIn(ns, zone))

		waitCondition(ns, "checkin", platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionTrue,
			platformv1alpha1.ReasonDependenciesSatisfied)
		rule := ingressFromZone("10.20.0.0/16", "10.21.0.0/16")
		rule.From[0].IPBlock.Except = []string{"10.20.99.0/24"}
		Eventually(networkPolicySpec(ns, "checkin"), timeout, interval).Should(HaveField("Ingress", ConsistOf(rule)))
		Expect(serviceStatus(ns, "checkin")().AdmittedZones).To(ConsistOf(zone))

		s := &corev1.Service{}
		waitFor(ns, "checkin", s)
		Expect(s.Spec.Type).To(Equal(corev1.ServiceTypeNodePort))
		Expect(s.Spec.ExternalTrafficPolicy).To(Equal(corev1.ServiceExternalTrafficPolicyLocal))

		Eventually(zoneStatus(zone), timeout, interval).Should(And(
			HaveField("ReferencedBy", ConsistOf(ns+"/checkin")), HaveField("Refused", BeEmpty())))
	})

	It("refuses a zone that does not admit the namespace, then admits it once the namespace is labelled", func() {
		ns := newNamespace(nil)
		zone := "lan-" + ns
		create(testutil.NetworkZone(zone).CIDRs("10.20.0.0/16").AllowNamespaces(hospitalLabel).Obj())
		create(checkIn(ns, zone))

		waitCondition(ns, "checkin", platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionFalse,
			platformv1alpha1.ReasonZoneNotAllowed)
		Expect(networkPolicySpec(ns, "checkin")().Ingress).To(BeEmpty(), "the zone's rule is dropped (fail closed)")
		Expect(serviceStatus(ns, "checkin")().AdmittedZones).To(BeEmpty())
		Eventually(zoneStatus(zone), timeout, interval).Should(And(
			HaveField("Refused", ConsistOf(ns+"/checkin")), HaveField("ReferencedBy", BeEmpty())))
		Expect(zoneStatus(zone)().Conditions).To(ContainElement(And(
			HaveField("Type", platformv1alpha1.ConditionZoneAccepted),
			HaveField("Reason", platformv1alpha1.ReasonZoneRefusedReferences))))

		By("labelling the namespace")
		labelNamespace(ns, hospitalLabel)
		Eventually(condition(ns, "checkin", platformv1alpha1.ConditionDependenciesSatisfied), reRender, interval).Should(
			haveCondition(metav1.ConditionTrue, platformv1alpha1.ReasonDependenciesSatisfied))
		Eventually(networkPolicySpec(ns, "checkin"), reRender, interval).Should(
			HaveField("Ingress", ConsistOf(ingressFromZone("10.20.0.0/16"))))
		Eventually(zoneStatus(zone), reRender, interval).Should(And(
			HaveField("ReferencedBy", ConsistOf(ns+"/checkin")), HaveField("Refused", BeEmpty())))
	})

	It("refuses a zone whose allowedNamespaces is empty", func() {
		ns := newNamespace(hospitalLabel)
		zone := "popdb-" + ns
		create(testutil.NetworkZone(zone).CIDRs("10.50.0.0/24").Obj())
		create(testutil.PublicService("lookup", ns).EgressToZone(zone, 5432).Obj())

		waitCondition(ns, "lookup", platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionFalse,
			platformv1alpha1.ReasonZoneNotAllowed)
		Expect(networkPolicySpec(ns, "lookup")().Egress).To(Equal([]networkingv1.NetworkPolicyEgressRule{dnsEgress()}))
	})

	It("reports ZoneNotFound for a missing zone, renders the rule once it exists and drops it when it is deleted", func() {
		ns := newNamespace(hospitalLabel)
		zone := "lan-" + ns
		create(checkIn(ns, zone))
		waitCondition(ns, "checkin", platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionFalse,
			platformv1alpha1.ReasonZoneNotFound)
		Expect(*condition(ns, "checkin", platformv1alpha1.ConditionDependenciesSatisfied)()).To(
			HaveField("Message", ContainSubstring(zone)))
		Expect(networkPolicySpec(ns, "checkin")().Ingress).To(BeEmpty())

		z := testutil.NetworkZone(zone).CIDRs("10.20.0.0/16").AllowNamespaces(hospitalLabel).Obj()
		create(z)
		Eventually(networkPolicySpec(ns, "checkin"), reRender, interval).Should(
			HaveField("Ingress", ConsistOf(ingressFromZone("10.20.0.0/16"))))
		waitCondition(ns, "checkin", platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionTrue,
			platformv1alpha1.ReasonDependenciesSatisfied)

		By("deleting the zone: its rule goes (fail closed)")
		Expect(k8sClient.Delete(ctx, z)).To(Succeed())
		Eventually(networkPolicySpec(ns, "checkin"), reRender, interval).Should(HaveField("Ingress", BeEmpty()))
		waitCondition(ns, "checkin", platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionFalse,
			platformv1alpha1.ReasonZoneNotFound)
	})

	It("re-renders the NetworkPolicies within seconds when a zone's CIDRs change", func() {
		ns := newNamespace(hospitalLabel)
		zone := "lan-" + ns
		create(testutil.NetworkZone(zone).CIDRs("10.20.0.0/16").AllowNamespaces(hospitalLabel).Obj())
		create(checkIn(ns, zone))
		create(testutil.PublicService("reports", ns).EgressToZone(zone, 443, 8443).Obj())
		Eventually(networkPolicySpec(ns, "checkin"), timeout, interval).Should(
			HaveField("Ingress", ConsistOf(ingressFromZone("10.20.0.0/16"))))
		Eventually(networkPolicySpec(ns, "reports"), timeout, interval).Should(HaveField("Egress", ConsistOf(dnsEgress(),
			networkingv1.NetworkPolicyEgressRule{
				To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.20.0.0/16"}}},
				Ports: []networkingv1.NetworkPolicyPort{tcpPort(443), tcpPort(8443)},
			})))

		updateObject("", zone, &platformv1alpha1.NetworkZone{}, "network-provider", func(z *platformv1alpha1.NetworkZone) {
			z.Spec.CIDRs = []string{"10.30.0.0/16"}
		})
		Eventually(networkPolicySpec(ns, "checkin"), reRender, interval).Should(
			HaveField("Ingress", ConsistOf(ingressFromZone("10.30.0.0/16"))))
		Eventually(networkPolicySpec(ns, "reports"), reRender, interval).Should(HaveField("Egress", ConsistOf(dnsEgress(),
			networkingv1.NetworkPolicyEgressRule{
				To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.30.0.0/16"}}},
				Ports: []networkingv1.NetworkPolicyPort{tcpPort(443), tcpPort(8443)},
			})))
	})

	It("lists the services that reference a zone and those it refuses", func() {
		admitted, other, refused := newNamespace(hospitalLabel), newNamespace(hospitalLabel), newNamespace(nil)
		zone := "lan-" + admitted
		create(testutil.NetworkZone(zone).CIDRs("10.20.0.0/16").AllowNamespaces(hospitalLabel).Obj())
		create(checkIn(admitted, zone))
		create(testutil.PublicService("reports", other).EgressToZone(zone, 443).Obj())
		create(checkIn(refused, zone))

		Eventually(zoneStatus(zone), timeout, interval).Should(And(
			HaveField("ReferencedBy", ConsistOf(admitted+"/checkin", other+"/reports")),
			HaveField("Refused", ConsistOf(refused+"/checkin"))))

		By("deleting a referencing service")
		Expect(k8sClient.Delete(ctx, &platformv1alpha1.PublicService{
			ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: "reports"}})).To(Succeed())
		Eventually(zoneStatus(zone), reRender, interval).Should(HaveField("ReferencedBy", ConsistOf(admitted+"/checkin")))
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: zone}, &platformv1alpha1.NetworkZone{})).To(Succeed())
	})
})
