package controllers

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

var _ = Describe("Apply errors", func() {
	// rejectIn makes the API server refuse every create and update of probe's kind in ns, with
	// reason (Forbidden or Invalid) and message, through a ValidatingAdmissionPolicy bound to
	// that namespace; it returns once a dry-run create of probe is refused.
	rejectIn := func(ns, group, resource string, reason metav1.StatusReason, message string, probe client.Object) {
		GinkgoHelper()
		name := "reject-" + resource + "-" + ns
		policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
				FailurePolicy: ptr.To(admissionregistrationv1.Fail),
				MatchConstraints: &admissionregistrationv1.MatchResources{
					ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
						RuleWithOperations: admissionregistrationv1.RuleWithOperations{
							Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
							Rule: admissionregistrationv1.Rule{
								APIGroups: []string{group}, APIVersions: []string{"*"}, Resources: []string{resource}},
						},
					}},
				},
				Validations: []admissionregistrationv1.Validation{{Expression: "false", Message: message, Reason: &reason}},
			},
		}
		binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
				PolicyName:        name,
				ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
				MatchResources: &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
					MatchLabels: map[string]string{corev1.LabelMetadataName: ns}}},
			},
		}
		create(policy)
		DeferCleanup(k8sClient.Delete, ctx, policy)
		create(binding)
		DeferCleanup(k8sClient.Delete, ctx, binding)
		probe.SetNamespace(ns)
		Eventually(func() error { return k8sClient.Create(ctx, probe.DeepCopyObject().(client.Object), client.DryRunAll) },
			timeout, interval).Should(MatchError(ContainSubstring(message)))
	}

	It("keeps API errors out of conditions: a stable reason and the child's kind there, the error in a Warning event", func() {
		ns := newNamespace(nil)
		secret := "forbidden-by-policy-" + ns
		rejectIn(ns, "", "serviceaccounts", metav1.StatusReasonForbidden, secret, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "probe"}})

		create(testutil.PublicService("forms", ns).Obj())
		waitCondition(ns, "forms", platformv1alpha1.ConditionAvailable, metav1.ConditionFalse, platformv1alpha1.ReasonApplyFailed)
		Expect(condition(ns, "forms", platformv1alpha1.ConditionAvailable)()).To(
			HaveField("Message", "failed to apply the ServiceAccount; the error is in a Warning event"))
		Expect(condition(ns, "forms", platformv1alpha1.ConditionNetworkIsolated)()).To(
			haveCondition(metav1.ConditionTrue, platformv1alpha1.ReasonPolicyApplied))
		Expect(condition(ns, "forms", platformv1alpha1.ConditionReady)()).To(
			haveCondition(metav1.ConditionFalse, platformv1alpha1.ReasonNotReady))
		Expect(getService(ns, "forms").Status.Conditions).To(HaveEach(HaveField("Message", Not(ContainSubstring(secret)))))
		Eventually(warningEvents(ns, "forms", "ApplyFailed"), timeout, interval).Should(
			ContainElement(HaveField("Note", And(ContainSubstring("ServiceAccount"), ContainSubstring(secret)))))
	})

	// An invalid child cannot become valid by retrying: every step stops terminally, with the
	// fields to change in the condition (an Invalid error's field message is actionable).
	DescribeTable("treats an invalid child as a terminal error",
		func(kind, group, resource, conditionType string, probe client.Object) {
			ns := newNamespace(nil)
			message := "invalid-by-policy-" + ns
			rejectIn(ns, group, resource, metav1.StatusReasonInvalid, message, probe)

			create(testutil.PublicService("forms", ns).Obj())
			waitCondition(ns, "forms", conditionType, metav1.ConditionFalse, platformv1alpha1.ReasonApplyFailed)
			Expect(condition(ns, "forms", conditionType)()).To(HaveField("Message",
				And(HavePrefix("the API server rejected the "+kind+" as invalid: "), ContainSubstring(message))))
			Eventually(warningEvents(ns, "forms", "ApplyFailed"), timeout, interval).Should(
				ContainElement(HaveField("Note", ContainSubstring(message))))

			// A retried error would be applied again and again (with backoff); a terminal one only
			// when something changes, here once more for the status write.
			path := fmt.Sprintf("/namespaces/%s/%s/forms", ns, resource)
			applies := apiRequests.writes(path)
			Consistently(func() int { return apiRequests.writes(path) }, "2s", interval).Should(BeNumerically("<=", applies+1),
				"%s is applied again and again", kind)
		},
		Entry("NetworkPolicy", "NetworkPolicy", "networking.k8s.io", "networkpolicies", platformv1alpha1.ConditionNetworkIsolated,
			&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "probe"}}),
		Entry("Deployment", "Deployment", "apps", "deployments", platformv1alpha1.ConditionAvailable, probeDeployment()),
	)
})

// probeDeployment is the smallest valid Deployment.
func probeDeployment() *appsv1.Deployment {
	labels := map[string]string{"app": "probe"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "probe"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "probe", Image: "probe:1"}}},
			},
		},
	}
}
