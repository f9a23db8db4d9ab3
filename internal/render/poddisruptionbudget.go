package render

import (
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	policyv1ac "k8s.io/client-go/applyconfigurations/policy/v1"
)

// PodDisruptionBudget lets voluntary disruptions (node drains) take at most one of the
// service's pods at a time. It returns nil when replicas.min is 1: a budget would then block
// every drain. Pods that are not running healthily can always be evicted, so a crash-looping
// service never blocks node maintenance.
func PodDisruptionBudget(in Input) *policyv1ac.PodDisruptionBudgetApplyConfiguration {
	if *in.Spec.Replicas.Min <= 1 {
		return nil
	}
	return policyv1ac.PodDisruptionBudget(in.name(), in.namespace()).
		WithLabels(Labels(in.Service)).
		WithOwnerReferences(OwnerReference(in.Service)).
		WithSpec(policyv1ac.PodDisruptionBudgetSpec().
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(SelectorLabels(in.name()))).
			WithMaxUnavailable(intstr.FromInt32(1)).
			WithUnhealthyPodEvictionPolicy(policyv1.AlwaysAllow))
}
