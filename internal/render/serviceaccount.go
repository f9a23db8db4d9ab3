package render

import (
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
)

// ServiceAccount is the identity of the service's pods. Its API token is not mounted: the
// service does not call the Kubernetes API.
func ServiceAccount(in Input) *corev1ac.ServiceAccountApplyConfiguration {
	return corev1ac.ServiceAccount(in.name(), in.namespace()).
		WithLabels(Labels(in.Service)).
		WithOwnerReferences(OwnerReference(in.Service)).
		WithAutomountServiceAccountToken(false)
}
