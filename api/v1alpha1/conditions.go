package v1alpha1

// Condition types of a PublicService.
const (
	// ConditionReady is True when Available, NetworkIsolated and DependenciesSatisfied are all True.
	ConditionReady = "Ready"
	// ConditionAvailable is True when the Deployment has at least replicas.min ready pods.
	ConditionAvailable = "Available"
	// ConditionNetworkIsolated is True when the service's NetworkPolicy is applied. Whether the
	// cluster enforces it depends on its network plugin.
	ConditionNetworkIsolated = "NetworkIsolated"
	// ConditionDependenciesSatisfied is True when every consumed service exists and admits this
	// one, and every referenced zone exists and admits this namespace.
	ConditionDependenciesSatisfied = "DependenciesSatisfied"
	// ConditionConnectivityVerified is True when the service's effective ingress and egress,
	// computed from every NetworkPolicy present (including ones the operator did not create),
	// equal its declared intent after consent. It is reported beside Ready, not part of it.
	ConditionConnectivityVerified = "ConnectivityVerified"
)

// Condition reasons of a PublicService.
const (
	// ReasonReady: every part of Ready is True.
	ReasonReady = "Ready"
	// ReasonNotReady: at least one part of Ready is not True; the message names which.
	ReasonNotReady = "NotReady"

	// ReasonDeploymentAvailable: at least replicas.min pods are ready.
	ReasonDeploymentAvailable = "DeploymentAvailable"
	// ReasonDeploymentProgressing: pods are starting; fewer than replicas.min are ready.
	ReasonDeploymentProgressing = "DeploymentProgressing"
	// ReasonPodsFailing: pods fail to start; the message names the failure
	// (for example ImagePullBackOff or CrashLoopBackOff).
	ReasonPodsFailing = "PodsFailing"

	// ReasonPolicyApplied: the NetworkPolicy is applied (enforcement is up to the network plugin).
	ReasonPolicyApplied = "PolicyApplied"

	// ReasonNameConflict: an object the operator would create already exists and belongs to
	// someone else; the operator never takes it over.
	ReasonNameConflict = "NameConflict"
	// ReasonApplyFailed: the API server refused an object; the message names its kind, and the
	// fields to change when the object is invalid. The API server's error is in a Warning event.
	ReasonApplyFailed = "ApplyFailed"

	// ReasonDependenciesSatisfied: every dependency exists and consents.
	ReasonDependenciesSatisfied = "DependenciesSatisfied"
	// ReasonConsentMissing: a consumed service exists but its allowFrom does not admit this one.
	ReasonConsentMissing = "ConsentMissing"
	// ReasonDependencyNotFound: a consumed service does not exist.
	ReasonDependencyNotFound = "DependencyNotFound"
	// ReasonZoneNotFound: a referenced NetworkZone does not exist.
	ReasonZoneNotFound = "ZoneNotFound"
	// ReasonZoneNotAllowed: a referenced NetworkZone's allowedNamespaces does not admit this namespace.
	ReasonZoneNotAllowed = "ZoneNotAllowed"

	// ReasonEffectiveMatchesIntent: effective ingress and egress equal the intent (ConnectivityVerified=True).
	ReasonEffectiveMatchesIntent = "EffectiveMatchesIntent"
	// ReasonConnectivityMismatch: some flows are allowed but not declared, or declared but
	// blocked; the message names them.
	ReasonConnectivityMismatch = "ConnectivityMismatch"
	// ReasonAuditFailed: the connectivity could not be computed; the error is in a Warning event.
	ReasonAuditFailed = "AuditFailed"

	// ReasonWaiting: the condition was not evaluated, because an earlier step of the reconcile
	// stopped; the message names the step.
	ReasonWaiting = "Waiting"
)

// Condition types and reasons of a NetworkZone.
const (
	// ConditionZoneAccepted is True when the zone is valid and its references are computed.
	ConditionZoneAccepted = "Accepted"
	// ReasonZoneAccepted: the zone is in use as described in status.
	ReasonZoneAccepted = "Accepted"
	// ReasonZoneRefusedReferences: some services reference the zone from namespaces that
	// allowedNamespaces does not admit; status.refused lists them.
	ReasonZoneRefusedReferences = "RefusedReferences"
)
