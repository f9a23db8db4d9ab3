package controllers

import (
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
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

var _ = Describe("PublicService children", func() {
	It("creates every child of an IdentityVerification service, owned and labelled, and becomes Ready", func() {
		ns := newNamespace(nil)
		svc := testutil.PublicService("vneid", ns).Profile(platformv1alpha1.ProfileIdentityVerification).Image("city-service:1.0.0").Obj()
		Expect(k8sClient.Create(ctx, svc)).To(Succeed())
		key := client.ObjectKey{Namespace: ns, Name: "vneid"}

		for _, obj := range []client.Object{&networkingv1.NetworkPolicy{}, &corev1.ServiceAccount{}, &appsv1.Deployment{},
			&corev1.Service{}, &autoscalingv2.HorizontalPodAutoscaler{}, &policyv1.PodDisruptionBudget{}} {
			Eventually(func() error { return k8sClient.Get(ctx, key, obj) }, timeout, interval).Should(Succeed(), "%T", obj)
			owner := metav1.GetControllerOf(obj)
			Expect(owner).NotTo(BeNil(), "%T has no controller owner", obj)
			Expect(owner.Kind).To(Equal("PublicService"))
			Expect(obj.GetLabels()).To(HaveKeyWithValue("app.kubernetes.io/name", "vneid"))
		}
		Eventually(condition(ns, "vneid", platformv1alpha1.ConditionAvailable), timeout, interval).
			Should(haveCondition(metav1.ConditionFalse, platformv1alpha1.ReasonDeploymentProgressing))
		Expect(condition(ns, "vneid", platformv1alpha1.ConditionReady)()).To(haveCondition(metav1.ConditionFalse, platformv1alpha1.ReasonNotReady))

		markDeploymentReady(ns, "vneid", 3)
		Eventually(condition(ns, "vneid", platformv1alpha1.ConditionReady), timeout, interval).
			Should(haveCondition(metav1.ConditionTrue, platformv1alpha1.ReasonReady))
		Expect(getService(ns, "vneid").Status.Endpoint).To(Equal("vneid." + ns + ".svc.cluster.local:8080"))
	})
})
