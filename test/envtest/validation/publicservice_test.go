package validation

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

// Short names for the enum values used in the tables.
const (
	portal      = platformv1alpha1.ProfilePortal
	idv         = platformv1alpha1.ProfileIdentityVerification
	hospital    = platformv1alpha1.ProfileHospitalCheckIn
	custom      = platformv1alpha1.ProfileCustom
	internal    = platformv1alpha1.ExposureInternal
	cityNetwork = platformv1alpha1.ExposureCityNetwork
	public      = platformv1alpha1.ExposurePublic
	restricted  = platformv1alpha1.ClassificationRestricted
)

// The CEL rules of PublicService, by the distinctive part of their messages.
var (
	idvNotPublic = celRule("spec.exposure",
		"exposure.mode Public is not allowed for the IdentityVerification profile: use Internal or CityNetwork")
	restrictedNotPublic = celRule("spec.exposure",
		"exposure.mode Public is not allowed for Restricted data: lower dataClassification")
	publicNeedsHostAndTLS = celRule("spec.exposure",
		"Public exposure needs exposure.host and exposure.tls.secretName")
	zoneNeedsCityNetwork = celRule("spec.allowFrom",
		"allowFrom entries with a zone need exposure.mode CityNetwork")
	cityNetworkNeedsZone = celRule("spec.allowFrom",
		"exposure.mode CityNetwork needs at least one allowFrom entry with a zone")
	replicasMinAboveMax = celRule("spec.replicas",
		"replicas.min must not exceed replicas.max once profile defaults apply")
	serviceNameNotDNS1035 = celRule("<nil>",
		"metadata.name must be a DNS-1035 label of at most 63 characters")
	consumesDuplicate   = celRule("spec.consumes", "consumes must not list the same service twice")
	allowFromDuplicate  = celRule("spec.allowFrom", "allowFrom must not list the same service, namespace or zone twice")
	egressToDuplicate   = celRule("spec.egressTo", "egressTo must not list the same zone twice")
	envValueOrSecret    = celRule("spec.env[0]", "env entries set either value or secretKeyRef, not both")
	requestsAboveLimits = celRule("spec.resources",
		"resources.requests must not exceed resources.limits")
	unknownRequest = celRule("spec.resources.requests",
		"only cpu, memory and ephemeral-storage can be requested")
	unknownLimit = celRule("spec.resources.limits",
		"only cpu, memory and ephemeral-storage can be limited")
	allowSourceNamed = celRule("spec.allowFrom[0]",
		"each allowFrom entry names a service (with an optional namespace), a namespace alone (its services that consume this one) or a zone")
	allowZoneAlone = celRule("spec.allowFrom[0]",
		"an allowFrom entry with a zone names no service and no namespace")
)

// celSkipped is what the API server adds when a schema error (a list too long, an unknown enum
// value) stops it from running the CEL rules.
var celSkipped = schema("<nil>", "some validation rules were not checked because the object was invalid")

// schema builds a violation of an OpenAPI schema constraint (not CEL) on a field.
func schema(field, message string) violation { return violation{field: field, message: message} }

const (
	atLeast1    = "should be greater than or equal to 1"
	atMost65535 = "should be less than or equal to 65535"
	duplicate   = "Duplicate value"
	name63      = "a123456789-123456789-123456789-123456789-123456789-123456789-12"
	name64      = name63 + "3"
)

var publicServiceCases = []validationCase{
	// exposure.mode Public is never allowed for IdentityVerification.
	accepted("IdentityVerification with its default exposure",
		publicService(idv).Obj(), idvNotPublic),
	accepted("IdentityVerification with exposure CityNetwork and a zone",
		publicService(idv).Exposure(cityNetwork).AllowFromZone("kiosk-net").Obj(), idvNotPublic),
	rejected("IdentityVerification with exposure Public (data lowered to Internal)",
		publicService(idv).Exposure(public).Host(testHost).TLS(testTLSSecret).Classification(platformv1alpha1.ClassificationInternal).Obj(),
		idvNotPublic),
	rejected("IdentityVerification with exposure Public and its default Restricted data",
		publicService(idv).Exposure(public).Host(testHost).TLS(testTLSSecret).Obj(), idvNotPublic, restrictedNotPublic),

	// Restricted data is never Public.
	accepted("Custom with exposure Public and Confidential data",
		publicService(custom).Exposure(public).Host(testHost).TLS(testTLSSecret).Classification(platformv1alpha1.ClassificationConfidential).Obj(),
		restrictedNotPublic),
	accepted("Custom with Restricted data and its default Internal exposure",
		publicService(custom).Classification(restricted).Obj(), restrictedNotPublic),
	rejected("Custom with exposure Public and Restricted data",
		publicService(custom).Exposure(public).Host(testHost).TLS(testTLSSecret).Classification(restricted).Obj(), restrictedNotPublic),
	rejected("Portal (Public by default) with Restricted data",
		publicService(portal).Host(testHost).TLS(testTLSSecret).Classification(restricted).Obj(), restrictedNotPublic),

	// Public exposure needs a host and TLS.
	accepted("Portal with host and TLS", publicService(portal).Host(testHost).TLS(testTLSSecret).Obj(), publicNeedsHostAndTLS),
	accepted("Custom with exposure Public, host and TLS",
		publicService(custom).Exposure(public).Host(testHost).TLS(testTLSSecret).Obj(), publicNeedsHostAndTLS),
	accepted("Portal with exposure Internal and no host or TLS",
		publicService(portal).Exposure(internal).Obj(), publicNeedsHostAndTLS),
	rejected("Portal relying on its default exposure with no exposure block",
		publicService(portal).Obj(), publicNeedsHostAndTLS),
	rejected("Portal with a host and no TLS", publicService(portal).Host(testHost).Obj(), publicNeedsHostAndTLS),
	rejected("Portal with TLS and no host", publicService(portal).TLS(testTLSSecret).Obj(), publicNeedsHostAndTLS),
	rejected("Custom with exposure Public and no host or TLS",
		publicService(custom).Exposure(public).Obj(), publicNeedsHostAndTLS),

	// Zones in allowFrom need CityNetwork.
	accepted("Custom with exposure CityNetwork and a zone",
		publicService(custom).Exposure(cityNetwork).AllowFromZone("kiosk-net").Obj(), zoneNeedsCityNetwork),
	accepted("HospitalCheckIn (CityNetwork by default) with a zone",
		publicService(hospital).AllowFromZone("hospital-lan").Obj(), zoneNeedsCityNetwork),
	rejected("Custom (Internal by default) with a zone",
		publicService(custom).AllowFromZone("kiosk-net").Obj(), zoneNeedsCityNetwork),
	rejected("Portal (Public by default) with a zone",
		publicService(portal).Host(testHost).TLS(testTLSSecret).AllowFromZone("kiosk-net").Obj(), zoneNeedsCityNetwork),
	rejected("HospitalCheckIn with exposure Internal and a zone",
		publicService(hospital).Exposure(internal).AllowFromZone("hospital-lan").Obj(), zoneNeedsCityNetwork),

	// CityNetwork needs at least one zone.
	accepted("HospitalCheckIn with a service and a zone",
		publicService(hospital).AllowFromService("reception", "").AllowFromZone("hospital-lan").Obj(), cityNetworkNeedsZone),
	rejected("HospitalCheckIn with no allowFrom",
		publicService(hospital).Obj(), cityNetworkNeedsZone),
	rejected("HospitalCheckIn with only a service in allowFrom",
		publicService(hospital).AllowFromService("reception", "").Obj(), cityNetworkNeedsZone),
	rejected("Custom with exposure CityNetwork and only a service in allowFrom",
		publicService(custom).Exposure(cityNetwork).AllowFromService("reception", "").Obj(), cityNetworkNeedsZone),

	// replicas.min <= replicas.max, after profile defaults.
	accepted("Custom with min 2 and max 2", publicService(custom).MinReplicas(2).MaxReplicas(2).Obj(),
		replicasMinAboveMax),
	accepted("Portal with min 3 and max 5", publicService(portal).Host(testHost).TLS(testTLSSecret).MinReplicas(3).MaxReplicas(5).Obj(),
		replicasMinAboveMax),
	accepted("Portal with min 10 (its default max) and no max",
		publicService(portal).Host(testHost).TLS(testTLSSecret).MinReplicas(10).Obj(), replicasMinAboveMax),
	accepted("Portal with max 2 (its default min) and no min",
		publicService(portal).Host(testHost).TLS(testTLSSecret).MaxReplicas(2).Obj(), replicasMinAboveMax),
	accepted("Custom with an empty replicas block", publicService(custom).EmptyReplicas().Obj(), replicasMinAboveMax),
	rejected("Custom with min 5 and max 4", publicService(custom).MinReplicas(5).MaxReplicas(4).Obj(),
		replicasMinAboveMax),
	rejected("Custom with min 2 and no max (default max 1)", publicService(custom).MinReplicas(2).Obj(),
		replicasMinAboveMax),
	rejected("Portal with max 1 and no min (default min 2)",
		publicService(portal).Host(testHost).TLS(testTLSSecret).MaxReplicas(1).Obj(), replicasMinAboveMax),
	rejected("IdentityVerification with min 13 and no max (default max 12)",
		publicService(idv).MinReplicas(13).Obj(), replicasMinAboveMax),

	// metadata.name is a DNS-1035 label: it names the Service.
	accepted("a 63-character name", publicService(custom).Name(name63).Obj(), serviceNameNotDNS1035),
	accepted("a one-letter name", publicService(custom).Name("a").Obj(), serviceNameNotDNS1035),
	rejected("a name starting with a digit", publicService(custom).Name("1portal").Obj(), serviceNameNotDNS1035),
	rejected("a dotted name", publicService(custom).Name("a.b").Obj(), serviceNameNotDNS1035),
	rejected("a 64-character name", publicService(custom).Name(name64).Obj(), serviceNameNotDNS1035),

	// consumes lists each service once.
	accepted("consumes of two services", publicService(custom).Consumes("vneid", "").
		Consumes("portal", "").Obj(), consumesDuplicate),
	accepted("consumes of one service name in two namespaces", publicService(custom).
		Consumes("vneid", "identity").Consumes("vneid", "identity-staging").Obj(), consumesDuplicate),
	rejected("consumes of the same service twice", publicService(custom).Consumes("vneid", "").
		Consumes("vneid", "").Obj(), consumesDuplicate),
	rejected("consumes of the same service and namespace twice on different ports", publicService(custom).
		ConsumesRefs(platformv1alpha1.ServiceReference{Service: "vneid", Namespace: "identity", Port: new(int32(80))},
			platformv1alpha1.ServiceReference{Service: "vneid", Namespace: "identity", Port: new(int32(81))}).Obj(),
		consumesDuplicate),

	// allowFrom lists each source once.
	accepted("allowFrom of one service name in two namespaces", publicService(custom).
		AllowFromService("portal", "citizens").AllowFromService("portal", "").Obj(), allowFromDuplicate),
	accepted("allowFrom of a zone and a service with the same name", publicService(hospital).
		AllowFromZone("reception").AllowFromService("reception", "").Obj(), allowFromDuplicate),
	rejected("allowFrom of the same service twice", publicService(custom).
		AllowFromService("portal", "").AllowFromService("portal", "").Obj(), allowFromDuplicate),
	rejected("allowFrom of the same service and namespace twice", publicService(custom).
		AllowFromService("portal", "citizens").AllowFromService("portal", "citizens").Obj(), allowFromDuplicate),
	accepted("allowFrom of a namespace and of a service in it", publicService(custom).
		AllowFromNamespace("citizens").AllowFromService("portal", "citizens").Obj(), allowFromDuplicate),
	accepted("allowFrom of two namespaces", publicService(custom).
		AllowFromNamespace("citizens").AllowFromNamespace("health").Obj(), allowFromDuplicate),
	rejected("allowFrom of the same namespace twice", publicService(custom).
		AllowFromNamespace("citizens").AllowFromNamespace("citizens").Obj(), allowFromDuplicate),
	rejected("allowFrom of the same zone twice", publicService(hospital).
		AllowFromZone("hospital-lan").AllowFromZone("hospital-lan").Obj(), allowFromDuplicate),

	// egressTo lists each zone once.
	accepted("egressTo of two zones", publicService(custom).EgressToZone("population-db", 443).
		EgressToZone("tax-db", 443).Obj(), egressToDuplicate),
	rejected("egressTo of the same zone twice with different ports", publicService(custom).
		EgressToZone("population-db", 443).EgressToZone("population-db", 5432).Obj(), egressToDuplicate),

	// env entries: a value or a secret key, not both; names unique (listType=map).
	accepted("env with a value", publicService(custom).Env("LOG_LEVEL", "info").Obj(), envValueOrSecret),
	accepted("env with a secret key", publicService(custom).EnvFromSecret("DB_PASSWORD", "db", "password").Obj(),
		envValueOrSecret),
	rejected("env with both a value and a secret key", publicService(custom).EnvVars(platformv1alpha1.EnvVar{
		Name: "DB_PASSWORD", Value: "hunter2",
		SecretKeyRef: &platformv1alpha1.SecretKeySelector{Name: "db", Key: "password"},
	}).Obj(), envValueOrSecret),
	rejected("env with the same name twice", publicService(custom).Env("LOG_LEVEL", "info").
		Env("LOG_LEVEL", "debug").Obj(), schema("spec.env[1]", duplicate)),

	// resources: requests <= limits; only cpu, memory and ephemeral-storage.
	accepted("requests equal to limits, in different units", publicService(custom).
		Requests("cpu", "100m").Requests("memory", "1Gi").Limits("cpu", "0.1").Limits("memory", "1024Mi").Obj(), requestsAboveLimits),
	accepted("a cpu request and only a memory limit", publicService(custom).
		Requests("cpu", "2").Limits("memory", "64Mi").Obj(), requestsAboveLimits),
	rejected("a cpu request above the cpu limit", publicService(custom).
		Requests("cpu", "200m").Limits("cpu", "100m").Obj(), requestsAboveLimits),
	rejected("a memory request above the memory limit", publicService(custom).
		Requests("memory", "2Gi").Limits("memory", "1Gi").Obj(), requestsAboveLimits),
	accepted("requests of cpu, memory and ephemeral-storage", publicService(custom).
		Requests("cpu", "1").Requests("memory", "1Gi").Requests("ephemeral-storage", "1Gi").Obj(), unknownRequest),
	rejected("a GPU request", publicService(custom).Requests("nvidia.com/gpu", "1").Obj(), unknownRequest),
	accepted("limits of cpu, memory and ephemeral-storage", publicService(custom).
		Limits("cpu", "1").Limits("memory", "1Gi").Limits("ephemeral-storage", "1Gi").Obj(), unknownLimit),
	accepted("integer quantities as YAML writes them (cpu: 1, limit cpu: 2)",
		publicServiceWithResources(map[string]any{"cpu": int64(1)}, map[string]any{"cpu": int64(2)}), requestsAboveLimits),
	rejected("an integer cpu request above a string cpu limit",
		publicServiceWithResources(map[string]any{"cpu": int64(2)}, map[string]any{"cpu": "1"}), requestsAboveLimits),
	rejected("a hugepages limit", publicService(custom).Limits("hugepages-2Mi", "1Gi").Obj(), unknownLimit),

	// Each allowFrom entry is a service (with an optional namespace), a namespace alone, or a zone.
	accepted("an allowFrom service with a namespace", publicService(custom).
		AllowFromService("portal", "citizens").Obj(), allowZoneAlone),
	accepted("an allowFrom service", publicService(custom).AllowFromService("portal", "").Obj(), allowSourceNamed),
	accepted("an allowFrom namespace alone", publicService(custom).AllowFromNamespace("citizens").Obj(),
		allowSourceNamed),
	accepted("an allowFrom namespace alone, beside a zone", publicService(hospital).AllowFromNamespace("citizens").
		AllowFromZone("hospital-lan").Obj(), allowZoneAlone),
	accepted("an allowFrom zone", publicService(hospital).AllowFromZone("hospital-lan").Obj(), allowSourceNamed),
	rejected("an empty allowFrom entry", publicService(custom).AllowFrom(platformv1alpha1.AllowSource{}).Obj(),
		allowSourceNamed),
	rejected("an allowFrom entry with both a service and a zone", publicService(hospital).AllowFrom(
		platformv1alpha1.AllowSource{Service: "portal", Zone: "hospital-lan"}).Obj(), allowZoneAlone),
	rejected("an allowFrom zone with a namespace", publicService(hospital).AllowFrom(
		platformv1alpha1.AllowSource{Zone: "hospital-lan", Namespace: "citizens"}).Obj(), allowZoneAlone),
}

// publicServiceSchemaCases probe the OpenAPI bounds (not CEL) of PublicService.
var publicServiceSchemaCases = []validationCase{
	accepted("port 1", publicService(custom).Port(1).Obj(), schema("spec.port", atLeast1)),
	accepted("port 65535", publicService(custom).Port(65535).Obj(), schema("spec.port", atMost65535)),
	rejected("port 0", publicService(custom).Port(0).Obj(), schema("spec.port", atLeast1)),
	rejected("port 65536", publicService(custom).Port(65536).Obj(), schema("spec.port", atMost65535)),

	accepted("egressTo ports 1 and 65535", publicService(custom).EgressToZone("population-db", 1, 65535).Obj(),
		schema("spec.egressTo[0].ports[0]", atLeast1)),
	rejected("egressTo port 0", publicService(custom).EgressToZone("population-db", 0).Obj(),
		schema("spec.egressTo[0].ports[0]", atLeast1)),
	rejected("egressTo port 65536", publicService(custom).EgressToZone("population-db", 443, 65536).Obj(),
		schema("spec.egressTo[0].ports[1]", atMost65535)),
	rejected("egressTo with no ports", publicService(custom).EgressToZone("population-db").Obj(),
		schema("spec.egressTo[0].ports", "should have at least 1 items")),
	rejected("egressTo with ports null", publicService(custom).EgressToZoneNullPorts("population-db").Obj(),
		schema("spec.egressTo[0].ports", "Required value"), celSkipped),
	rejected("egressTo with the same port twice", publicService(custom).EgressToZone("population-db", 443, 443).Obj(),
		schema("spec.egressTo[0].ports[1]", duplicate)),
	rejected("consumes port 0", publicService(custom).ConsumesRefs(
		platformv1alpha1.ServiceReference{Service: "vneid", Port: new(int32(0))}).Obj(),
		schema("spec.consumes[0].port", atLeast1)),

	accepted("an image pinned by digest", publicService(custom).Image(
		"registry.hanoi.gov.vn/portal@sha256:"+strings.Repeat("ab", 32)).Obj(), schema("spec.image", "should match")),
	rejected("an empty image", publicService(custom).Image("").Obj(),
		schema("spec.image", "should be at least 1 chars long")),
	rejected("an image with a space", publicService(custom).Image("nginx latest").Obj(),
		schema("spec.image", `should match '^\S+$'`)),
	rejected("an image with a trailing newline", publicService(custom).Image("nginx:1.27\n").Obj(),
		schema("spec.image", `should match '^\S+$'`)),

	accepted("healthPath /", publicService(custom).HealthPath("/").Obj(), schema("spec.healthPath", "should match")),
	accepted("healthPath /api/v1/health", publicService(custom).HealthPath("/api/v1/health").Obj(),
		schema("spec.healthPath", "should match")),
	rejected("healthPath not starting with /", publicService(custom).HealthPath("healthz").Obj(),
		schema("spec.healthPath", "should match")),
	rejected("healthPath with a query", publicService(custom).HealthPath("/healthz?full=1").Obj(),
		schema("spec.healthPath", "should match")),

	accepted("32 consumes", publicService(custom).ConsumesRefs(serviceRefs(32)...).Obj(),
		schema("spec.consumes", "must have at most 32 items")),
	rejected("33 consumes", publicService(custom).ConsumesRefs(serviceRefs(33)...).Obj(),
		schema("spec.consumes", "Too many: 33: must have at most 32 items"), celSkipped),
	rejected("33 allowFrom entries", publicService(custom).AllowFrom(allowSources(33)...).Obj(),
		schema("spec.allowFrom", "Too many: 33: must have at most 32 items"), celSkipped),
	rejected("17 egressTo entries", egressZones(publicService(custom), 17).Obj(),
		schema("spec.egressTo", "Too many: 17: must have at most 16 items"), celSkipped),

	accepted("replicas min 1 and max 1000", publicService(custom).MinReplicas(1).MaxReplicas(1000).Obj(),
		schema("spec.replicas.min", atLeast1)),
	rejected("replicas min 0", publicService(custom).MinReplicas(0).Obj(), schema("spec.replicas.min", atLeast1)),
	rejected("replicas max 1001", publicService(custom).MaxReplicas(1001).Obj(),
		schema("spec.replicas.max", "should be less than or equal to 1000")),
	rejected("targetCPUUtilizationPercentage 101", publicService(custom).TargetCPU(101).Obj(),
		schema("spec.replicas.targetCPUUtilizationPercentage", "should be less than or equal to 100")),

	rejected("an upper-case host", publicService(portal).Host("DichVuCong.Hanoi.gov.vn").TLS(testTLSSecret).Obj(),
		schema("spec.exposure.host", "should match")),
	rejected("an empty TLS secret name", publicService(portal).Host(testHost).TLS("").Obj(),
		schema("spec.exposure.tls.secretName", "should be at least 1 chars long")),
	rejected("an unknown profile", publicService("Kiosk").Obj(),
		schema("spec.profile", `Unsupported value: "Kiosk": supported values: "Portal", "IdentityVerification"`),
		celSkipped),
	rejected("a consumed service name starting with a digit", publicService(custom).Consumes("1vneid", "").Obj(),
		schema("spec.consumes[0].service", "should match")),
	rejected("an env name starting with a digit", publicService(custom).Env("1VAR", "x").Obj(),
		schema("spec.env[0].name", "should match")),
}

// publicServiceWithResources is a Custom PublicService written as unstructured JSON, so quantities
// can be integers as in YAML (the typed client always sends strings).
func publicServiceWithResources(requests, limits map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": platformv1alpha1.GroupVersion.String(),
		"kind":       "PublicService",
		"metadata":   map[string]any{"name": "svc", "namespace": testNamespace},
		"spec": map[string]any{
			"profile":   string(custom),
			"image":     testImage,
			"resources": map[string]any{"requests": requests, "limits": limits},
		},
	}}
}

func serviceRefs(n int) []platformv1alpha1.ServiceReference {
	refs := make([]platformv1alpha1.ServiceReference, 0, n)
	for i := range n {
		refs = append(refs, platformv1alpha1.ServiceReference{Service: fmt.Sprintf("svc-%d", i)})
	}
	return refs
}

func allowSources(n int) []platformv1alpha1.AllowSource {
	sources := make([]platformv1alpha1.AllowSource, 0, n)
	for i := range n {
		sources = append(sources, platformv1alpha1.AllowSource{Service: fmt.Sprintf("svc-%d", i)})
	}
	return sources
}

var _ = Describe("PublicService validation", func() {
	DescribeTable("CEL rules", func(ctx SpecContext, c validationCase) {
		expectCase(ctx, c)
	}, entries(publicServiceCases))

	DescribeTable("schema bounds", func(ctx SpecContext, c validationCase) {
		expectCase(ctx, c)
	}, entries(publicServiceSchemaCases))
})
