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
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// drift is a change someone else makes to a field the operator sets on a child.
type drift struct {
	newObj func() client.Object
	// value reads the field; mutate sets it to drifted.
	value   func(client.Object) any
	mutate  func(client.Object)
	want    any
	drifted any
}

var _ = Describe("Drift repair", func() {
	const (
		name      = "portal"
		host      = "dichvucong.hanoi.example"
		otherHand = "kubectl-edit" // the field manager of the drift
	)

	// newPortal creates a Portal (it has every kind of child) and waits until all exist.
	newPortal := func() string {
		GinkgoHelper()
		ns := newNamespace(nil)
		create(testutil.PublicService(name, ns).Profile(platformv1alpha1.ProfilePortal).Host(host).TLS("portal-tls").Obj())
		waitCondition(ns, name, platformv1alpha1.ConditionAvailable, metav1.ConditionFalse, platformv1alpha1.ReasonDeploymentProgressing)
		return ns
	}
	read := func(ns string, obj client.Object, value func(client.Object) any) func() any {
		return func() any {
			if err := k8sClient.Get(ctx, key(ns, name), obj); err != nil {
				return err
			}
			return value(obj)
		}
	}

	DescribeTable("restores a field the operator sets",
		func(d drift) {
			ns := newPortal()
			obj := d.newObj()
			Eventually(read(ns, obj, d.value), timeout, interval).Should(Equal(d.want))

			updateObject(ns, name, obj, otherHand, d.mutate)
			Expect(d.value(obj)).To(Equal(d.drifted), "the drift did not land")
			Eventually(read(ns, obj, d.value), timeout, interval).Should(Equal(d.want))
		},
		Entry("NetworkPolicy: a deleted ingress rule", drift{
			newObj:  func() client.Object { return &networkingv1.NetworkPolicy{} },
			value:   func(o client.Object) any { return len(o.(*networkingv1.NetworkPolicy).Spec.Ingress) },
			mutate:  func(o client.Object) { o.(*networkingv1.NetworkPolicy).Spec.Ingress = nil },
			want:    1,
			drifted: 0,
		}),
		Entry("ServiceAccount: token automount turned on", drift{
			newObj: func() client.Object { return &corev1.ServiceAccount{} },
			value: func(o client.Object) any {
				return ptr.Deref(o.(*corev1.ServiceAccount).AutomountServiceAccountToken, true)
			},
			mutate:  func(o client.Object) { o.(*corev1.ServiceAccount).AutomountServiceAccountToken = new(true) },
			want:    false,
			drifted: true,
		}),
		Entry("Deployment: a changed image", drift{
			newObj: func() client.Object { return &appsv1.Deployment{} },
			value:  func(o client.Object) any { return o.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Image },
			mutate: func(o client.Object) {
				o.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Image = "evil.example/miner:1"
			},
			want:    testutil.DefaultImage,
			drifted: "evil.example/miner:1",
		}),
		// The cache keeps Deployments trimmed to labels, names and ports (internal/leancache): a
		// digest of the whole template tells the apply memo about these edits.
		Entry("Deployment: privilege escalation allowed", drift{
			newObj: func() client.Object { return &appsv1.Deployment{} },
			value: func(o client.Object) any {
				return ptr.Deref(o.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation, true)
			},
			mutate: func(o client.Object) {
				o.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = new(true)
			},
			want:    false,
			drifted: true,
		}),
		Entry("Deployment: a changed service account", drift{
			newObj:  func() client.Object { return &appsv1.Deployment{} },
			value:   func(o client.Object) any { return o.(*appsv1.Deployment).Spec.Template.Spec.ServiceAccountName },
			mutate:  func(o client.Object) { o.(*appsv1.Deployment).Spec.Template.Spec.ServiceAccountName = "default" },
			want:    name,
			drifted: "default",
		}),
		Entry("Service: a changed port", drift{
			newObj: func() client.Object { return &corev1.Service{} },
			value: func(o client.Object) any {
				svcPorts := o.(*corev1.Service).Spec.Ports
				ports := make([]int32, 0, len(svcPorts))
				for _, p := range svcPorts {
					ports = append(ports, p.Port)
				}
				return ports
			},
			mutate:  func(o client.Object) { o.(*corev1.Service).Spec.Ports[0].Port = 9999 },
			want:    []int32{8080},
			drifted: []int32{9999},
		}),
		Entry("Service: a changed selector", drift{
			newObj:  func() client.Object { return &corev1.Service{} },
			value:   func(o client.Object) any { return o.(*corev1.Service).Spec.Selector["app.kubernetes.io/name"] },
			mutate:  func(o client.Object) { o.(*corev1.Service).Spec.Selector["app.kubernetes.io/name"] = "other" },
			want:    name,
			drifted: "other",
		}),
		Entry("HorizontalPodAutoscaler: a raised maxReplicas", drift{
			newObj:  func() client.Object { return &autoscalingv2.HorizontalPodAutoscaler{} },
			value:   func(o client.Object) any { return o.(*autoscalingv2.HorizontalPodAutoscaler).Spec.MaxReplicas },
			mutate:  func(o client.Object) { o.(*autoscalingv2.HorizontalPodAutoscaler).Spec.MaxReplicas = 50 },
			want:    int32(10),
			drifted: int32(50),
		}),
		Entry("PodDisruptionBudget: a changed maxUnavailable", drift{
			newObj: func() client.Object { return &policyv1.PodDisruptionBudget{} },
			value:  func(o client.Object) any { return o.(*policyv1.PodDisruptionBudget).Spec.MaxUnavailable.String() },
			mutate: func(o client.Object) {
				o.(*policyv1.PodDisruptionBudget).Spec.MaxUnavailable = new(intstr.FromString("100%"))
			},
			want:    "1",
			drifted: "100%",
		}),
		Entry("Ingress: a changed host", drift{
			newObj:  func() client.Object { return &networkingv1.Ingress{} },
			value:   func(o client.Object) any { return o.(*networkingv1.Ingress).Spec.Rules[0].Host },
			mutate:  func(o client.Object) { o.(*networkingv1.Ingress).Spec.Rules[0].Host = "phishing.example" },
			want:    host,
			drifted: "phishing.example",
		}),
	)

	DescribeTable("recreates a deleted child",
		func(newObj func() client.Object) {
			ns := newPortal()
			obj := newObj()
			waitFor(ns, name, obj)
			oldUID := obj.GetUID()

			Expect(k8sClient.Delete(ctx, obj)).To(Succeed())
			Eventually(func() types.UID {
				if err := k8sClient.Get(ctx, key(ns, name), obj); err != nil {
					return ""
				}
				return obj.GetUID()
			}, timeout, interval).ShouldNot(Or(BeEmpty(), Equal(oldUID)))
			expectControlledBy(obj, getService(ns, name))
		},
		Entry("NetworkPolicy", func() client.Object { return &networkingv1.NetworkPolicy{} }),
		Entry("ServiceAccount", func() client.Object { return &corev1.ServiceAccount{} }),
		Entry("Deployment", func() client.Object { return &appsv1.Deployment{} }),
		Entry("Service", func() client.Object { return &corev1.Service{} }),
		Entry("HorizontalPodAutoscaler", func() client.Object { return &autoscalingv2.HorizontalPodAutoscaler{} }),
		Entry("PodDisruptionBudget", func() client.Object { return &policyv1.PodDisruptionBudget{} }),
		Entry("Ingress", func() client.Object { return &networkingv1.Ingress{} }),
	)

	It("leaves alone fields it does not set", func() {
		ns := newPortal()
		const annotation = "monitoring.city.example/scrape"
		updateObject(ns, name, &appsv1.Deployment{}, otherHand, func(d *appsv1.Deployment) {
			d.Annotations = map[string]string{annotation: "true"}
			d.Spec.Template.Annotations = map[string]string{annotation: "true"}
		})
		updateObject(ns, name, &corev1.Service{}, otherHand, func(s *corev1.Service) {
			s.Annotations = map[string]string{annotation: "true"}
		})

		By("changing the spec, so the operator applies every child again")
		updateService(ns, name, func(svc *platformv1alpha1.PublicService) { svc.Spec.Image = "registry.smartcity.example/app:1.1.0" })
		d := &appsv1.Deployment{}
		Eventually(read(ns, d, func(o client.Object) any {
			return o.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Image
		}), timeout, interval).Should(Equal("registry.smartcity.example/app:1.1.0"))
		waitCondition(ns, name, platformv1alpha1.ConditionAvailable, metav1.ConditionFalse, platformv1alpha1.ReasonDeploymentProgressing)

		Expect(d.Annotations).To(HaveKeyWithValue(annotation, "true"))
		Expect(d.Spec.Template.Annotations).To(HaveKeyWithValue(annotation, "true"))
		s := &corev1.Service{}
		waitFor(ns, name, s)
		Expect(s.Annotations).To(HaveKeyWithValue(annotation, "true"))
	})
})
