package controllers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

var _ = Describe("Scaling", func() {
	const operator = "smartcity-operator/Apply"

	// deployment returns the current Deployment.
	deployment := func(ns, name string) func() *appsv1.Deployment {
		return live(ns, name, func() *appsv1.Deployment { return &appsv1.Deployment{} })
	}
	replicasOwners := func(ns, name string) func() []string {
		return func() []string {
			d := deployment(ns, name)()
			if d == nil {
				return nil
			}
			return ownersOf(d, "spec", "replicas")
		}
	}
	setReplicas := func(ns, name string, minReplicas, maxReplicas int32) {
		GinkgoHelper()
		updateService(ns, name, func(svc *platformv1alpha1.PublicService) {
			svc.Spec.Replicas = &platformv1alpha1.Replicas{Min: &minReplicas, Max: &maxReplicas}
		})
	}

	It("does not own spec.replicas of a Deployment that an HPA scales, and starts it at replicas.min", func() {
		ns := newNamespace(nil)
		create(testutil.PublicService("scaled", ns).Replicas(3, 6).Obj())
		waitFor(ns, "scaled", &autoscalingv2.HorizontalPodAutoscaler{})
		waitCondition(ns, "scaled", platformv1alpha1.ConditionAvailable, metav1.ConditionFalse, platformv1alpha1.ReasonDeploymentProgressing)

		Eventually(replicasOwners(ns, "scaled"), timeout, interval).ShouldNot(ContainElement(operator))
		Expect(deployment(ns, "scaled")()).To(HaveField("Spec.Replicas", HaveValue(Equal(int32(3)))),
			"a new autoscaled Deployment starts at replicas.min, not at the API default 1")
	})

	It("keeps the replica count when switching fixed → autoscaled → fixed", func() {
		ns := newNamespace(nil)
		// 4 fixed, then autoscaled 3-6: keeping the count (4) differs from resetting to the new min (3).
		create(testutil.PublicService("switch", ns).Replicas(4, 4).Obj())
		Eventually(deployment(ns, "switch"), timeout, interval).Should(HaveField("Spec.Replicas", HaveValue(Equal(int32(4)))))
		Expect(replicasOwners(ns, "switch")()).To(ContainElement(operator))
		rec := recordReplicas(ns, "switch")

		By("switching to autoscaled 3-6")
		setReplicas(ns, "switch", 3, 6)
		waitFor(ns, "switch", &autoscalingv2.HorizontalPodAutoscaler{})
		Eventually(replicasOwners(ns, "switch"), timeout, interval).ShouldNot(ContainElement(operator))
		waitCondition(ns, "switch", platformv1alpha1.ConditionAvailable, metav1.ConditionFalse, platformv1alpha1.ReasonDeploymentProgressing)

		By("switching back to fixed 4")
		setReplicas(ns, "switch", 4, 4)
		eventuallyAbsent(ns, "switch", &autoscalingv2.HorizontalPodAutoscaler{})
		Eventually(replicasOwners(ns, "switch"), timeout, interval).Should(ContainElement(operator))
		waitCondition(ns, "switch", platformv1alpha1.ConditionAvailable, metav1.ConditionFalse, platformv1alpha1.ReasonDeploymentProgressing)

		seen := rec.stop()
		Expect(seen).NotTo(BeEmpty())
		Expect(seen).To(HaveEach(Equal(int32(4))), "spec.replicas over the switch, in watch order: %v", seen)
	})

	It("lets the HPA scale the Deployment, and deletes the HPA when replicas become fixed", func() {
		ns := newNamespace(nil)
		create(testutil.PublicService("hpa", ns).Replicas(3, 6).Obj())
		waitFor(ns, "hpa", &autoscalingv2.HorizontalPodAutoscaler{})
		Eventually(replicasOwners(ns, "hpa"), timeout, interval).ShouldNot(ContainElement(operator))

		By("scaling to 5 through the scale subresource, as the HPA controller does")
		d := deployment(ns, "hpa")()
		Expect(d).NotTo(BeNil())
		scale := &autoscalingv1.Scale{Spec: autoscalingv1.ScaleSpec{Replicas: 5}}
		Expect(k8sClient.SubResource("scale").Update(ctx, d, client.WithSubResourceBody(scale),
			client.FieldOwner("horizontal-pod-autoscaler"))).To(Succeed())
		Expect(deployment(ns, "hpa")()).To(HaveField("Spec.Replicas", HaveValue(Equal(int32(5)))))

		By("changing the spec, so the operator re-applies the Deployment")
		updateService(ns, "hpa", func(svc *platformv1alpha1.PublicService) { svc.Spec.Image = "registry.smartcity.example/app:1.1.0" })
		Eventually(deployment(ns, "hpa"), timeout, interval).Should(
			HaveField("Spec.Template.Spec.Containers", ContainElement(HaveField("Image", "registry.smartcity.example/app:1.1.0"))))
		waitCondition(ns, "hpa", platformv1alpha1.ConditionAvailable, metav1.ConditionFalse, platformv1alpha1.ReasonDeploymentProgressing)
		Consistently(deployment(ns, "hpa"), "2s", interval).Should(HaveField("Spec.Replicas", HaveValue(Equal(int32(5)))),
			"the operator fights the HPA")
		Expect(replicasOwners(ns, "hpa")()).NotTo(ContainElement(operator))

		By("switching to fixed 3 replicas")
		setReplicas(ns, "hpa", 3, 3)
		eventuallyAbsent(ns, "hpa", &autoscalingv2.HorizontalPodAutoscaler{})
		Eventually(deployment(ns, "hpa"), timeout, interval).Should(HaveField("Spec.Replicas", HaveValue(Equal(int32(3)))))
		Expect(replicasOwners(ns, "hpa")()).To(ContainElement(operator))
	})
})
