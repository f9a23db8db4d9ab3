// Package v1alpha1 holds the platform.smartcity.io/v1alpha1 API: PublicService, which
// describes one citizen-facing service and its security policy, and NetworkZone, a named
// set of CIDRs owned by a network provider.
//
// +kubebuilder:object:generate=true
// +groupName=platform.smartcity.io
package v1alpha1
