// Package v1alpha1 holds the platform.smartcity.io/v1alpha1 API: PublicService, which
// describes one citizen-facing service and its security policy, and NetworkZone, a named
// set of CIDRs owned by a network provider.
//
// Every optional field of a PublicService defaults from its profile (see DefaultsFor):
//
// | profile | exposure | dataClassification | replicas min / max | PodDisruptionBudget |
// | --- | --- | --- | --- | --- |
// | Portal | Public | Internal | 2 / 10 | maxUnavailable 1 |
// | IdentityVerification | Internal | Restricted | 3 / 12 | maxUnavailable 1 |
// | HospitalCheckIn | CityNetwork | Confidential | 2 / 8 | maxUnavailable 1 |
// | Custom | Internal | Internal | 1 / 1 | none (never when min = 1) |
//
// Also: port 8080, healthPath /healthz, targetCPUUtilizationPercentage 70, CPU and memory
// requests per profile, memory limit twice the request. A flow between two services exists
// only when the consumer lists the provider in consumes and the provider lists the consumer
// in allowFrom (bilateral consent).
//
// +kubebuilder:object:generate=true
// +groupName=platform.smartcity.io
package v1alpha1
