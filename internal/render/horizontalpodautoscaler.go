package render

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	autoscalingv2ac "k8s.io/client-go/applyconfigurations/autoscaling/v2"
)

// HorizontalPodAutoscaler scales the Deployment between replicas.min and replicas.max on
// average CPU utilization. It returns nil when the spec is not autoscaled (max == min).
func HorizontalPodAutoscaler(in Input) *autoscalingv2ac.HorizontalPodAutoscalerApplyConfiguration {
	if !in.Spec.Autoscaled() {
		return nil
	}
	r := in.Spec.Replicas
	return autoscalingv2ac.HorizontalPodAutoscaler(in.name(), in.namespace()).
		WithLabels(Labels(in.Service)).
		WithOwnerReferences(OwnerReference(in.Service)).
		WithSpec(autoscalingv2ac.HorizontalPodAutoscalerSpec().
			WithScaleTargetRef(autoscalingv2ac.CrossVersionObjectReference().
				WithAPIVersion("apps/v1").
				WithKind("Deployment").
				WithName(in.name())).
			WithMinReplicas(*r.Min).
			WithMaxReplicas(*r.Max).
			WithMetrics(autoscalingv2ac.MetricSpec().
				WithType(autoscalingv2.ResourceMetricSourceType).
				WithResource(autoscalingv2ac.ResourceMetricSource().
					WithName(corev1.ResourceCPU).
					WithTarget(autoscalingv2ac.MetricTarget().
						WithType(autoscalingv2.UtilizationMetricType).
						WithAverageUtilization(*r.TargetCPUUtilizationPercentage)))))
}
