package controllers

import (
	"fmt"
	"slices"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// A city's worth of references to one object: the status lists keep their caps, sorted, and
// the counts beside them are exact.
var _ = Describe("A city", func() {
	// converge bounds how long 300 services take to settle: the provider waits behind their
	// reconciles (one worker, each verifying connectivity); 12 s to 100 s on 2 shared cores.
	const converge = 4 * time.Minute

	// createAll creates objects with a bounded number of concurrent requests.
	createAll := func(objs []client.Object) {
		GinkgoHelper()
		const parallel = 16
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
		)
		sem := make(chan struct{}, parallel)
		for _, o := range objs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := k8sClient.Create(ctx, o); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("%T %s: %w", o, client.ObjectKeyFromObject(o), err))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		Expect(errs).To(BeEmpty())
	}

	// deleteServices deletes the PublicServices of namespaces (strings or lists of them), so that
	// the reconciles still queued for them are cheap for the specs that follow.
	deleteServices := func(namespaces ...any) {
		for _, n := range namespaces {
			list, ok := n.([]string)
			if !ok {
				list = []string{n.(string)}
			}
			for _, ns := range list {
				Expect(k8sClient.DeleteAllOf(ctx, &platformv1alpha1.PublicService{}, client.InNamespace(ns))).To(Succeed())
			}
		}
	}

	It("converges a provider consumed by 300 services, admitted through namespace entries", func() {
		providerNS := newNamespace(nil)
		admittedNS := []string{newNamespace(nil), newNamespace(nil), newNamespace(nil)}
		refusedNS := []string{newNamespace(nil), newNamespace(nil), newNamespace(nil)}

		provider := testutil.PublicService("vneid", providerNS).Port(8443)
		for _, ns := range admittedNS {
			provider.AllowFromNamespace(ns)
		}
		objs := make([]client.Object, 0, 302)
		var admitted, unadmitted []string
		for _, ns := range append(slices.Clone(admittedNS), refusedNS...) {
			for i := range 50 {
				name := fmt.Sprintf("svc-%02d", i)
				objs = append(objs, testutil.PublicService(name, ns).Consumes("vneid", providerNS).Obj())
				if slices.Contains(admittedNS, ns) {
					admitted = append(admitted, ns+"/"+name)
				} else {
					unadmitted = append(unadmitted, ns+"/"+name)
				}
			}
		}
		// In an admitted namespace but not a consumer: admitted by nothing.
		objs = append(objs, testutil.PublicService("bystander", admittedNS[0]).Obj(), provider.Obj())
		slices.Sort(admitted)
		slices.Sort(unadmitted)
		createAll(objs)
		DeferCleanup(deleteServices, providerNS, admittedNS, refusedNS)

		Eventually(serviceStatus(providerNS, "vneid"), converge, time.Second).Should(SatisfyAll(
			HaveField("AdmittedConsumerCount", BeEquivalentTo(150)),
			HaveField("UnadmittedConsumerCount", BeEquivalentTo(150)),
			HaveField("AdmittedConsumers", Equal(admitted[:maxServiceStatusList])),
			HaveField("UnadmittedConsumers", Equal(unadmitted[:maxServiceStatusList])),
		))
		Expect(networkPolicySpec(providerNS, "vneid")().Ingress).To(HaveLen(150), "one ingress rule per admitted consumer")
		// ConnectivityVerified carries the audit's own summary (the connectivity controller's).
		for _, c := range getService(providerNS, "vneid").Status.Conditions {
			if c.Type != platformv1alpha1.ConditionConnectivityVerified {
				Expect(c.Message).NotTo(ContainSubstring("svc-"), "condition %s names consumers", c.Type)
			}
		}
	})

	It("converges a zone used by 300 services, some from namespaces it refuses", func() {
		hospital := map[string]string{"city.example/hospital-network": "true"}
		usedNS := []string{newNamespace(hospital), newNamespace(hospital), newNamespace(hospital), newNamespace(hospital)}
		refusedNS := newNamespace(nil)
		zone := "lan-" + refusedNS

		objs := make([]client.Object, 0, 301)
		objs = append(objs, testutil.NetworkZone(zone).CIDRs("10.30.0.0/16").AllowNamespaces(hospital).Obj())
		var used, refused []string
		for _, ns := range append(slices.Clone(usedNS), refusedNS) {
			n := 70 // 280 used, more than the list holds
			if ns == refusedNS {
				n = 20
			}
			for i := range n {
				name := fmt.Sprintf("svc-%02d", i)
				objs = append(objs, testutil.PublicService(name, ns).EgressToZone(zone, 443).Obj())
				if ns == refusedNS {
					refused = append(refused, ns+"/"+name)
				} else {
					used = append(used, ns+"/"+name)
				}
			}
		}
		slices.Sort(used)
		slices.Sort(refused)
		createAll(objs)
		DeferCleanup(deleteServices, usedNS, refusedNS)

		Eventually(zoneStatus(zone), converge, time.Second).Should(SatisfyAll(
			HaveField("ReferencedByCount", BeEquivalentTo(280)),
			HaveField("RefusedCount", BeEquivalentTo(20)),
			HaveField("ReferencedBy", Equal(used[:maxZoneStatusList])),
			HaveField("Refused", Equal(refused)),
		))
		Expect(zoneStatus(zone)().Conditions).To(ContainElement(HaveField("Message",
			fmt.Sprintf("used by 280 service(s); refused 20: %s, %s, %s and 17 more: spec.allowedNamespaces does not select their namespaces",
				refused[0], refused[1], refused[2]))))
	})

	It("admits a namespace's consumers on both sides, and forgets one that stops consuming", func() {
		providerNS, consumerNS := newNamespace(nil), newNamespace(nil)
		create(testutil.PublicService("vneid", providerNS).Port(8443).AllowFromNamespace(consumerNS).Obj())
		for _, name := range []string{"forms", "portal"} {
			create(testutil.PublicService(name, consumerNS).Consumes("vneid", providerNS).Obj())
		}
		create(testutil.PublicService("news", consumerNS).Obj())

		Eventually(serviceStatus(providerNS, "vneid"), timeout, interval).Should(SatisfyAll(
			HaveField("AdmittedConsumers", Equal([]string{consumerNS + "/forms", consumerNS + "/portal"})),
			HaveField("AdmittedConsumerCount", BeEquivalentTo(2)),
		))
		ingressFrom := func(name string) networkingv1.NetworkPolicyIngressRule {
			return networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{servicePeer(consumerNS, name)},
				Ports: []networkingv1.NetworkPolicyPort{tcpPort(8443)}}
		}
		Eventually(networkPolicySpec(providerNS, "vneid"), timeout, interval).Should(
			HaveField("Ingress", ConsistOf(ingressFrom("forms"), ingressFrom("portal"))),
			"one rule per consumer of the namespace, none for news, which does not consume vneid")
		Eventually(serviceStatus(consumerNS, "forms"), timeout, interval).Should(
			HaveField("Destinations", ConsistOf(providerNS+"/vneid:8443")), "a consumer admitted by its namespace gets its egress")
		Eventually(networkPolicySpec(consumerNS, "news"), timeout, interval).Should(
			HaveField("Egress", Equal([]networkingv1.NetworkPolicyEgressRule{dnsEgress()})), "news consumes nothing")

		updateService(consumerNS, "forms", func(s *platformv1alpha1.PublicService) { s.Spec.Consumes = nil })
		Eventually(serviceStatus(providerNS, "vneid"), timeout, interval).Should(SatisfyAll(
			HaveField("AdmittedConsumers", Equal([]string{consumerNS + "/portal"})),
			HaveField("AdmittedConsumerCount", BeEquivalentTo(1)),
		), "the provider hears that a consumer admitted through its namespace stopped consuming")
	})
})
