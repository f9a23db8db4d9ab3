package controllers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// envtest runs no garbage collector: these specs check what the collector needs (an owner
// reference with controller and blockOwnerDeletion to the service's UID); the e2e suite
// checks that children really go.
var _ = Describe("Deletion", func() {
	It("makes the service the blocking controller owner of every child, and deletes without a finalizer", func() {
		ns := newNamespace(nil)
		const name = "portal"
		create(testutil.PublicService(name, ns).Profile(platformv1alpha1.ProfilePortal).
			Host("dichvucong.hanoi.example").TLS("portal-tls").Obj())
		settle(ns, name, 2)
		svc := getService(ns, name)
		Expect(svc.Finalizers).To(BeEmpty())

		for _, obj := range allChildren() {
			waitFor(ns, name, obj)
			expectControlledBy(obj, svc)
		}

		Expect(k8sClient.Delete(ctx, svc)).To(Succeed())
		eventuallyAbsent(ns, name, &platformv1alpha1.PublicService{})

		By("recreating a service of the same name: the children are not taken over by the new UID")
		create(testutil.PublicService(name, ns).Profile(platformv1alpha1.ProfilePortal).
			Host("dichvucong.hanoi.example").TLS("portal-tls").Obj())
		waitCondition(ns, name, platformv1alpha1.ConditionNetworkIsolated, metav1.ConditionFalse, platformv1alpha1.ReasonNameConflict)
		for _, obj := range allChildren() {
			waitFor(ns, name, obj)
			expectControlledBy(obj, svc) // still the old owner, for the garbage collector to remove
		}
	})
})
