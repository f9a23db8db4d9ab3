package controllers

import (
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// The connectivity controller's mapping of a changed policy to the services it re-verifies,
// read through the manager's cache and field indexes: an owned policy wakes its service and its
// peers (what it consumes, who consumes it), not the unrelated services beside it nor a
// provider that admits the namespace without being consumed, unless a foreign policy in the
// namespace could open flows between them.
var _ = Describe("Connectivity: the services a policy change wakes", Ordered, func() {
	var city, identity, hospital, tourism string
	r := &ConnectivityReconciler{}
	policy := func(ns, name, owner string) *networkingv1.NetworkPolicy {
		np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		if owner != "" {
			np.OwnerReferences = []metav1.OwnerReference{{APIVersion: platformv1alpha1.GroupVersion.String(),
				Kind: "PublicService", Name: owner, UID: types.UID("uid-" + owner), Controller: new(true)}}
		}
		return np
	}
	// woken lists the services the change of np wakes, among those of this spec's namespaces.
	woken := func(np *networkingv1.NetworkPolicy) []string {
		var got []string
		for _, req := range r.servicesNearObject(ctx, np) {
			if slices.Contains([]string{city, identity, hospital, tourism}, req.Namespace) {
				got = append(got, req.String())
			}
		}
		slices.Sort(got)
		return got
	}
	key := func(ns, name string) string { return ns + "/" + name }
	var aroundPortal, wholeCity []string

	BeforeAll(func() {
		r.Client = cachedClient
		city, identity, hospital, tourism = newNamespace(nil), newNamespace(nil), newNamespace(nil), newNamespace(nil)
		for _, svc := range []*platformv1alpha1.PublicService{
			testutil.PublicService("portal", city).Consumes("idv", identity).Obj(),
			testutil.PublicService("library", city).Obj(), // portal's unrelated sibling
			testutil.PublicService("idv", identity).AllowFromService("portal", city).Obj(),
			testutil.PublicService("checkin", hospital).AllowFromNamespace(city).Obj(), // admits city, consumed by nobody there
			testutil.PublicService("guide", tourism).Consumes("portal", city).Obj(),    // consumes portal
		} {
			Expect(k8sClient.Create(ctx, svc)).To(Succeed())
		}
		aroundPortal = []string{key(city, "portal"), key(identity, "idv"), key(tourism, "guide")}
		wholeCity = []string{key(city, "library"), key(city, "portal"), key(hospital, "checkin"), key(identity, "idv"), key(tourism, "guide")}
		slices.Sort(aroundPortal)
		slices.Sort(wholeCity)
		Eventually(func() int { // the cache has them all
			list := &platformv1alpha1.PublicServiceList{}
			Expect(cachedClient.List(ctx, list)).To(Succeed())
			return len(slices.DeleteFunc(list.Items, func(s platformv1alpha1.PublicService) bool {
				return !slices.Contains([]string{city, identity, hospital, tourism}, s.Namespace)
			}))
		}, timeout, interval).Should(Equal(5))
	})

	It("wakes portal and its peers, not its sibling, for portal's own policy", func() {
		Expect(woken(policy(city, "portal", "portal"))).To(Equal(aroundPortal))
	})

	It("wakes every service whose flows involve the namespace for a foreign policy", func() {
		Expect(woken(policy(city, "allow-all", ""))).To(Equal(wholeCity))
	})

	It("wakes the namespace for a policy of a service that is gone", func() {
		Expect(woken(policy(city, "ghost", "ghost"))).To(Equal(wholeCity))
	})

	It("wakes every service for an owned policy in the DNS namespace", func() {
		Expect(woken(policy("kube-system", "portal", "portal"))).To(Equal(wholeCity))
	})

	It("wakes the namespace for portal's own policy once a foreign policy there may open flows", func() {
		Expect(k8sClient.Create(ctx, policy(city, "allow-all", ""))).To(Succeed())
		Eventually(func() []string { return woken(policy(city, "portal", "portal")) }, timeout, interval).Should(Equal(wholeCity))
	})
})
