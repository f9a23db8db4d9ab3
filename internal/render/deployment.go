package render

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
)

const (
	// ContainerName is the name of the service's only container.
	ContainerName = "app"
	// PortName names the container port; the Service and the probes refer to it by name.
	PortName = "http"
	// RunAsID is the user, group and fsGroup of every pod: the conventional "nonroot" ID of
	// distroless images.
	RunAsID int64 = 65532

	tmpVolume    = "tmp"
	tmpMountPath = "/tmp"
	// revisionHistoryLimit is how many old ReplicaSets a Deployment keeps for rollback.
	revisionHistoryLimit int32 = 5
)

// tmpSizeLimit caps the writable /tmp, the only writable path of the read-only root filesystem.
var tmpSizeLimit = resource.MustParse("64Mi")

// Deployment runs the service's pods under the Pod Security Standard "restricted" with a
// read-only root filesystem, probes on the health path and spread over zones and nodes.
//
// Replicas are set (to replicas.min) only when withReplicas is true: while an HPA scales the
// Deployment the operator must not own the field. The pod template depends on the spec alone
// (no operator version, hashes or timestamps), so upgrading the operator restarts no pods.
func Deployment(in Input, withReplicas bool) *appsv1ac.DeploymentApplyConfiguration {
	spec := appsv1ac.DeploymentSpec().
		WithSelector(metav1ac.LabelSelector().WithMatchLabels(SelectorLabels(in.name()))).
		WithRevisionHistoryLimit(revisionHistoryLimit).
		WithStrategy(appsv1ac.DeploymentStrategy().
			WithType(appsv1.RollingUpdateDeploymentStrategyType).
			WithRollingUpdate(appsv1ac.RollingUpdateDeployment().
				WithMaxUnavailable(intstr.FromInt32(0)).
				WithMaxSurge(intstr.FromInt32(1)))).
		WithTemplate(podTemplate(in))
	if withReplicas {
		spec.WithReplicas(*in.Spec.Replicas.Min)
	}
	return appsv1ac.Deployment(in.name(), in.namespace()).
		WithLabels(Labels(in.Service)).
		WithOwnerReferences(OwnerReference(in.Service)).
		WithSpec(spec)
}

func podTemplate(in Input) *corev1ac.PodTemplateSpecApplyConfiguration {
	return corev1ac.PodTemplateSpec().
		WithLabels(Labels(in.Service)).
		WithSpec(corev1ac.PodSpec().
			WithServiceAccountName(in.name()).
			WithAutomountServiceAccountToken(false).
			WithEnableServiceLinks(false).
			WithSecurityContext(corev1ac.PodSecurityContext().
				WithRunAsNonRoot(true).
				WithRunAsUser(RunAsID).
				WithRunAsGroup(RunAsID).
				WithFSGroup(RunAsID).
				WithSeccompProfile(runtimeDefaultSeccomp())).
			WithContainers(container(in)).
			WithVolumes(corev1ac.Volume().
				WithName(tmpVolume).
				WithEmptyDir(corev1ac.EmptyDirVolumeSource().WithSizeLimit(tmpSizeLimit.DeepCopy()))).
			WithTopologySpreadConstraints(
				spread(in.name(), corev1.LabelTopologyZone),
				spread(in.name(), corev1.LabelHostname),
			))
}

func container(in Input) *corev1ac.ContainerApplyConfiguration {
	c := corev1ac.Container().
		WithName(ContainerName).
		WithImage(in.Spec.Image).
		WithPorts(corev1ac.ContainerPort().
			WithName(PortName).
			WithContainerPort(in.port()).
			WithProtocol(corev1.ProtocolTCP)).
		WithSecurityContext(corev1ac.SecurityContext().
			WithAllowPrivilegeEscalation(false).
			WithReadOnlyRootFilesystem(true).
			WithRunAsNonRoot(true).
			WithCapabilities(corev1ac.Capabilities().WithDrop(corev1.Capability("ALL"))).
			WithSeccompProfile(runtimeDefaultSeccomp())).
		WithVolumeMounts(corev1ac.VolumeMount().WithName(tmpVolume).WithMountPath(tmpMountPath)).
		// The startup probe gives a slow start up to 150 s before liveness takes over.
		WithStartupProbe(httpProbe(in.Spec.HealthPath, 5, 1, 30)).
		WithReadinessProbe(httpProbe(in.Spec.HealthPath, 10, 2, 3)).
		WithLivenessProbe(httpProbe(in.Spec.HealthPath, 20, 3, 3))
	for _, e := range in.Spec.Env {
		env := corev1ac.EnvVar().WithName(e.Name)
		switch {
		case e.SecretKeyRef != nil:
			env.WithValueFrom(corev1ac.EnvVarSource().WithSecretKeyRef(corev1ac.SecretKeySelector().
				WithName(e.SecretKeyRef.Name).
				WithKey(e.SecretKeyRef.Key)))
		case e.Value != "":
			env.WithValue(e.Value)
		}
		c.WithEnv(env)
	}
	if r := in.Spec.Resources; r != nil {
		res := corev1ac.ResourceRequirements()
		if len(r.Requests) > 0 {
			res.WithRequests(r.Requests.DeepCopy())
		}
		if len(r.Limits) > 0 {
			res.WithLimits(r.Limits.DeepCopy())
		}
		c.WithResources(res)
	}
	return c
}

func httpProbe(path string, period, timeout, failures int32) *corev1ac.ProbeApplyConfiguration {
	return corev1ac.Probe().
		WithHTTPGet(corev1ac.HTTPGetAction().
			WithPath(path).
			WithPort(intstr.FromString(PortName)).
			WithScheme(corev1.URISchemeHTTP)).
		WithPeriodSeconds(period).
		WithTimeoutSeconds(timeout).
		WithSuccessThreshold(1).
		WithFailureThreshold(failures)
}

func runtimeDefaultSeccomp() *corev1ac.SeccompProfileApplyConfiguration {
	return corev1ac.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault)
}

func spread(name, topologyKey string) *corev1ac.TopologySpreadConstraintApplyConfiguration {
	return corev1ac.TopologySpreadConstraint().
		WithMaxSkew(1).
		WithTopologyKey(topologyKey).
		WithWhenUnsatisfiable(corev1.ScheduleAnyway).
		WithLabelSelector(metav1ac.LabelSelector().WithMatchLabels(SelectorLabels(name)))
}
