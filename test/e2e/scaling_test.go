//go:build e2e

package e2e

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

var _ = Describe("Scaling", func() {
	It("adds and removes pods when the replica floor changes in fixed mode", func(ctx SpecContext) {
		ns := newNamespace(ctx, nil)
		create(ctx, testutil.PublicService("kiosk", ns).Replicas(1, 1).Image(image).Obj())
		Eventually(readyPods(ctx, ns, "kiosk")).Should(Equal(1))

		for _, n := range []int32{4, 2} {
			By(fmt.Sprintf("setting replicas.min = replicas.max = %d", n))
			setReplicas(ctx, ns, "kiosk", n, n)
			Eventually(readyPods(ctx, ns, "kiosk")).Should(BeEquivalentTo(n))
			Eventually(condition(ctx, ns, "kiosk", platformv1alpha1.ConditionReady)).Should(beReady())
			Eventually(func(g Gomega) int32 {
				svc := &platformv1alpha1.PublicService{}
				g.Expect(k8s.Get(ctx, key(ns, "kiosk"), svc)).To(Succeed())
				return svc.Status.ReadyReplicas
			}).Should(Equal(n))
			Expect(notFound(ctx, &autoscalingv2.HorizontalPodAutoscaler{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kiosk"},
			})()).To(Succeed(), "fixed replicas need no HPA")
		}
	})

	It("keeps the HPA's bounds in step with the spec, and the HPA controller keeps the pods within them", func(ctx SpecContext) {
		// The local cluster has no metrics-server: the HPA controller cannot compute a CPU-based
		// count, but it still brings the Deployment within [minReplicas, maxReplicas].
		ns := newNamespace(ctx, nil)
		create(ctx, testutil.PublicService("portal", ns).Replicas(2, 4).Image(image).Obj())
		Eventually(hpaBounds(ctx, ns, "portal")).Should(Equal([]int32{2, 4}))
		Eventually(readyPods(ctx, ns, "portal")).Should(Equal(2))

		By("raising the floor to 3 (max 5): the HPA follows, and its controller adds a pod")
		setReplicas(ctx, ns, "portal", 3, 5)
		Eventually(hpaBounds(ctx, ns, "portal")).Should(Equal([]int32{3, 5}))
		Eventually(readyPods(ctx, ns, "portal")).Should(Equal(3))

		By("lowering the ceiling to 2 (min 1): the HPA follows, and its controller removes a pod")
		setReplicas(ctx, ns, "portal", 1, 2)
		Eventually(hpaBounds(ctx, ns, "portal")).Should(Equal([]int32{1, 2}))
		Eventually(readyPods(ctx, ns, "portal")).Should(Equal(2))
		Eventually(condition(ctx, ns, "portal", platformv1alpha1.ConditionReady)).Should(beReady())
	})
})
