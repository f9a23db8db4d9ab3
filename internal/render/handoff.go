package render

import (
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
)

// HandoffFieldManager owns a Deployment's spec.replicas while an HPA scales it. Releasing a
// field under server-side apply resets it when no other manager owns it, so before the
// operator stops setting replicas it applies the current count under this manager; the HPA's
// own updates then take the field over.
const HandoffFieldManager = "smartcity-operator-replicas-handoff"

// ReplicasHandoff returns the partial Deployment that HandoffFieldManager applies: only the
// replica count.
func ReplicasHandoff(in Input, replicas int32) *appsv1ac.DeploymentApplyConfiguration {
	return appsv1ac.Deployment(in.name(), in.namespace()).
		WithSpec(appsv1ac.DeploymentSpec().WithReplicas(replicas))
}
