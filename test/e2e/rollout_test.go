//go:build e2e

package e2e

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

var _ = Describe("Rollout", func() {
	It("rolls the Deployment out to Running, Ready pods on the cluster's nodes and reports the service Ready", func(ctx SpecContext) {
		ns := newNamespace(ctx, nil)
		create(ctx, testutil.PublicService("vneid", ns).Profile(platformv1alpha1.ProfileIdentityVerification).Image(image).Obj())

		Eventually(condition(ctx, ns, "vneid", platformv1alpha1.ConditionReady)).Should(beReady())

		By("running replicas.min (3 for IdentityVerification) ready pods of the image, each on a Ready node")
		Eventually(readyPods(ctx, ns, "vneid")).Should(Equal(3))
		for _, p := range activePods(ctx, ns, "vneid") {
			Expect(p.Status.Phase).To(Equal(corev1.PodRunning))
			Expect(p.Spec.Containers).To(ConsistOf(HaveField("Image", image)))
			Expect(p.Spec.NodeName).NotTo(BeEmpty())
			node := &corev1.Node{}
			Expect(k8s.Get(ctx, client.ObjectKey{Name: p.Spec.NodeName}, node)).To(Succeed())
			Expect(nodeReady(node)).To(BeTrue(), "node %s is not Ready", node.Name)
		}

		By("reporting the rollout in the Deployment's and the service's status")
		d := &appsv1.Deployment{}
		Expect(k8s.Get(ctx, key(ns, "vneid"), d)).To(Succeed())
		Expect(d.Status.ObservedGeneration).To(Equal(d.Generation))
		Expect(d.Status.ReadyReplicas).To(BeNumerically(">=", 3))
		svc := &platformv1alpha1.PublicService{}
		Expect(k8s.Get(ctx, key(ns, "vneid"), svc)).To(Succeed())
		Expect(svc.Status.ReadyReplicas).To(BeNumerically(">=", 3))
		Expect(svc.Status.Endpoint).To(Equal("vneid." + ns + ".svc.cluster.local:8080"))
		for _, typ := range []string{
			platformv1alpha1.ConditionAvailable,
			platformv1alpha1.ConditionNetworkIsolated,
			platformv1alpha1.ConditionDependenciesSatisfied,
		} {
			Expect(condition(ctx, ns, "vneid", typ)()).To(beReady(), typ)
		}
	})

	It("has its pods admitted in a namespace that enforces the restricted Pod Security Standard", func(ctx SpecContext) {
		ns := newNamespace(ctx, map[string]string{
			"pod-security.kubernetes.io/enforce":         "restricted",
			"pod-security.kubernetes.io/enforce-version": "latest",
		})

		By("checking that the namespace enforces it: a pod that may run as root is refused")
		rootPod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "root", Namespace: ns},
			Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "app", Image: image}},
			},
		}
		Expect(k8s.Create(ctx, rootPod, client.DryRunAll)).To(MatchError(ContainSubstring(`violates PodSecurity "restricted`)))

		By("creating a service: the ReplicaSet controller's pods are admitted")
		create(ctx, testutil.PublicService("checkin", ns).Replicas(2, 2).Image(image).Obj())
		Eventually(readyPods(ctx, ns, "checkin")).Should(Equal(2))
		Eventually(condition(ctx, ns, "checkin", platformv1alpha1.ConditionReady)).Should(beReady())
		for _, p := range activePods(ctx, ns, "checkin") {
			Expect(p.Spec.SecurityContext.RunAsNonRoot).To(HaveValue(BeTrue()))
		}
	})
})
