package render

import (
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1ac "sigs.k8s.io/gateway-api/applyconfiguration/apis/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

// HTTPRoute publishes a Public service on its host through the configured Gateway, which
// terminates TLS with its own listener certificate. It returns nil unless the exposure is
// Public and Options.Gateway is set, and also when the host is missing (a route without
// hostnames would match every host of the Gateway).
func HTTPRoute(in Input) *gatewayv1ac.HTTPRouteApplyConfiguration {
	e, gw := in.Spec.Exposure, in.Options.Gateway
	if gw == nil || e == nil || e.Mode != platformv1alpha1.ExposurePublic || e.Host == "" {
		return nil
	}
	parent := gatewayv1ac.ParentReference().
		WithGroup(gatewayv1.GroupName).
		WithKind("Gateway").
		WithName(gatewayv1.ObjectName(gw.Name))
	if gw.Namespace != "" {
		parent.WithNamespace(gatewayv1.Namespace(gw.Namespace))
	}
	return gatewayv1ac.HTTPRoute(in.name(), in.namespace()).
		WithLabels(Labels(in.Service)).
		WithOwnerReferences(OwnerReference(in.Service)).
		WithSpec(gatewayv1ac.HTTPRouteSpec().
			WithParentRefs(parent).
			WithHostnames(gatewayv1.Hostname(e.Host)).
			WithRules(gatewayv1ac.HTTPRouteRule().
				WithMatches(gatewayv1ac.HTTPRouteMatch().
					WithPath(gatewayv1ac.HTTPPathMatch().
						WithType(gatewayv1.PathMatchPathPrefix).
						WithValue("/"))).
				WithBackendRefs(gatewayv1ac.HTTPBackendRef().
					WithKind("Service").
					WithName(gatewayv1.ObjectName(in.name())).
					WithPort(in.port()))))
}
