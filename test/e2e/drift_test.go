//go:build e2e

package e2e

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/render"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

var _ = Describe("Drift repair", func() {
	It("restores the image someone edited in the Deployment, and recreates a deleted NetworkPolicy", func(ctx SpecContext) {
		ns := newNamespace(ctx, nil)
		create(ctx, testutil.PublicService("kiosk", ns).Image(image).Obj())
		Eventually(condition(ctx, ns, "kiosk", platformv1alpha1.ConditionReady)).Should(beReady())

		By("editing the Deployment's image, as `kubectl set image` would")
		const tampered = "registry.example/tampered:6.6.6"
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kiosk"}}
		patch := fmt.Appendf(nil, `{"spec":{"template":{"spec":{"containers":[{"name":%q,"image":%q}]}}}}`,
			render.ContainerName, tampered)
		Expect(k8s.Patch(ctx, d, client.RawPatch(types.StrategicMergePatchType, patch), client.FieldOwner("kubectl-set"))).To(Succeed())
		Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal(tampered), "the patch did not change the image")

		Eventually(deploymentImage(ctx, ns, "kiosk")).Should(Equal(image))
		By("the pods run the spec's image again")
		Eventually(func(g Gomega) []string {
			g.Expect(readyPods(ctx, ns, "kiosk")(g)).To(Equal(1))
			pods := activePods(ctx, ns, "kiosk")
			images := make([]string, 0, len(pods))
			for _, p := range pods {
				images = append(images, p.Spec.Containers[0].Image)
			}
			return images
		}).Should(ConsistOf(image))

		By("deleting the NetworkPolicy")
		np := &networkingv1.NetworkPolicy{}
		Expect(k8s.Get(ctx, key(ns, "kiosk"), np)).To(Succeed())
		oldUID := np.UID
		Expect(k8s.Delete(ctx, np)).To(Succeed())
		Eventually(func(g Gomega) types.UID {
			g.Expect(k8s.Get(ctx, key(ns, "kiosk"), np)).To(Succeed())
			return np.UID
		}).ShouldNot(Equal(oldUID))
		Expect(np.Spec.PolicyTypes).To(ConsistOf(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress))
		Eventually(condition(ctx, ns, "kiosk", platformv1alpha1.ConditionNetworkIsolated)).Should(beReady())
	})
})
