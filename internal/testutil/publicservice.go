package testutil

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

// DefaultImage is the image of a PublicService built by PublicService until Image changes it.
const DefaultImage = "registry.smartcity.example/app:1.0.0"

// PublicServiceWrapper builds a PublicService. Every method changes the wrapped object and
// returns the wrapper; Obj returns a copy.
type PublicServiceWrapper struct{ platformv1alpha1.PublicService }

// PublicService starts a PublicService named name in namespace with profile Custom and
// DefaultImage, the smallest valid spec. Optional fields stay unset, so profile defaults apply.
func PublicService(name, namespace string) *PublicServiceWrapper {
	return &PublicServiceWrapper{platformv1alpha1.PublicService{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: platformv1alpha1.PublicServiceSpec{
			Profile: platformv1alpha1.ProfileCustom,
			Image:   DefaultImage,
		},
	}}
}

// Obj returns a deep copy of the built PublicService.
func (w *PublicServiceWrapper) Obj() *platformv1alpha1.PublicService { return w.DeepCopy() }

// Name sets metadata.name.
func (w *PublicServiceWrapper) Name(name string) *PublicServiceWrapper {
	w.ObjectMeta.Name = name
	return w
}

// UID sets metadata.uid (the API server sets it on create; tests of owner references need it).
func (w *PublicServiceWrapper) UID(uid types.UID) *PublicServiceWrapper {
	w.ObjectMeta.UID = uid
	return w
}

// Label sets one label.
func (w *PublicServiceWrapper) Label(key, value string) *PublicServiceWrapper {
	if w.Labels == nil {
		w.Labels = map[string]string{}
	}
	w.Labels[key] = value
	return w
}

// Profile sets spec.profile.
func (w *PublicServiceWrapper) Profile(p platformv1alpha1.Profile) *PublicServiceWrapper {
	w.Spec.Profile = p
	return w
}

// Image sets spec.image.
func (w *PublicServiceWrapper) Image(image string) *PublicServiceWrapper {
	w.Spec.Image = image
	return w
}

// Port sets spec.port.
func (w *PublicServiceWrapper) Port(port int32) *PublicServiceWrapper {
	w.Spec.Port = &port
	return w
}

// HealthPath sets spec.healthPath.
func (w *PublicServiceWrapper) HealthPath(path string) *PublicServiceWrapper {
	w.Spec.HealthPath = path
	return w
}

// Replicas sets spec.replicas.min and spec.replicas.max.
func (w *PublicServiceWrapper) Replicas(minReplicas, maxReplicas int32) *PublicServiceWrapper {
	w.replicas().Min = &minReplicas
	w.replicas().Max = &maxReplicas
	return w
}

// MinReplicas sets spec.replicas.min alone.
func (w *PublicServiceWrapper) MinReplicas(n int32) *PublicServiceWrapper {
	w.replicas().Min = &n
	return w
}

// MaxReplicas sets spec.replicas.max alone.
func (w *PublicServiceWrapper) MaxReplicas(n int32) *PublicServiceWrapper {
	w.replicas().Max = &n
	return w
}

// EmptyReplicas sets `replicas: {}`: present, with every bound defaulted.
func (w *PublicServiceWrapper) EmptyReplicas() *PublicServiceWrapper {
	w.replicas()
	return w
}

// TargetCPU sets spec.replicas.targetCPUUtilizationPercentage.
func (w *PublicServiceWrapper) TargetCPU(percent int32) *PublicServiceWrapper {
	w.replicas().TargetCPUUtilizationPercentage = &percent
	return w
}

func (w *PublicServiceWrapper) replicas() *platformv1alpha1.Replicas {
	if w.Spec.Replicas == nil {
		w.Spec.Replicas = &platformv1alpha1.Replicas{}
	}
	return w.Spec.Replicas
}

// Requests sets one resource request, for example Requests(corev1.ResourceCPU, "250m");
// an invalid quantity panics.
func (w *PublicServiceWrapper) Requests(name corev1.ResourceName, quantity string) *PublicServiceWrapper {
	r := w.resources()
	if r.Requests == nil {
		r.Requests = corev1.ResourceList{}
	}
	r.Requests[name] = resource.MustParse(quantity)
	return w
}

// Limits sets one resource limit, for example Limits(corev1.ResourceMemory, "512Mi").
func (w *PublicServiceWrapper) Limits(name corev1.ResourceName, quantity string) *PublicServiceWrapper {
	r := w.resources()
	if r.Limits == nil {
		r.Limits = corev1.ResourceList{}
	}
	r.Limits[name] = resource.MustParse(quantity)
	return w
}

func (w *PublicServiceWrapper) resources() *platformv1alpha1.Resources {
	if w.Spec.Resources == nil {
		w.Spec.Resources = &platformv1alpha1.Resources{}
	}
	return w.Spec.Resources
}

// Exposure sets spec.exposure.mode.
func (w *PublicServiceWrapper) Exposure(mode platformv1alpha1.ExposureMode) *PublicServiceWrapper {
	w.exposure().Mode = mode
	return w
}

// Host sets spec.exposure.host.
func (w *PublicServiceWrapper) Host(host string) *PublicServiceWrapper {
	w.exposure().Host = host
	return w
}

// TLS sets spec.exposure.tls.secretName.
func (w *PublicServiceWrapper) TLS(secretName string) *PublicServiceWrapper {
	w.exposure().TLS = &platformv1alpha1.TLS{SecretName: secretName}
	return w
}

// WithoutTLS removes spec.exposure.tls.
func (w *PublicServiceWrapper) WithoutTLS() *PublicServiceWrapper {
	w.exposure().TLS = nil
	return w
}

func (w *PublicServiceWrapper) exposure() *platformv1alpha1.Exposure {
	if w.Spec.Exposure == nil {
		w.Spec.Exposure = &platformv1alpha1.Exposure{}
	}
	return w.Spec.Exposure
}

// Consumes appends to spec.consumes; an empty namespace means this service's namespace.
func (w *PublicServiceWrapper) Consumes(service, namespace string) *PublicServiceWrapper {
	w.Spec.Consumes = append(w.Spec.Consumes, platformv1alpha1.ServiceReference{Service: service, Namespace: namespace})
	return w
}

// ConsumesRefs appends references to spec.consumes as they are.
func (w *PublicServiceWrapper) ConsumesRefs(refs ...platformv1alpha1.ServiceReference) *PublicServiceWrapper {
	w.Spec.Consumes = append(w.Spec.Consumes, refs...)
	return w
}

// ConsumesPort appends to spec.consumes with an explicit port.
func (w *PublicServiceWrapper) ConsumesPort(service, namespace string, port int32) *PublicServiceWrapper {
	w.Spec.Consumes = append(w.Spec.Consumes, platformv1alpha1.ServiceReference{Service: service, Namespace: namespace, Port: &port})
	return w
}

// AllowFromService appends a service to spec.allowFrom; an empty namespace means this
// service's namespace.
func (w *PublicServiceWrapper) AllowFromService(service, namespace string) *PublicServiceWrapper {
	w.Spec.AllowFrom = append(w.Spec.AllowFrom, platformv1alpha1.AllowSource{Service: service, Namespace: namespace})
	return w
}

// AllowFromNamespace appends a namespace alone to spec.allowFrom: every service of that
// namespace that consumes this one is admitted.
func (w *PublicServiceWrapper) AllowFromNamespace(namespace string) *PublicServiceWrapper {
	w.Spec.AllowFrom = append(w.Spec.AllowFrom, platformv1alpha1.AllowSource{Namespace: namespace})
	return w
}

// AllowFrom appends sources to spec.allowFrom as they are.
func (w *PublicServiceWrapper) AllowFrom(sources ...platformv1alpha1.AllowSource) *PublicServiceWrapper {
	w.Spec.AllowFrom = append(w.Spec.AllowFrom, sources...)
	return w
}

// WithoutAllowFrom removes spec.allowFrom.
func (w *PublicServiceWrapper) WithoutAllowFrom() *PublicServiceWrapper {
	w.Spec.AllowFrom = nil
	return w
}

// AllowFromZone appends a NetworkZone to spec.allowFrom.
func (w *PublicServiceWrapper) AllowFromZone(zone string) *PublicServiceWrapper {
	w.Spec.AllowFrom = append(w.Spec.AllowFrom, platformv1alpha1.AllowSource{Zone: zone})
	return w
}

// EgressToZone appends a NetworkZone and its ports to spec.egressTo. No ports are sent as
// an empty list.
func (w *PublicServiceWrapper) EgressToZone(zone string, ports ...int32) *PublicServiceWrapper {
	w.Spec.EgressTo = append(w.Spec.EgressTo, platformv1alpha1.ZoneEgress{Zone: zone, Ports: append([]int32{}, ports...)})
	return w
}

// EgressToZoneNullPorts appends a NetworkZone to spec.egressTo with ports sent as null.
func (w *PublicServiceWrapper) EgressToZoneNullPorts(zone string) *PublicServiceWrapper {
	w.Spec.EgressTo = append(w.Spec.EgressTo, platformv1alpha1.ZoneEgress{Zone: zone})
	return w
}

// Classification sets spec.dataClassification.
func (w *PublicServiceWrapper) Classification(c platformv1alpha1.DataClassification) *PublicServiceWrapper {
	w.Spec.DataClassification = c
	return w
}

// Env appends a variable with a literal value to spec.env.
func (w *PublicServiceWrapper) Env(name, value string) *PublicServiceWrapper {
	w.Spec.Env = append(w.Spec.Env, platformv1alpha1.EnvVar{Name: name, Value: value})
	return w
}

// EnvVars appends variables to spec.env as they are.
func (w *PublicServiceWrapper) EnvVars(vars ...platformv1alpha1.EnvVar) *PublicServiceWrapper {
	w.Spec.Env = append(w.Spec.Env, vars...)
	return w
}

// EnvFromSecret appends a variable taken from key of Secret secret to spec.env.
func (w *PublicServiceWrapper) EnvFromSecret(name, secret, key string) *PublicServiceWrapper {
	w.Spec.Env = append(w.Spec.Env, platformv1alpha1.EnvVar{
		Name:         name,
		SecretKeyRef: &platformv1alpha1.SecretKeySelector{Name: secret, Key: key},
	})
	return w
}
