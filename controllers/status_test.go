package controllers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

var _ = Describe("Status", func() {
	It("is not Ready until replicas.min pods are ready", func() {
		ns := newNamespace(nil)
		create(testutil.PublicService("vneid", ns).Profile(platformv1alpha1.ProfileIdentityVerification).Obj())
		waitCondition(ns, "vneid", platformv1alpha1.ConditionAvailable, metav1.ConditionFalse, platformv1alpha1.ReasonDeploymentProgressing)
		waitCondition(ns, "vneid", platformv1alpha1.ConditionReady, metav1.ConditionFalse, platformv1alpha1.ReasonNotReady)

		markDeploymentReady(ns, "vneid", 2)
		Eventually(serviceStatus(ns, "vneid"), timeout, interval).Should(HaveField("ReadyReplicas", int32(2)))
		Expect(condition(ns, "vneid", platformv1alpha1.ConditionAvailable)()).To(
			haveCondition(metav1.ConditionFalse, platformv1alpha1.ReasonDeploymentProgressing))
		Expect(condition(ns, "vneid", platformv1alpha1.ConditionReady)()).To(And(
			haveCondition(metav1.ConditionFalse, platformv1alpha1.ReasonNotReady),
			HaveField("Message", ContainSubstring("Available=False"))))

		markDeploymentReady(ns, "vneid", 3)
		waitCondition(ns, "vneid", platformv1alpha1.ConditionAvailable, metav1.ConditionTrue, platformv1alpha1.ReasonDeploymentAvailable)
		waitCondition(ns, "vneid", platformv1alpha1.ConditionReady, metav1.ConditionTrue, platformv1alpha1.ReasonReady)
		Expect(serviceStatus(ns, "vneid")()).To(And(
			HaveField("Replicas", int32(3)), HaveField("ReadyReplicas", int32(3)),
			HaveField("Exposure", platformv1alpha1.ExposureInternal),
			HaveField("Endpoint", "vneid."+ns+".svc.cluster.local:8080")))
	})

	It("names the pods' failure in Available: PodsFailing with ImagePullBackOff", func() {
		ns := newNamespace(nil)
		create(testutil.PublicService("forms", ns).Image("registry.smartcity.example/missing:0").Obj())
		waitCondition(ns, "forms", platformv1alpha1.ConditionAvailable, metav1.ConditionFalse, platformv1alpha1.ReasonDeploymentProgressing)

		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "forms-6d4cf56db6-x7k2p", Namespace: ns, Labels: selectorOf("forms")},
			Spec: corev1.PodSpec{
				ServiceAccountName:           "forms",
				AutomountServiceAccountToken: new(false),
				Containers:                   []corev1.Container{{Name: "app", Image: "registry.smartcity.example/missing:0"}},
			},
		}
		create(pod)
		pod.Status = corev1.PodStatus{
			Phase: corev1.PodPending,
			ContainerStatuses: []corev1.ContainerStatus{{
				Name:  "app",
				Image: "registry.smartcity.example/missing:0",
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
					Reason:  "ImagePullBackOff",
					Message: `Back-off pulling image "registry.smartcity.example/missing:0"`,
				}},
			}},
		}
		Expect(k8sClient.Status().Update(ctx, pod)).To(Succeed())

		waitCondition(ns, "forms", platformv1alpha1.ConditionAvailable, metav1.ConditionFalse, platformv1alpha1.ReasonPodsFailing)
		Expect(condition(ns, "forms", platformv1alpha1.ConditionAvailable)()).To(
			HaveField("Message", And(ContainSubstring("ImagePullBackOff"), ContainSubstring(pod.Name))))
		Expect(condition(ns, "forms", platformv1alpha1.ConditionReady)()).To(And(
			haveCondition(metav1.ConditionFalse, platformv1alpha1.ReasonNotReady),
			HaveField("Message", ContainSubstring("ImagePullBackOff"))))

		By("the pod becoming ready")
		markDeploymentReady(ns, "forms", 1)
		waitCondition(ns, "forms", platformv1alpha1.ConditionReady, metav1.ConditionTrue, platformv1alpha1.ReasonReady)
	})

	It("is Ready only when Available, NetworkIsolated and DependenciesSatisfied are all True", func() {
		ns := newNamespace(nil)
		create(testutil.PublicService("forms", ns).Consumes("vneid", "").Obj())
		markDeploymentReady(ns, "forms", 1)
		waitCondition(ns, "forms", platformv1alpha1.ConditionAvailable, metav1.ConditionTrue, platformv1alpha1.ReasonDeploymentAvailable)
		waitCondition(ns, "forms", platformv1alpha1.ConditionNetworkIsolated, metav1.ConditionTrue, platformv1alpha1.ReasonPolicyApplied)
		waitCondition(ns, "forms", platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionFalse,
			platformv1alpha1.ReasonDependencyNotFound)
		Expect(condition(ns, "forms", platformv1alpha1.ConditionReady)()).To(And(
			haveCondition(metav1.ConditionFalse, platformv1alpha1.ReasonNotReady),
			HaveField("Message", ContainSubstring("DependenciesSatisfied=False"))))

		create(testutil.PublicService("vneid", ns).AllowFromService("forms", "").Obj())
		waitCondition(ns, "forms", platformv1alpha1.ConditionReady, metav1.ConditionTrue, platformv1alpha1.ReasonReady)
	})

	It("follows the generation: observedGeneration of the status and of every condition", func() {
		ns := newNamespace(nil)
		create(testutil.PublicService("forms", ns).Obj())
		settle(ns, "forms", 1)
		Expect(getService(ns, "forms").Generation).To(Equal(int64(1)))

		updateService(ns, "forms", func(svc *platformv1alpha1.PublicService) { svc.Spec.Image = "registry.smartcity.example/app:2.0.0" })
		Expect(getService(ns, "forms").Generation).To(Equal(int64(2)))
		Eventually(func(g Gomega) {
			svc := getService(ns, "forms")
			g.Expect(svc.Status.ObservedGeneration).To(Equal(int64(2)))
			g.Expect(svc.Status.Conditions).To(HaveLen(5)) // the four of Ready, and ConnectivityVerified
			g.Expect(svc.Status.Conditions).To(HaveEach(HaveField("ObservedGeneration", int64(2))))
		}, timeout, interval).Should(Succeed())
	})
})
