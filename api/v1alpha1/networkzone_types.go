package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NetworkZoneSpec is a named network outside the cluster, owned by a network provider.
// +kubebuilder:validation:XValidation:rule="!has(self.except) || self.except.all(e, !isCIDR(e) || self.cidrs.exists(c, isCIDR(c) && cidr(c).containsCIDR(e)))",message="every except entry must lie inside one of cidrs",fieldPath=".except",reason=FieldValueInvalid
type NetworkZoneSpec struct {
	// cidrs are the zone's address ranges, for example 10.20.0.0/16.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:items:XValidation:rule="isCIDR(self)",message="each cidrs entry must be a valid CIDR such as 10.20.0.0/16"
	// +kubebuilder:validation:items:XValidation:rule="!isCIDR(self) || cidr(self) == cidr(self).masked()",message="a cidrs entry must not have host bits set (write the network address, for example 10.20.0.0/16)"
	CIDRs []string `json:"cidrs"`

	// except are ranges inside cidrs that are not part of the zone.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:items:XValidation:rule="isCIDR(self)",message="each except entry must be a valid CIDR such as 10.20.5.0/24"
	Except []string `json:"except,omitempty"`

	// provider is who owns and operates the zone, for example a network provider's name.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Provider string `json:"provider,omitempty"`

	// description says what the zone is, for example "Hospital reception LANs".
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Description string `json:"description,omitempty"`

	// allowedNamespaces selects the namespaces whose PublicServices may reference this zone.
	// Empty or absent admits none, so sensitive zones are opened deliberately.
	// +optional
	AllowedNamespaces *metav1.LabelSelector `json:"allowedNamespaces,omitempty"`
}

// NetworkZoneStatus is the observed state of a NetworkZone.
type NetworkZoneStatus struct {
	// conditions of the zone (Accepted).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation of the spec this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// referencedBy are the PublicServices ("namespace/name") whose policies use this zone.
	// Sorted; at most the first 256 (the count is in referencedByCount).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=127
	ReferencedBy []string `json:"referencedBy,omitempty"`

	// referencedByCount is the number of PublicServices whose policies use this zone.
	// +optional
	// +kubebuilder:validation:Minimum=0
	ReferencedByCount int32 `json:"referencedByCount,omitempty"`

	// refused are the PublicServices ("namespace/name") that reference this zone from a
	// namespace that allowedNamespaces does not admit; their rules for the zone are dropped.
	// Sorted; at most the first 256 (the count is in refusedCount).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=127
	Refused []string `json:"refused,omitempty"`

	// refusedCount is the number of PublicServices the zone refuses.
	// +optional
	// +kubebuilder:validation:Minimum=0
	RefusedCount int32 `json:"refusedCount,omitempty"`
}

// NetworkZone is a named set of CIDRs outside the cluster (a hospital LAN, a kiosk network,
// the national population database) that PublicServices admit or call.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=nz,categories=smartcity
// +kubebuilder:printcolumn:name="CIDRs",type=string,JSONPath=`.spec.cidrs`
// +kubebuilder:printcolumn:name="Provider",type=string,JSONPath=`.spec.provider`
// +kubebuilder:printcolumn:name="Accepted",type=string,JSONPath=`.status.conditions[?(@.type=="Accepted")].status`
// +kubebuilder:printcolumn:name="Referenced-By",type=string,JSONPath=`.status.referencedBy`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name of a NetworkZone must be a DNS-1123 label of at most 63 characters"
type NetworkZone struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the zone.
	// +required
	Spec NetworkZoneSpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status NetworkZoneStatus `json:"status,omitempty"`
}

// NetworkZoneList is a list of NetworkZones.
//
// +kubebuilder:object:root=true
type NetworkZoneList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []NetworkZone `json:"items"`
}

func init() {
	SchemeBuilder.Register(&NetworkZone{}, &NetworkZoneList{})
}
