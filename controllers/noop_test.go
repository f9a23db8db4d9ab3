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

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// allChildren returns an empty object of every kind of child of a Public service.
func allChildren() []client.Object {
	return []client.Object{&networkingv1.NetworkPolicy{}, &corev1.ServiceAccount{}, &appsv1.Deployment{}, &corev1.Service{},
		&autoscalingv2.HorizontalPodAutoscaler{}, &policyv1.PodDisruptionBudget{}, &networkingv1.Ingress{}}
}

var _ = Describe("Reconcile with nothing to do", func() {
	It("writes neither children nor status when the spec did not change", func() {
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
		statusPath := "/namespaces/" + ns + "/publicservices/" + name + "/status"
		eventsPath := "/namespaces/" + ns + "/events"
		applyPath := "/namespaces/" + ns + "/deployments/" + name

		rvs := resourceVersions()
		Expect(rvs).To(HaveLen(7))
		Expect(rvs).To(HaveEach(MatchRegexp(`^\d+$`)))
		status := getService(ns, name).Status
		statusWrites, eventWrites := apiRequests.writes(statusPath), apiRequests.writes(eventsPath)

		for i := range 2 {
			By(fmt.Sprintf("triggering reconcile %d with an annotation (no generation change)", i+1))
			applies := apiRequests.writes(applyPath)
			updateService(ns, name, func(svc *platformv1alpha1.PublicService) {
				if svc.Annotations == nil {
					svc.Annotations = map[string]string{}
				}
				svc.Annotations["test.smartcity.io/nudge"] = fmt.Sprint(i)
			})
			// The operator applies its children on every reconcile: its next apply of the
			// Deployment shows that the reconcile ran.
			Eventually(func() int { return apiRequests.writes(applyPath) }, timeout, interval).Should(BeNumerically(">", applies))
		}

		Consistently(func(g Gomega) {
			g.Expect(resourceVersions()).To(Equal(rvs), "a child was written")
			g.Expect(apiRequests.writes(statusPath)).To(Equal(statusWrites), "the status was written")
			g.Expect(apiRequests.writes(eventsPath)).To(Equal(eventWrites), "an event was recorded")
		}, 2*time.Second, interval).Should(Succeed())
		Expect(getService(ns, name).Status).To(Equal(status))
		Expect(getService(ns, name).Generation).To(Equal(int64(1)))
	})
})
