package controllers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

var _ = Describe("Name conflicts", func() {
	foreignLabels := map[string]string{"app": "legacy"}

	It("never takes over a Deployment it does not own: NameConflict, object untouched", func() {
		ns := newNamespace(nil)
		replicas := int32(2)
		foreign := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "forms", Namespace: ns, Labels: foreignLabels},
			Spec: appsv1.DeploymentSpec{
				Replicas: &replicas,
				Selector: &metav1.LabelSelector{MatchLabels: foreignLabels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: foreignLabels},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "legacy", Image: "legacy:1"}}},
				},
			},
		}
		create(foreign)
		before := &appsv1.Deployment{}
		waitFor(ns, "forms", before)

		create(testutil.PublicService("forms", ns).Obj())
		waitCondition(ns, "forms", platformv1alpha1.ConditionAvailable, metav1.ConditionFalse, platformv1alpha1.ReasonNameConflict)
		Expect(*condition(ns, "forms", platformv1alpha1.ConditionAvailable)()).To(
			HaveField("Message", ContainSubstring("Deployment %s/forms already exists", ns)))
		waitCondition(ns, "forms", platformv1alpha1.ConditionReady, metav1.ConditionFalse, platformv1alpha1.ReasonNotReady)

		after := &appsv1.Deployment{}
		waitFor(ns, "forms", after)
		Expect(after.ResourceVersion).To(Equal(before.ResourceVersion), "the foreign Deployment was written to")
		Expect(after.Spec).To(Equal(before.Spec))
		Expect(after.Labels).To(Equal(foreignLabels))
		Expect(after.OwnerReferences).To(BeEmpty())
		// The NetworkPolicy comes first and is the operator's own.
		np := &networkingv1.NetworkPolicy{}
		waitFor(ns, "forms", np)
		expectControlledBy(np, getService(ns, "forms"))
	})

	It("creates no Deployment at all when the NetworkPolicy's name is taken", func() {
		ns := newNamespace(nil)
		foreign := &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "forms", Namespace: ns, Labels: foreignLabels},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: foreignLabels},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			},
		}
		create(foreign)
		before := &networkingv1.NetworkPolicy{}
		waitFor(ns, "forms", before)

		create(testutil.PublicService("forms", ns).Obj())
		waitCondition(ns, "forms", platformv1alpha1.ConditionNetworkIsolated, metav1.ConditionFalse, platformv1alpha1.ReasonNameConflict)
		waitCondition(ns, "forms", platformv1alpha1.ConditionReady, metav1.ConditionFalse, platformv1alpha1.ReasonNotReady)

		after := &networkingv1.NetworkPolicy{}
		waitFor(ns, "forms", after)
		Expect(after.ResourceVersion).To(Equal(before.ResourceVersion), "the foreign NetworkPolicy was written to")
		Expect(after.Spec).To(Equal(before.Spec))
		Expect(after.OwnerReferences).To(BeEmpty())
		expectAbsent(ns, "forms", &appsv1.Deployment{})
		expectAbsent(ns, "forms", &corev1.ServiceAccount{})
		expectAbsent(ns, "forms", &corev1.Service{})
	})

	It("recovers once the conflicting object is deleted", func() {
		ns := newNamespace(nil)
		foreign := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "forms", Namespace: ns, Labels: foreignLabels}}
		create(foreign)
		create(testutil.PublicService("forms", ns).Obj())
		waitCondition(ns, "forms", platformv1alpha1.ConditionAvailable, metav1.ConditionFalse, platformv1alpha1.ReasonNameConflict)
		expectAbsent(ns, "forms", &appsv1.Deployment{})

		Expect(k8sClient.Delete(ctx, foreign)).To(Succeed())
		// Nothing maps a foreign object to the service; a blocked service retries after a
		// minute, so the test nudges it with an annotation instead of waiting.
		updateService(ns, "forms", func(svc *platformv1alpha1.PublicService) {
			svc.Annotations = map[string]string{"test.smartcity.io/nudge": "1"}
		})
		sa := &corev1.ServiceAccount{}
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, key(ns, "forms"), sa)).To(Succeed())
			g.Expect(sa.OwnerReferences).NotTo(BeEmpty())
		}, timeout, interval).Should(Succeed())
		expectControlledBy(sa, getService(ns, "forms"))
		waitFor(ns, "forms", &appsv1.Deployment{})
	})
})
