package controllers

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// allChildren returns an empty object of every kind of child of a Public service.
func allChildren() []client.Object {
	return []client.Object{&networkingv1.NetworkPolicy{}, &corev1.ServiceAccount{}, &appsv1.Deployment{}, &corev1.Service{},
		&autoscalingv2.HorizontalPodAutoscaler{}, &policyv1.PodDisruptionBudget{}, &networkingv1.Ingress{}}
}

// reconciles returns controller-runtime's controller_runtime_reconcile_total of the
// publicservice controller, summed over results.
func reconciles() float64 {
	GinkgoHelper()
	families, err := ctrlmetrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	total := 0.0
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == "publicservice" {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

var _ = Describe("Reconcile with nothing to do", func() {
	It("sends no request, neither reads nor writes, when nothing changed", func() {
		ns := newNamespace(nil)
		const name = "portal"
		create(testutil.PublicService(name, ns).Profile(platformv1alpha1.ProfilePortal).
			Host("dichvucong.hanoi.example").TLS("portal-tls").Consumes("vneid", "").Obj())
		create(testutil.PublicService("vneid", ns).Profile(platformv1alpha1.ProfileIdentityVerification).
			AllowFromService(name, "").Obj())
		settle(ns, name, 2)

		// resourceVersions returns every child's resourceVersion, by kind.
		resourceVersions := func() map[string]string {
			out := map[string]string{}
			for _, obj := range allChildren() {
				if err := k8sClient.Get(ctx, key(ns, name), obj); err != nil {
					out[fmt.Sprintf("%T", obj)] = err.Error()
					continue
				}
				out[fmt.Sprintf("%T", obj)] = obj.GetResourceVersion()
			}
			return out
		}
		// Every request about this namespace's objects: children, status, events.
		inNamespace := func() int { return apiRequests.requests("/namespaces/" + ns + "/") }

		By("waiting until convergence has sent its last request")
		// The connectivity controller verifies the operator's own changes settleDelay after
		// them: quiet means longer than that.
		Eventually(func(g Gomega) {
			before := inNamespace()
			g.Consistently(inNamespace, settleDelay+time.Second, interval).Should(Equal(before))
		}, timeout, interval).Should(Succeed())
		rvs := resourceVersions()
		Expect(rvs).To(HaveLen(7))
		Expect(rvs).To(HaveEach(MatchRegexp(`^\d+$`)))
		status := getService(ns, name).Status
		requests := inNamespace()

		for i := range 2 {
			By(fmt.Sprintf("triggering reconcile %d of both services with a namespace label that no intent reads", i+1))
			ran := reconciles()
			namespace := &corev1.Namespace{}
			Expect(k8sClient.Get(ctx, client.ObjectKey{Name: ns}, namespace)).To(Succeed())
			namespace.Labels["test.smartcity.io/nudge"] = fmt.Sprint(i)
			Expect(k8sClient.Update(ctx, namespace)).To(Succeed())
			// No request tells that the reconciles ran: controller-runtime's count does.
			Eventually(reconciles, timeout, interval).Should(BeNumerically(">=", ran+2))
		}

		By("changing the Deployment's status only, as kube-controller-manager does when pods come and go")
		ran := reconciles()
		dep := &appsv1.Deployment{}
		Expect(k8sClient.Get(ctx, key(ns, name), dep)).To(Succeed())
		dep.Status.CollisionCount = new(int32(1))
		Expect(k8sClient.Status().Update(ctx, dep)).To(Succeed())
		Eventually(reconciles, timeout, interval).Should(BeNumerically(">", ran))
		rvs[fmt.Sprintf("%T", dep)] = dep.ResourceVersion // the status write's

		Consistently(func(g Gomega) {
			g.Expect(inNamespace()).To(Equal(requests), "a request was sent")
			g.Expect(resourceVersions()).To(Equal(rvs), "a child was written")
		}, 2*time.Second, interval).Should(Succeed())
		Expect(getService(ns, name).Status).To(Equal(status))
		Expect(getService(ns, name).Generation).To(Equal(int64(1)))
	})
})
