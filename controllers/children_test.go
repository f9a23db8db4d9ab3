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
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

var _ = Describe("Children per profile", func() {
	// expectHardenedPods checks the Pod Security Standard "restricted" settings and the
	// read-only root filesystem of a Deployment's pod template.
	expectHardenedPods := func(d *appsv1.Deployment, name, image string) {
		GinkgoHelper()
		pod := d.Spec.Template.Spec
		Expect(d.Spec.Selector.MatchLabels).To(Equal(selectorOf(name)))
		Expect(pod.ServiceAccountName).To(Equal(name))
		Expect(pod.AutomountServiceAccountToken).To(HaveValue(BeFalse()))
		Expect(pod.SecurityContext).NotTo(BeNil())
		Expect(pod.SecurityContext.RunAsNonRoot).To(HaveValue(BeTrue()))
		Expect(pod.SecurityContext.SeccompProfile).To(HaveValue(HaveField("Type", corev1.SeccompProfileTypeRuntimeDefault)))
		Expect(pod.Containers).To(HaveLen(1))
		c := pod.Containers[0]
		Expect(c.Image).To(Equal(image))
		Expect(c.SecurityContext).NotTo(BeNil())
		Expect(c.SecurityContext.RunAsNonRoot).To(HaveValue(BeTrue()))
		Expect(c.SecurityContext.ReadOnlyRootFilesystem).To(HaveValue(BeTrue()))
		Expect(c.SecurityContext.AllowPrivilegeEscalation).To(HaveValue(BeFalse()))
		Expect(c.SecurityContext.Capabilities).NotTo(BeNil())
		Expect(c.SecurityContext.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")))
		Expect(c.SecurityContext.Capabilities.Add).To(BeEmpty())
		Expect(c.VolumeMounts).To(ContainElement(HaveField("MountPath", "/tmp")))
		Expect(c.Resources.Requests).To(HaveKey(corev1.ResourceCPU), "an HPA needs a CPU request")
	}

	// expectPolicyBasics checks that a NetworkPolicy selects exactly the service's pods and
	// lists both policy types (so everything not admitted is denied).
	expectPolicyBasics := func(np *networkingv1.NetworkPolicy, name string) {
		GinkgoHelper()
		Expect(np.Spec.PodSelector.MatchLabels).To(Equal(selectorOf(name)))
		Expect(np.Spec.PodSelector.MatchExpressions).To(BeEmpty())
		Expect(np.Spec.PolicyTypes).To(ConsistOf(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress))
		Expect(np.Spec.Egress).To(ContainElement(dnsEgress()))
	}

	// expectChild checks the owner reference and labels of a child.
	expectChild := func(obj client.Object, svc *platformv1alpha1.PublicService, component string) {
		GinkgoHelper()
		expectControlledBy(obj, svc)
		expectLabels(obj.GetLabels(), svc.Name, svc.Spec.Profile, component)
	}

	It("renders a Portal with an Ingress of class city, an HPA 2-10 and a PDB", func() {
		ns := newNamespace(nil)
		create(testutil.PublicService("portal", ns).Profile(platformv1alpha1.ProfilePortal).
			Host("dichvucong.hanoi.example").TLS("portal-tls").Obj())
		waitCondition(ns, "portal", platformv1alpha1.ConditionNetworkIsolated, metav1.ConditionTrue, platformv1alpha1.ReasonPolicyApplied)
		svc := getService(ns, "portal")
		const component = "portal"

		np := &networkingv1.NetworkPolicy{}
		waitFor(ns, "portal", np)
		expectChild(np, svc, component)
		expectPolicyBasics(np, "portal")
		Expect(np.Spec.Ingress).To(ConsistOf(networkingv1.NetworkPolicyIngressRule{
			From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/metadata.name": "ingress-nginx"}}}},
			Ports: []networkingv1.NetworkPolicyPort{tcpPort(8080)},
		}), "only the ingress controller's namespace may call a Public service")
		Expect(np.Spec.Egress).To(Equal([]networkingv1.NetworkPolicyEgressRule{dnsEgress()}))

		sa := &corev1.ServiceAccount{}
		waitFor(ns, "portal", sa)
		expectChild(sa, svc, component)
		Expect(sa.AutomountServiceAccountToken).To(HaveValue(BeFalse()))

		d := &appsv1.Deployment{}
		waitFor(ns, "portal", d)
		expectChild(d, svc, component)
		expectLabels(d.Spec.Template.Labels, "portal", platformv1alpha1.ProfilePortal, component)
		expectHardenedPods(d, "portal", testutil.DefaultImage)

		s := &corev1.Service{}
		waitFor(ns, "portal", s)
		expectChild(s, svc, component)
		Expect(s.Spec.Type).To(Equal(corev1.ServiceTypeClusterIP))
		Expect(s.Spec.Selector).To(Equal(selectorOf("portal")))
		Expect(s.Spec.Ports).To(ConsistOf(And(HaveField("Port", int32(8080)), HaveField("TargetPort", intstr.FromString("http")))))

		hpa := &autoscalingv2.HorizontalPodAutoscaler{}
		waitFor(ns, "portal", hpa)
		expectChild(hpa, svc, component)
		Expect(hpa.Spec.MinReplicas).To(HaveValue(Equal(int32(2))))
		Expect(hpa.Spec.MaxReplicas).To(Equal(int32(10)))
		Expect(hpa.Spec.ScaleTargetRef).To(Equal(autoscalingv2.CrossVersionObjectReference{
			APIVersion: "apps/v1", Kind: "Deployment", Name: "portal"}))

		pdb := &policyv1.PodDisruptionBudget{}
		waitFor(ns, "portal", pdb)
		expectChild(pdb, svc, component)
		Expect(pdb.Spec.MaxUnavailable).To(HaveValue(Equal(intstr.FromInt32(1))))
		Expect(pdb.Spec.Selector.MatchLabels).To(Equal(selectorOf("portal")))

		ing := &networkingv1.Ingress{}
		waitFor(ns, "portal", ing)
		expectChild(ing, svc, component)
		Expect(ing.Spec.IngressClassName).To(HaveValue(Equal("city")))
		Expect(ing.Spec.TLS).To(ConsistOf(networkingv1.IngressTLS{Hosts: []string{"dichvucong.hanoi.example"}, SecretName: "portal-tls"}))
		Expect(ing.Spec.Rules).To(HaveLen(1))
		Expect(ing.Spec.Rules[0].Host).To(Equal("dichvucong.hanoi.example"))
		Expect(ing.Spec.Rules[0].HTTP.Paths).To(ConsistOf(HaveField("Backend.Service", HaveValue(Equal(
			networkingv1.IngressServiceBackend{Name: "portal", Port: networkingv1.ServiceBackendPort{Number: 8080}})))))
	})

	It("renders an IdentityVerification service: Internal, HPA 3-12, PDB, no Ingress", func() {
		ns := newNamespace(nil)
		create(testutil.PublicService("vneid", ns).Profile(platformv1alpha1.ProfileIdentityVerification).Obj())
		waitCondition(ns, "vneid", platformv1alpha1.ConditionAvailable, metav1.ConditionFalse, platformv1alpha1.ReasonDeploymentProgressing)
		svc := getService(ns, "vneid")
		const component = "identity-verification"

		np := &networkingv1.NetworkPolicy{}
		waitFor(ns, "vneid", np)
		expectChild(np, svc, component)
		expectPolicyBasics(np, "vneid")
		Expect(np.Spec.Ingress).To(BeEmpty(), "nobody consumes it yet, so no ingress is admitted")
		Expect(np.Spec.Egress).To(Equal([]networkingv1.NetworkPolicyEgressRule{dnsEgress()}))

		sa := &corev1.ServiceAccount{}
		waitFor(ns, "vneid", sa)
		expectChild(sa, svc, component)
		Expect(sa.AutomountServiceAccountToken).To(HaveValue(BeFalse()))

		d := &appsv1.Deployment{}
		waitFor(ns, "vneid", d)
		expectChild(d, svc, component)
		expectHardenedPods(d, "vneid", testutil.DefaultImage)

		s := &corev1.Service{}
		waitFor(ns, "vneid", s)
		expectChild(s, svc, component)
		Expect(s.Spec.Type).To(Equal(corev1.ServiceTypeClusterIP))

		hpa := &autoscalingv2.HorizontalPodAutoscaler{}
		waitFor(ns, "vneid", hpa)
		expectChild(hpa, svc, component)
		Expect(hpa.Spec.MinReplicas).To(HaveValue(Equal(int32(3))))
		Expect(hpa.Spec.MaxReplicas).To(Equal(int32(12)))
		Expect(hpa.Spec.Metrics).To(ConsistOf(HaveField("Resource.Target.AverageUtilization", HaveValue(Equal(int32(70))))))

		pdb := &policyv1.PodDisruptionBudget{}
		waitFor(ns, "vneid", pdb)
		expectChild(pdb, svc, component)
		Expect(pdb.Spec.MaxUnavailable).To(HaveValue(Equal(intstr.FromInt32(1))))

		expectAbsent(ns, "vneid", &networkingv1.Ingress{})
		Expect(serviceStatus(ns, "vneid")().Exposure).To(Equal(platformv1alpha1.ExposureInternal))
	})

	It("renders a HospitalCheckIn service with a zone: NodePort with externalTrafficPolicy Local, HPA 2-8", func() {
		ns := newNamespace(map[string]string{"city.example/hospital": "true"})
		zone := "lan-" + ns
		create(testutil.NetworkZone(zone).CIDRs("10.20.0.0/16").
			AllowNamespaces(map[string]string{"city.example/hospital": "true"}).Obj())
		create(testutil.PublicService("checkin", ns).Profile(platformv1alpha1.ProfileHospitalCheckIn).
			Port(9443).AllowFromZone(zone).Obj())
		waitCondition(ns, "checkin", platformv1alpha1.ConditionDependenciesSatisfied, metav1.ConditionTrue,
			platformv1alpha1.ReasonDependenciesSatisfied)
		svc := getService(ns, "checkin")
		const component = "hospital-check-in"

		np := &networkingv1.NetworkPolicy{}
		waitFor(ns, "checkin", np)
		expectChild(np, svc, component)
		expectPolicyBasics(np, "checkin")
		Expect(np.Spec.Ingress).To(ConsistOf(networkingv1.NetworkPolicyIngressRule{
			From:  []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.20.0.0/16"}}},
			Ports: []networkingv1.NetworkPolicyPort{tcpPort(9443)},
		}))

		s := &corev1.Service{}
		waitFor(ns, "checkin", s)
		expectChild(s, svc, component)
		Expect(s.Spec.Type).To(Equal(corev1.ServiceTypeNodePort))
		Expect(s.Spec.ExternalTrafficPolicy).To(Equal(corev1.ServiceExternalTrafficPolicyLocal))
		Expect(s.Spec.Ports).To(ConsistOf(And(HaveField("Port", int32(9443)), HaveField("NodePort", BeNumerically(">", 0)))))

		d := &appsv1.Deployment{}
		waitFor(ns, "checkin", d)
		expectChild(d, svc, component)
		expectHardenedPods(d, "checkin", testutil.DefaultImage)
		Expect(d.Spec.Template.Spec.Containers[0].Ports).To(ConsistOf(HaveField("ContainerPort", int32(9443))))

		hpa := &autoscalingv2.HorizontalPodAutoscaler{}
		waitFor(ns, "checkin", hpa)
		expectChild(hpa, svc, component)
		Expect(hpa.Spec.MinReplicas).To(HaveValue(Equal(int32(2))))
		Expect(hpa.Spec.MaxReplicas).To(Equal(int32(8)))

		pdb := &policyv1.PodDisruptionBudget{}
		waitFor(ns, "checkin", pdb)
		expectChild(pdb, svc, component)
		Expect(pdb.Spec.MaxUnavailable).To(HaveValue(Equal(intstr.FromInt32(1))))

		sa := &corev1.ServiceAccount{}
		waitFor(ns, "checkin", sa)
		expectChild(sa, svc, component)
		expectAbsent(ns, "checkin", &networkingv1.Ingress{})
	})

	It("renders a Custom service with min 1 as one fixed replica, without HPA or PDB", func() {
		ns := newNamespace(nil)
		create(testutil.PublicService("forms", ns).Obj())
		// Available is the last step: once it describes this generation, every child step ran.
		waitCondition(ns, "forms", platformv1alpha1.ConditionAvailable, metav1.ConditionFalse, platformv1alpha1.ReasonDeploymentProgressing)
		svc := getService(ns, "forms")

		d := &appsv1.Deployment{}
		waitFor(ns, "forms", d)
		expectChild(d, svc, "custom")
		Expect(d.Spec.Replicas).To(HaveValue(Equal(int32(1))))
		Expect(ownersOf(d, "spec", "replicas")).To(ContainElement("smartcity-operator/Apply"))
		for _, obj := range []client.Object{&networkingv1.NetworkPolicy{}, &corev1.ServiceAccount{}, &corev1.Service{}} {
			waitFor(ns, "forms", obj)
			expectChild(obj, svc, "custom")
		}
		expectAbsent(ns, "forms", &autoscalingv2.HorizontalPodAutoscaler{})
		expectAbsent(ns, "forms", &policyv1.PodDisruptionBudget{})
		expectAbsent(ns, "forms", &networkingv1.Ingress{})
	})
})
