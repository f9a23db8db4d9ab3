package render

import (
	networkingv1 "k8s.io/api/networking/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

// Ingress publishes a Public service on its host through the ingress controller, which
// terminates TLS with the spec's Secret. It returns nil unless the exposure is Public and no
// Gateway is configured, and also when the host or TLS Secret is missing (the API rejects
// that; rendering plain HTTP or a catch-all rule instead would fail open).
func Ingress(in Input) *networkingv1ac.IngressApplyConfiguration {
	e := in.Spec.Exposure
	if in.Options.Gateway != nil || e == nil || e.Mode != platformv1alpha1.ExposurePublic || e.Host == "" || e.TLS == nil {
		return nil
	}
	spec := networkingv1ac.IngressSpec().
		WithTLS(networkingv1ac.IngressTLS().
			WithHosts(e.Host).
			WithSecretName(e.TLS.SecretName)).
		WithRules(networkingv1ac.IngressRule().
			WithHost(e.Host).
			WithHTTP(networkingv1ac.HTTPIngressRuleValue().
				WithPaths(networkingv1ac.HTTPIngressPath().
					WithPath("/").
					WithPathType(networkingv1.PathTypePrefix).
					WithBackend(networkingv1ac.IngressBackend().
						WithService(networkingv1ac.IngressServiceBackend().
							WithName(in.name()).
							WithPort(networkingv1ac.ServiceBackendPort().WithNumber(in.port())))))))
	if in.Options.IngressClass != "" {
		spec.WithIngressClassName(in.Options.IngressClass)
	}
	return networkingv1ac.Ingress(in.name(), in.namespace()).
		WithLabels(Labels(in.Service)).
		WithOwnerReferences(OwnerReference(in.Service)).
		WithSpec(spec)
}
