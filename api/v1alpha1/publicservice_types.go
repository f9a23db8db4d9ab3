package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Profile is the kind of public service; it sets the defaults of every optional field.
// +kubebuilder:validation:Enum=Portal;IdentityVerification;HospitalCheckIn;Custom
// +kubebuilder:validation:MaxLength=32
type Profile string

const (
	// ProfilePortal is an online public-service portal: Public exposure, Internal data, 2–10 replicas.
	ProfilePortal Profile = "Portal"
	// ProfileIdentityVerification is an identity-verification / e-authentication service:
	// Internal exposure, Restricted data, 3–12 replicas. It can never be exposed publicly.
	ProfileIdentityVerification Profile = "IdentityVerification"
	// ProfileHospitalCheckIn is a hospital check-in service reading chip-based citizen ID cards:
	// CityNetwork exposure (only from zones), Confidential data, 2–8 replicas.
	ProfileHospitalCheckIn Profile = "HospitalCheckIn"
	// ProfileCustom is any other service: Internal exposure, Internal data, one replica.
	ProfileCustom Profile = "Custom"
)

// ExposureMode says from where a service can be reached.
// +kubebuilder:validation:Enum=Internal;CityNetwork;Public
// +kubebuilder:validation:MaxLength=32
type ExposureMode string

const (
	// ExposureInternal admits only in-cluster callers listed in allowFrom.
	ExposureInternal ExposureMode = "Internal"
	// ExposureCityNetwork also admits clients in the NetworkZones listed in allowFrom.
	ExposureCityNetwork ExposureMode = "CityNetwork"
	// ExposurePublic also admits the cluster's gateway or ingress controller, with a host and TLS.
	ExposurePublic ExposureMode = "Public"
)

// DataClassification is the sensitivity of the data a service handles.
// +kubebuilder:validation:Enum=Public;Internal;Confidential;Restricted
// +kubebuilder:validation:MaxLength=32
type DataClassification string

const (
	// ClassificationPublic data may be published.
	ClassificationPublic DataClassification = "Public"
	// ClassificationInternal data stays inside the city administration.
	ClassificationInternal DataClassification = "Internal"
	// ClassificationConfidential data is personal data (for example health records).
	ClassificationConfidential DataClassification = "Confidential"
	// ClassificationRestricted data is identity data; a Restricted service is never Public.
	ClassificationRestricted DataClassification = "Restricted"
)

// PublicServiceSpec is the desired state of a PublicService. Every optional field defaults
// from the profile (see docs/api.md for the table); explicit fields override the defaults.
//
// +kubebuilder:validation:XValidation:rule="(has(self.exposure) && has(self.exposure.mode) ? self.exposure.mode : (self.profile == 'Portal' ? 'Public' : (self.profile == 'HospitalCheckIn' ? 'CityNetwork' : 'Internal'))) != 'Public' || self.profile != 'IdentityVerification'",message="exposure.mode Public is not allowed for the IdentityVerification profile: use Internal or CityNetwork",fieldPath=".exposure",reason=FieldValueForbidden
// +kubebuilder:validation:XValidation:rule="(has(self.exposure) && has(self.exposure.mode) ? self.exposure.mode : (self.profile == 'Portal' ? 'Public' : (self.profile == 'HospitalCheckIn' ? 'CityNetwork' : 'Internal'))) != 'Public' || (has(self.dataClassification) ? self.dataClassification : (self.profile == 'IdentityVerification' ? 'Restricted' : (self.profile == 'HospitalCheckIn' ? 'Confidential' : 'Internal'))) != 'Restricted'",message="exposure.mode Public is not allowed for Restricted data: lower dataClassification or use Internal or CityNetwork exposure",fieldPath=".exposure",reason=FieldValueForbidden
// +kubebuilder:validation:XValidation:rule="(has(self.exposure) && has(self.exposure.mode) ? self.exposure.mode : (self.profile == 'Portal' ? 'Public' : (self.profile == 'HospitalCheckIn' ? 'CityNetwork' : 'Internal'))) != 'Public' || (has(self.exposure) && has(self.exposure.host) && has(self.exposure.tls))",message="Public exposure needs exposure.host and exposure.tls.secretName (the Portal profile is Public by default)",fieldPath=".exposure",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="(has(self.exposure) && has(self.exposure.mode) ? self.exposure.mode : (self.profile == 'Portal' ? 'Public' : (self.profile == 'HospitalCheckIn' ? 'CityNetwork' : 'Internal'))) == 'CityNetwork' || !has(self.allowFrom) || self.allowFrom.all(a, !has(a.zone))",message="allowFrom entries with a zone need exposure.mode CityNetwork",fieldPath=".allowFrom",reason=FieldValueForbidden
// +kubebuilder:validation:XValidation:rule="(has(self.exposure) && has(self.exposure.mode) ? self.exposure.mode : (self.profile == 'Portal' ? 'Public' : (self.profile == 'HospitalCheckIn' ? 'CityNetwork' : 'Internal'))) != 'CityNetwork' || (has(self.allowFrom) && self.allowFrom.exists(a, has(a.zone)))",message="exposure.mode CityNetwork needs at least one allowFrom entry with a zone (the HospitalCheckIn profile is CityNetwork by default)",fieldPath=".allowFrom",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="!has(self.replicas) || (has(self.replicas.min) ? self.replicas.min : (self.profile == 'Portal' ? 2 : (self.profile == 'IdentityVerification' ? 3 : (self.profile == 'HospitalCheckIn' ? 2 : 1)))) <= (has(self.replicas.max) ? self.replicas.max : (self.profile == 'Portal' ? 10 : (self.profile == 'IdentityVerification' ? 12 : (self.profile == 'HospitalCheckIn' ? 8 : 1))))",message="replicas.min must not exceed replicas.max once profile defaults apply (Portal 2-10, IdentityVerification 3-12, HospitalCheckIn 2-8, Custom 1-1); set both when moving one beyond the default range",fieldPath=".replicas",reason=FieldValueInvalid
type PublicServiceSpec struct {
	// profile is the kind of service; it sets the defaults of every optional field.
	// +required
	Profile Profile `json:"profile"`

	// image is the container image reference, ideally pinned by tag or digest.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^\S+$`
	Image string `json:"image"`

	// port is the TCP port the container serves on and the Service exposes. Defaults to 8080.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port *int32 `json:"port,omitempty"`

	// healthPath is the HTTP path of the liveness and readiness probes. Defaults to /healthz.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^/[A-Za-z0-9/_.~-]*$`
	HealthPath string `json:"healthPath,omitempty"`

	// env is the container's environment: plain values or references to Secret keys.
	// The operator never reads the Secrets; the kubelet does.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	Env []EnvVar `json:"env,omitempty"`

	// resources are the container's CPU and memory requests and limits. Requests default per
	// profile (an HPA needs a CPU request); the memory limit defaults to twice the request.
	// +optional
	Resources *Resources `json:"resources,omitempty"`

	// replicas bounds the number of pods. When max > min an HorizontalPodAutoscaler scales
	// between them; otherwise the Deployment runs exactly min pods.
	// +optional
	Replicas *Replicas `json:"replicas,omitempty"`

	// exposure says from where the service can be reached. Defaults per profile.
	// +optional
	Exposure *Exposure `json:"exposure,omitempty"`

	// consumes lists the services this one calls. Each becomes an egress rule once the
	// provider's allowFrom admits this service (bilateral consent).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(c, self.exists_one(d, d.service == c.service && has(d.__namespace__) == has(c.__namespace__) && (!has(c.__namespace__) || d.__namespace__ == c.__namespace__)))",message="consumes must not list the same service twice"
	Consumes []ServiceReference `json:"consumes,omitempty"`

	// allowFrom lists who may call this service: other PublicServices (by service and
	// namespace), every consumer in a namespace (by namespace alone) or, with exposure
	// CityNetwork, NetworkZones. A service is admitted only if it also consumes this one.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(a, self.exists_one(b, has(b.zone) == has(a.zone) && (!has(a.zone) || b.zone == a.zone) && has(b.service) == has(a.service) && (!has(a.service) || b.service == a.service) && has(b.__namespace__) == has(a.__namespace__) && (!has(a.__namespace__) || b.__namespace__ == a.__namespace__)))",message="allowFrom must not list the same service, namespace or zone twice"
	AllowFrom []AllowSource `json:"allowFrom,omitempty"`

	// egressTo lists destinations outside the cluster, by NetworkZone and ports.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:XValidation:rule="self.all(e, self.exists_one(f, f.zone == e.zone))",message="egressTo must not list the same zone twice"
	EgressTo []ZoneEgress `json:"egressTo,omitempty"`

	// dataClassification is the sensitivity of the data the service handles. Defaults per profile.
	// Restricted data can never be exposed publicly.
	// +optional
	DataClassification DataClassification `json:"dataClassification,omitempty"`
}

// EnvVar is one environment variable: a value or a Secret key reference.
// +kubebuilder:validation:XValidation:rule="!(has(self.value) && has(self.secretKeyRef))",message="env entries set either value or secretKeyRef, not both"
type EnvVar struct {
	// name is the variable's name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z_][A-Za-z0-9_]*$`
	Name string `json:"name"`

	// value is the variable's literal value.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Value string `json:"value,omitempty"`

	// secretKeyRef takes the value from a key of a Secret in the service's namespace.
	// +optional
	SecretKeyRef *SecretKeySelector `json:"secretKeyRef,omitempty"`
}

// SecretKeySelector names a key of a Secret in the same namespace.
type SecretKeySelector struct {
	// name is the Secret's name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// key is the key inside the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key"`
}

// Resources are a container's requests and limits for cpu, memory and ephemeral-storage.
// +kubebuilder:validation:XValidation:rule="!has(self.requests) || !has(self.limits) || self.requests.all(k, !(k in self.limits) || quantity(string(self.requests[k])).compareTo(quantity(string(self.limits[k]))) <= 0)",message="resources.requests must not exceed resources.limits"
type Resources struct {
	// requests are the guaranteed amounts, for example {cpu: 100m, memory: 128Mi}.
	// +optional
	// +kubebuilder:validation:MaxProperties=3
	// +kubebuilder:validation:XValidation:rule="self.all(k, k in ['cpu', 'memory', 'ephemeral-storage'])",message="only cpu, memory and ephemeral-storage can be requested"
	Requests corev1.ResourceList `json:"requests,omitempty"`

	// limits are the maximum amounts, for example {memory: 256Mi}.
	// +optional
	// +kubebuilder:validation:MaxProperties=3
	// +kubebuilder:validation:XValidation:rule="self.all(k, k in ['cpu', 'memory', 'ephemeral-storage'])",message="only cpu, memory and ephemeral-storage can be limited"
	Limits corev1.ResourceList `json:"limits,omitempty"`
}

// Replicas bounds the number of pods of a service.
type Replicas struct {
	// min is the lowest number of pods. Defaults per profile.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	Min *int32 `json:"min,omitempty"`

	// max is the highest number of pods; an HPA scales between min and max when max > min.
	// Defaults per profile.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	Max *int32 `json:"max,omitempty"`

	// targetCPUUtilizationPercentage is the HPA's average CPU target, in percent of the
	// request. Defaults to 70.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	TargetCPUUtilizationPercentage *int32 `json:"targetCPUUtilizationPercentage,omitempty"`
}

// Exposure says from where a service can be reached.
type Exposure struct {
	// mode is Internal (cluster only), CityNetwork (also from the zones in allowFrom) or
	// Public (through the cluster's gateway or ingress). Defaults per profile.
	// +optional
	Mode ExposureMode `json:"mode,omitempty"`

	// host is the public host name, required for Public exposure.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Host string `json:"host,omitempty"`

	// tls names the certificate for the host, required for Public exposure.
	// +optional
	TLS *TLS `json:"tls,omitempty"`
}

// TLS names the Secret that holds a host's certificate.
type TLS struct {
	// secretName is a kubernetes.io/tls Secret in the service's namespace. With an Ingress it
	// terminates TLS; with a Gateway, the Gateway's own listener certificate is used instead.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	SecretName string `json:"secretName"`
}

// ServiceReference names a PublicService that this one calls.
type ServiceReference struct {
	// service is the name of the PublicService called.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	Service string `json:"service"`

	// namespace of the PublicService called. Defaults to this service's namespace.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespace string `json:"namespace,omitempty"`

	// port called; defaults to the provider's port.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port *int32 `json:"port,omitempty"`
}

// AllowSource admits callers. Each entry is exactly one of: a PublicService (service, with an
// optional namespace); a namespace alone, which admits every PublicService of that namespace
// that consumes this one (consent stays bilateral: nothing flows to a service that does not
// declare it consumes this one); or a NetworkZone (zone).
// +kubebuilder:validation:XValidation:rule="has(self.service) || has(self.__namespace__) || has(self.zone)",message="each allowFrom entry names a service (with an optional namespace), a namespace alone (its services that consume this one) or a zone"
// +kubebuilder:validation:XValidation:rule="!has(self.zone) || !(has(self.service) || has(self.__namespace__))",message="an allowFrom entry with a zone names no service and no namespace: list the zone in an entry of its own"
type AllowSource struct {
	// service is the name of a PublicService allowed to call this one. Without service, an
	// entry with a namespace admits every service of that namespace that consumes this one.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	Service string `json:"service,omitempty"`

	// namespace of that PublicService; defaults to this service's namespace. Alone (without
	// service), it admits every PublicService of the namespace that consumes this one.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespace string `json:"namespace,omitempty"`

	// zone is the name of a NetworkZone whose clients may call this service; needs
	// exposure.mode CityNetwork, and the zone's allowedNamespaces must admit this namespace.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Zone string `json:"zone,omitempty"`
}

// ZoneEgress allows calls to a NetworkZone on the given ports.
type ZoneEgress struct {
	// zone is the name of the NetworkZone called; its allowedNamespaces must admit this namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Zone string `json:"zone"`

	// ports are the TCP ports called in the zone.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:Minimum=1
	// +kubebuilder:validation:items:Maximum=65535
	Ports []int32 `json:"ports"`
}

// PublicServiceStatus is the observed state of a PublicService.
type PublicServiceStatus struct {
	// conditions: Available, NetworkIsolated, DependenciesSatisfied, and Ready (all three True).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation of the spec this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// exposure is the effective exposure mode, after profile defaults.
	// +optional
	Exposure ExposureMode `json:"exposure,omitempty"`

	// replicas is the number of pods the Deployment has.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// readyReplicas is the number of ready pods.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// endpoint is the in-cluster DNS name and port of the service.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Endpoint string `json:"endpoint,omitempty"`

	// admittedConsumers are the services ("namespace/name") whose calls the policy admits:
	// they consume this service and allowFrom admits them. Sorted; at most the first 64 (the
	// count is in admittedConsumerCount).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=127
	AdmittedConsumers []string `json:"admittedConsumers,omitempty"`

	// admittedConsumerCount is the number of admitted consumers; admittedConsumers lists the
	// first 64 of them in order.
	// +optional
	// +kubebuilder:validation:Minimum=0
	AdmittedConsumerCount int32 `json:"admittedConsumerCount,omitempty"`

	// admittedZones are the NetworkZones whose clients the policy admits.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=63
	AdmittedZones []string `json:"admittedZones,omitempty"`

	// destinations are the effective egress destinations: "namespace/name:port" for services,
	// "zone/name:port,port" for zones. Cluster DNS is always allowed and not listed.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	Destinations []string `json:"destinations,omitempty"`

	// unadmittedConsumers are services ("namespace/name") that declare they consume this one
	// but that allowFrom does not admit. Their calls are denied. Sorted; at most the first 64
	// (the count is in unadmittedConsumerCount).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=127
	UnadmittedConsumers []string `json:"unadmittedConsumers,omitempty"`

	// unadmittedConsumerCount is the number of unadmitted consumers; unadmittedConsumers lists
	// the first 64 of them in order.
	// +optional
	// +kubebuilder:validation:Minimum=0
	UnadmittedConsumerCount int32 `json:"unadmittedConsumerCount,omitempty"`
}

// PublicService is one citizen-facing service with its security policy. The operator turns it
// into a NetworkPolicy, ServiceAccount, Deployment, Service, HorizontalPodAutoscaler,
// PodDisruptionBudget and, for Public exposure, an HTTPRoute or Ingress.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=psvc,categories=smartcity
// +kubebuilder:printcolumn:name="Profile",type=string,JSONPath=`.spec.profile`
// +kubebuilder:printcolumn:name="Exposure",type=string,JSONPath=`.status.exposure`
// +kubebuilder:printcolumn:name="Ready-Replicas",type=integer,JSONPath=`.status.readyReplicas`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Connectivity-Verified",type=string,JSONPath=`.status.conditions[?(@.type=="ConnectivityVerified")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.status.endpoint`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS-1035 label of at most 63 characters (lower-case letters, digits and '-', starting with a letter): it names the Service"
type PublicService struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired service.
	// +required
	Spec PublicServiceSpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status PublicServiceStatus `json:"status,omitempty"`
}

// PublicServiceList is a list of PublicServices.
//
// +kubebuilder:object:root=true
type PublicServiceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PublicService `json:"items"`
}

func init() {
	SchemeBuilder.Register(&PublicService{}, &PublicServiceList{})
}
