//go:build e2e

package e2e

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/render"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// portalChildren are the objects a Portal named name becomes (every child kind but HTTPRoute,
// which needs --gateway).
func portalChildren(ns, name string) []client.Object {
	meta := func() metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	return []client.Object{
		&networkingv1.NetworkPolicy{ObjectMeta: meta()},
		&corev1.ServiceAccount{ObjectMeta: meta()},
		&appsv1.Deployment{ObjectMeta: meta()},
		&corev1.Service{ObjectMeta: meta()},
		&autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: meta()},
		&policyv1.PodDisruptionBudget{ObjectMeta: meta()},
		&networkingv1.Ingress{ObjectMeta: meta()},
	}
}

// replicaSetsAndPods returns how many ReplicaSets and pods (being deleted or not) the service has.
func replicaSetsAndPods(ctx context.Context, ns, name string) func(g Gomega) []int {
	return func(g Gomega) []int {
		sel := client.MatchingLabels(render.SelectorLabels(name))
		rs, pods := &appsv1.ReplicaSetList{}, &corev1.PodList{}
		g.Expect(k8s.List(ctx, rs, client.InNamespace(ns), sel)).To(Succeed())
		g.Expect(k8s.List(ctx, pods, client.InNamespace(ns), sel)).To(Succeed())
		return []int{len(rs.Items), len(pods.Items)}
	}
}

var _ = Describe("Deletion", func() {
	It("garbage-collects every child, ReplicaSet and pod when a PublicService is deleted", func(ctx SpecContext) {
		ns := newNamespace(ctx, nil)
		svc := testutil.PublicService("portal", ns).Profile(platformv1alpha1.ProfilePortal).Image(image).
			Host("portal.e2e.example").TLS("portal-tls").Obj()
		create(ctx, svc)
		Eventually(condition(ctx, ns, "portal", platformv1alpha1.ConditionReady)).Should(beReady())
		for _, obj := range portalChildren(ns, "portal") {
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed(), "%T", obj)
		}
		Eventually(replicaSetsAndPods(ctx, ns, "portal")).Should(Equal([]int{1, 2}))

		By("deleting the PublicService: kube-controller-manager's garbage collector deletes the rest")
		Expect(k8s.Delete(ctx, svc)).To(Succeed())
		for _, obj := range portalChildren(ns, "portal") {
			Eventually(notFound(ctx, obj)).Should(Succeed())
		}
		Eventually(replicaSetsAndPods(ctx, ns, "portal")).Should(Equal([]int{0, 0}))
	})

	It("deletes a namespace with its services, and tells the consumers in other namespaces", func(ctx SpecContext) {
		provider := newNamespace(ctx, nil)
		consumer := newNamespace(ctx, nil)
		create(ctx, testutil.PublicService("vneid", provider).AllowFromService("portal", consumer).Image(image).Obj())
		create(ctx, testutil.PublicService("portal", consumer).Consumes("vneid", provider).Image(image).Obj())
		Eventually(condition(ctx, consumer, "portal", platformv1alpha1.ConditionDependenciesSatisfied)).
			Should(haveCondition(metav1.ConditionTrue, platformv1alpha1.ReasonDependenciesSatisfied))
		Eventually(readyPods(ctx, provider, "vneid")).Should(Equal(1))

		By("deleting the provider's namespace: the namespace controller empties it and removes it")
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: provider}}
		Expect(k8s.Delete(ctx, ns)).To(Succeed())
		Eventually(notFound(ctx, ns)).Should(Succeed())

		By("the consumer loses the flow: DependencyNotFound, and no destination left")
		Eventually(condition(ctx, consumer, "portal", platformv1alpha1.ConditionDependenciesSatisfied)).
			Should(haveCondition(metav1.ConditionFalse, platformv1alpha1.ReasonDependencyNotFound))
		svc := &platformv1alpha1.PublicService{}
		Expect(k8s.Get(ctx, key(consumer, "portal"), svc)).To(Succeed())
		Expect(svc.Status.Destinations).To(BeEmpty())
	})
})
