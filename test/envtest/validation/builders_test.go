package validation

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

// Small builders for the objects of this suite. Each method changes the object and returns the
// builder; obj returns a copy, so a builder can be reused.

const (
	testImage     = "registry.hanoi.gov.vn/portal:1.4.2"
	testHost      = "dichvucong.hanoi.gov.vn"
	testTLSSecret = "dichvucong-tls"
)

type psBuilder struct {
	ps platformv1alpha1.PublicService
}

// publicService starts a PublicService named "svc" with the given profile and an image, and
// nothing else: every optional field takes the profile's default.
func publicService(profile platformv1alpha1.Profile) *psBuilder {
	return &psBuilder{platformv1alpha1.PublicService{
		ObjectMeta: metav1.ObjectMeta{Name: "svc", Namespace: testNamespace},
		Spec:       platformv1alpha1.PublicServiceSpec{Profile: profile, Image: testImage},
	}}
}

func (b *psBuilder) obj() *platformv1alpha1.PublicService { return b.ps.DeepCopy() }

func (b *psBuilder) named(name string) *psBuilder { b.ps.Name = name; return b }

func (b *psBuilder) image(image string) *psBuilder { b.ps.Spec.Image = image; return b }

func (b *psBuilder) port(port int32) *psBuilder { b.ps.Spec.Port = &port; return b }

func (b *psBuilder) healthPath(path string) *psBuilder { b.ps.Spec.HealthPath = path; return b }

func (b *psBuilder) classification(c platformv1alpha1.DataClassification) *psBuilder {
	b.ps.Spec.DataClassification = c
	return b
}

func (b *psBuilder) exposure() *platformv1alpha1.Exposure {
	if b.ps.Spec.Exposure == nil {
		b.ps.Spec.Exposure = &platformv1alpha1.Exposure{}
	}
	return b.ps.Spec.Exposure
}

func (b *psBuilder) mode(m platformv1alpha1.ExposureMode) *psBuilder { b.exposure().Mode = m; return b }

func (b *psBuilder) host(host string) *psBuilder { b.exposure().Host = host; return b }

func (b *psBuilder) tls(secretName string) *psBuilder {
	b.exposure().TLS = &platformv1alpha1.TLS{SecretName: secretName}
	return b
}

// hostAndTLS sets what Public exposure needs.
func (b *psBuilder) hostAndTLS() *psBuilder { return b.host(testHost).tls(testTLSSecret) }

func (b *psBuilder) withoutHost() *psBuilder { b.exposure().Host = ""; return b }

func (b *psBuilder) withoutTLS() *psBuilder { b.exposure().TLS = nil; return b }

func (b *psBuilder) replicas() *platformv1alpha1.Replicas {
	if b.ps.Spec.Replicas == nil {
		b.ps.Spec.Replicas = &platformv1alpha1.Replicas{}
	}
	return b.ps.Spec.Replicas
}

// emptyReplicas sets `replicas: {}`: present, with every bound defaulted.
func (b *psBuilder) emptyReplicas() *psBuilder { b.replicas(); return b }

func (b *psBuilder) minReplicas(n int32) *psBuilder { b.replicas().Min = &n; return b }

func (b *psBuilder) maxReplicas(n int32) *psBuilder { b.replicas().Max = &n; return b }

func (b *psBuilder) targetCPU(percent int32) *psBuilder {
	b.replicas().TargetCPUUtilizationPercentage = &percent
	return b
}

func (b *psBuilder) allow(sources ...platformv1alpha1.AllowSource) *psBuilder {
	b.ps.Spec.AllowFrom = append(b.ps.Spec.AllowFrom, sources...)
	return b
}

// allowService admits a PublicService; namespace "" means this service's namespace.
func (b *psBuilder) allowService(service, namespace string) *psBuilder {
	return b.allow(platformv1alpha1.AllowSource{Service: service, Namespace: namespace})
}

func (b *psBuilder) allowZone(zone string) *psBuilder {
	return b.allow(platformv1alpha1.AllowSource{Zone: zone})
}

func (b *psBuilder) withoutAllowFrom() *psBuilder { b.ps.Spec.AllowFrom = nil; return b }

func (b *psBuilder) consume(refs ...platformv1alpha1.ServiceReference) *psBuilder {
	b.ps.Spec.Consumes = append(b.ps.Spec.Consumes, refs...)
	return b
}

// consumeService calls a PublicService; namespace "" means this service's namespace.
func (b *psBuilder) consumeService(service, namespace string) *psBuilder {
	return b.consume(platformv1alpha1.ServiceReference{Service: service, Namespace: namespace})
}

func (b *psBuilder) egress(zone string, ports ...int32) *psBuilder {
	// Ports is never nil, so no ports is sent as [] (not null) and meets minItems.
	egress := platformv1alpha1.ZoneEgress{Zone: zone, Ports: append([]int32{}, ports...)}
	b.ps.Spec.EgressTo = append(b.ps.Spec.EgressTo, egress)
	return b
}

// egressNullPorts adds an egressTo entry whose ports are sent as null.
func (b *psBuilder) egressNullPorts(zone string) *psBuilder {
	b.ps.Spec.EgressTo = append(b.ps.Spec.EgressTo, platformv1alpha1.ZoneEgress{Zone: zone})
	return b
}

// egressZones adds n egressTo entries to distinct zones.
func (b *psBuilder) egressZones(n int) *psBuilder {
	for i := range n {
		b.egress(fmt.Sprintf("zone-%d", i), 443)
	}
	return b
}

func (b *psBuilder) env(vars ...platformv1alpha1.EnvVar) *psBuilder {
	b.ps.Spec.Env = append(b.ps.Spec.Env, vars...)
	return b
}

func (b *psBuilder) envValue(name, value string) *psBuilder {
	return b.env(platformv1alpha1.EnvVar{Name: name, Value: value})
}

func (b *psBuilder) envSecret(name, secret, key string) *psBuilder {
	return b.env(platformv1alpha1.EnvVar{
		Name: name, SecretKeyRef: &platformv1alpha1.SecretKeySelector{Name: secret, Key: key},
	})
}

func (b *psBuilder) resources() *platformv1alpha1.Resources {
	if b.ps.Spec.Resources == nil {
		b.ps.Spec.Resources = &platformv1alpha1.Resources{}
	}
	return b.ps.Spec.Resources
}

// requests sets requests from name, quantity pairs, for example requests("cpu", "100m").
func (b *psBuilder) requests(nameQuantity ...string) *psBuilder {
	b.resources().Requests = resourceList(nameQuantity...)
	return b
}

// limits sets limits from name, quantity pairs, for example limits("memory", "256Mi").
func (b *psBuilder) limits(nameQuantity ...string) *psBuilder {
	b.resources().Limits = resourceList(nameQuantity...)
	return b
}

func resourceList(nameQuantity ...string) corev1.ResourceList {
	list := corev1.ResourceList{}
	for i := 0; i+1 < len(nameQuantity); i += 2 {
		list[corev1.ResourceName(nameQuantity[i])] = resource.MustParse(nameQuantity[i+1])
	}
	return list
}

type nzBuilder struct{ nz platformv1alpha1.NetworkZone }

// networkZone starts a NetworkZone named "zone" with the given CIDRs (none is sent as []).
func networkZone(cidrs ...string) *nzBuilder {
	return &nzBuilder{platformv1alpha1.NetworkZone{
		ObjectMeta: metav1.ObjectMeta{Name: "zone"},
		Spec:       platformv1alpha1.NetworkZoneSpec{CIDRs: append([]string{}, cidrs...)},
	}}
}

func (b *nzBuilder) obj() *platformv1alpha1.NetworkZone { return b.nz.DeepCopy() }

func (b *nzBuilder) named(name string) *nzBuilder { b.nz.Name = name; return b }

func (b *nzBuilder) withoutCIDRs() *nzBuilder { b.nz.Spec.CIDRs = nil; return b }

func (b *nzBuilder) except(cidrs ...string) *nzBuilder { b.nz.Spec.Except = cidrs; return b }

func (b *nzBuilder) provider(p string) *nzBuilder { b.nz.Spec.Provider = p; return b }

func (b *nzBuilder) description(d string) *nzBuilder { b.nz.Spec.Description = d; return b }
