package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Defaults applied in code (not by OpenAPI defaulting, so apply-based tools see no diffs).
const (
	// DefaultPort is the container and Service port when spec.port is absent.
	DefaultPort int32 = 8080
	// DefaultHealthPath is the probe path when spec.healthPath is absent.
	DefaultHealthPath = "/healthz"
	// DefaultTargetCPUUtilizationPercentage is the HPA target when absent.
	DefaultTargetCPUUtilizationPercentage int32 = 70
)

// ProfileDefaults are the values a profile gives to the optional fields of a PublicService.
// The CEL rules in publicservice_types.go repeat exposure, classification and replicas;
// test/envtest/validation (profiles_test.go) keeps them in step.
type ProfileDefaults struct {
	Exposure       ExposureMode
	Classification DataClassification
	MinReplicas    int32
	MaxReplicas    int32
	CPURequest     resource.Quantity
	MemoryRequest  resource.Quantity
}

// DefaultsFor returns the defaults of a profile. An unknown profile gets Custom's.
func DefaultsFor(p Profile) ProfileDefaults {
	switch p {
	case ProfilePortal:
		return ProfileDefaults{ExposurePublic, ClassificationInternal, 2, 10, resource.MustParse("100m"), resource.MustParse("128Mi")}
	case ProfileIdentityVerification:
		return ProfileDefaults{ExposureInternal, ClassificationRestricted, 3, 12, resource.MustParse("200m"), resource.MustParse("256Mi")}
	case ProfileHospitalCheckIn:
		return ProfileDefaults{ExposureCityNetwork, ClassificationConfidential, 2, 8, resource.MustParse("100m"), resource.MustParse("128Mi")}
	default:
		return ProfileDefaults{ExposureInternal, ClassificationInternal, 1, 1, resource.MustParse("50m"), resource.MustParse("64Mi")}
	}
}

// Effective returns a copy of the service's spec with every optional field resolved: profile
// defaults applied and namespaces of references filled in. The receiver is not modified.
func (s *PublicService) Effective() PublicServiceSpec {
	spec := *s.Spec.DeepCopy()
	d := DefaultsFor(spec.Profile)

	if spec.Port == nil {
		spec.Port = new(DefaultPort)
	}
	if spec.HealthPath == "" {
		spec.HealthPath = DefaultHealthPath
	}
	if spec.DataClassification == "" {
		spec.DataClassification = d.Classification
	}
	if spec.Exposure == nil {
		spec.Exposure = &Exposure{}
	}
	if spec.Exposure.Mode == "" {
		spec.Exposure.Mode = d.Exposure
	}
	if spec.Replicas == nil {
		spec.Replicas = &Replicas{}
	}
	if spec.Replicas.Min == nil {
		spec.Replicas.Min = new(d.MinReplicas)
	}
	if spec.Replicas.Max == nil {
		// CEL rejects min above the default max; max() only guards objects stored before the rule.
		spec.Replicas.Max = new(max(d.MaxReplicas, *spec.Replicas.Min))
	}
	if spec.Replicas.TargetCPUUtilizationPercentage == nil {
		spec.Replicas.TargetCPUUtilizationPercentage = new(DefaultTargetCPUUtilizationPercentage)
	}
	spec.Resources = effectiveResources(spec.Resources, d)
	for i := range spec.Consumes {
		if spec.Consumes[i].Namespace == "" {
			spec.Consumes[i].Namespace = s.Namespace
		}
	}
	for i := range spec.AllowFrom {
		if spec.AllowFrom[i].Service != "" && spec.AllowFrom[i].Namespace == "" {
			spec.AllowFrom[i].Namespace = s.Namespace
		}
	}
	return spec
}

func effectiveResources(in *Resources, d ProfileDefaults) *Resources {
	out := &Resources{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
	if in != nil {
		out.Requests = in.Requests.DeepCopy()
		out.Limits = in.Limits.DeepCopy()
		if out.Requests == nil {
			out.Requests = corev1.ResourceList{}
		}
		if out.Limits == nil {
			out.Limits = corev1.ResourceList{}
		}
	}
	if _, ok := out.Requests[corev1.ResourceCPU]; !ok {
		cpu := d.CPURequest
		if l, ok := out.Limits[corev1.ResourceCPU]; ok && l.Cmp(cpu) < 0 {
			cpu = l
		}
		out.Requests[corev1.ResourceCPU] = cpu
	}
	if _, ok := out.Requests[corev1.ResourceMemory]; !ok {
		mem := d.MemoryRequest
		if l, ok := out.Limits[corev1.ResourceMemory]; ok && l.Cmp(mem) < 0 {
			mem = l
		}
		out.Requests[corev1.ResourceMemory] = mem
	}
	if _, ok := out.Limits[corev1.ResourceMemory]; !ok {
		lim := out.Requests[corev1.ResourceMemory].DeepCopy()
		lim.Add(out.Requests[corev1.ResourceMemory])
		out.Limits[corev1.ResourceMemory] = lim
	}
	return out
}

// EffectivePort returns the port of the service's effective spec (Effective().Port) without
// resolving the rest: spec.port, or DefaultPort when it is absent.
func (s *PublicService) EffectivePort() int32 {
	if s.Spec.Port != nil {
		return *s.Spec.Port
	}
	return DefaultPort
}

// Autoscaled reports whether an effective spec is scaled by an HPA (max > min).
func (s PublicServiceSpec) Autoscaled() bool {
	return s.Replicas != nil && s.Replicas.Min != nil && s.Replicas.Max != nil && *s.Replicas.Max > *s.Replicas.Min
}
