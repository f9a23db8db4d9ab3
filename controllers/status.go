package controllers

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
)

// The steps of a PublicService reconcile observe; this file decides. Each step records what
// it saw in observations, and the functions below derive every condition from them, so that
// a condition never depends on which step happened to write it last. A nil or false
// observation means "not observed": an earlier step stopped the reconcile.

// observations are what the steps of one reconcile saw.
type observations struct {
	// stopped says why the reconcile stopped before its last step, naming the step; "" when it
	// ran to the end.
	stopped string

	// resolved: the resolve intent step ran, and flows holds the service's resolved flows.
	resolved bool
	flows    intent.Resolved

	// policy is the NetworkPolicy's apply; nil when it was not tried.
	policy *childApply
	// child is the first other child whose apply failed (a name conflict or an API error).
	child *childApply

	// deployment is the live Deployment, after the deployment step.
	deployment *appsv1.Deployment
	// availability: the availability step ran; podFailure names the pods' failure, if any.
	availability bool
	podFailure   string

	// endpoint is the Service's in-cluster address, after the service step.
	endpoint string
}

// childApply is the outcome of applying one child: err is nil (applied), a *conflictError, or
// the API server's error.
type childApply struct {
	kind string
	err  error
}

// readyParts are the conditions whose conjunction is Ready, in the order messages name them.
var readyParts = []string{
	platformv1alpha1.ConditionAvailable,
	platformv1alpha1.ConditionNetworkIsolated,
	platformv1alpha1.ConditionDependenciesSatisfied,
}

// maxMessage is the API's limit on a condition message.
const maxMessage = 32768

// Bounds of what a status says about a city, so that its size never depends on how many
// services there are: the status lists' caps (their MaxItems in api/v1alpha1; the counts
// beside the lists are exact), and how many names a condition message or an event names.
const (
	maxServiceStatusList = 64
	maxZoneStatusList    = 256
	namesInMessage       = 3
)

// computeStatus derives the status of a PublicService of generation gen and effective spec
// from the previous status and this reconcile's observations. prev is not modified.
func computeStatus(prev *platformv1alpha1.PublicServiceStatus, gen int64, spec *platformv1alpha1.PublicServiceSpec,
	o *observations) platformv1alpha1.PublicServiceStatus {
	st := platformv1alpha1.PublicServiceStatus{
		Conditions:         slices.Clone(prev.Conditions),
		ObservedGeneration: gen,
		Exposure:           spec.Exposure.Mode,
		Endpoint:           cmp.Or(o.endpoint, prev.Endpoint),
	}
	consumers, zones, destinations, unadmitted := flowStatus(o.flows)
	st.AdmittedConsumers, st.AdmittedConsumerCount = capped(consumers, maxServiceStatusList), int32(len(consumers))
	st.UnadmittedConsumers, st.UnadmittedConsumerCount = capped(unadmitted, maxServiceStatusList), int32(len(unadmitted))
	st.AdmittedZones, st.Destinations = capped(zones, maxServiceStatusList), capped(destinations, maxServiceStatusList)
	if o.availability {
		st.Replicas, st.ReadyReplicas = o.deployment.Status.Replicas, o.deployment.Status.ReadyReplicas
	}
	setDependenciesSatisfied(&st, gen, o)
	setNetworkIsolated(&st, gen, o)
	setAvailable(&st, gen, *spec.Replicas.Min, o)
	setReady(&st, gen)
	return st
}

// setCondition sets one condition, keeping its lastTransitionTime when the status is unchanged.
func setCondition(st *platformv1alpha1.PublicServiceStatus, gen int64, typ string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: truncate(message, maxMessage), ObservedGeneration: gen,
	})
}

// setUnevaluated marks a part of Ready that this reconcile did not reach.
func setUnevaluated(st *platformv1alpha1.PublicServiceStatus, gen int64, typ string, o *observations) {
	setCondition(st, gen, typ, metav1.ConditionUnknown, platformv1alpha1.ReasonWaiting,
		"not evaluated: "+cmp.Or(o.stopped, "an earlier step did not finish"))
}

// setDependenciesSatisfied: whether every consumed service and referenced zone exists and consents.
func setDependenciesSatisfied(st *platformv1alpha1.PublicServiceStatus, gen int64, o *observations) {
	if !o.resolved {
		setUnevaluated(st, gen, platformv1alpha1.ConditionDependenciesSatisfied, o)
		return
	}
	status, reason, message := dependencies(o.flows)
	setCondition(st, gen, platformv1alpha1.ConditionDependenciesSatisfied, status, reason, message)
}

// setNetworkIsolated: whether the NetworkPolicy is applied.
func setNetworkIsolated(st *platformv1alpha1.PublicServiceStatus, gen int64, o *observations) {
	if o.policy == nil {
		setUnevaluated(st, gen, platformv1alpha1.ConditionNetworkIsolated, o)
		return
	}
	if o.policy.err != nil {
		reason, message := applyFailure(o.policy)
		setCondition(st, gen, platformv1alpha1.ConditionNetworkIsolated, metav1.ConditionFalse, reason, message)
		return
	}
	setCondition(st, gen, platformv1alpha1.ConditionNetworkIsolated, metav1.ConditionTrue, platformv1alpha1.ReasonPolicyApplied,
		policySummary(o.flows))
}

// setAvailable: whether at least replicas.min pods are ready, or why not.
func setAvailable(st *platformv1alpha1.PublicServiceStatus, gen int64, minReady int32, o *observations) {
	set := func(status metav1.ConditionStatus, reason, message string) {
		setCondition(st, gen, platformv1alpha1.ConditionAvailable, status, reason, message)
	}
	switch {
	case o.child != nil:
		reason, message := applyFailure(o.child)
		set(metav1.ConditionFalse, reason, message)
	case !o.availability:
		setUnevaluated(st, gen, platformv1alpha1.ConditionAvailable, o)
	case o.deployment.Status.ReadyReplicas >= minReady:
		set(metav1.ConditionTrue, platformv1alpha1.ReasonDeploymentAvailable, fmt.Sprintf("%d of %d pods ready (replicas.min %d)",
			o.deployment.Status.ReadyReplicas, o.deployment.Status.Replicas, minReady))
	case o.podFailure != "":
		set(metav1.ConditionFalse, platformv1alpha1.ReasonPodsFailing, o.podFailure)
	default:
		set(metav1.ConditionFalse, platformv1alpha1.ReasonDeploymentProgressing, fmt.Sprintf("%d of %d pods ready, replicas.min is %d",
			o.deployment.Status.ReadyReplicas, o.deployment.Status.Replicas, minReady))
	}
}

// setReady sets Ready to the conjunction of Available, NetworkIsolated and DependenciesSatisfied.
func setReady(st *platformv1alpha1.PublicServiceStatus, gen int64) {
	var notReady []string
	for _, typ := range readyParts {
		c := meta.FindStatusCondition(st.Conditions, typ)
		switch {
		case c == nil:
			notReady = append(notReady, typ+"=Unknown")
		case c.Status != metav1.ConditionTrue:
			notReady = append(notReady, fmt.Sprintf("%s=%s (%s: %s)", typ, c.Status, c.Reason, c.Message))
		}
	}
	if len(notReady) == 0 {
		setCondition(st, gen, platformv1alpha1.ConditionReady, metav1.ConditionTrue, platformv1alpha1.ReasonReady,
			"available, network policy applied, dependencies satisfied")
		return
	}
	setCondition(st, gen, platformv1alpha1.ConditionReady, metav1.ConditionFalse, platformv1alpha1.ReasonNotReady, strings.Join(notReady, "; "))
}

// applyFailure gives the reason and message of a child that could not be applied. The
// message names the child's kind and, for an invalid object, the fields to change; it never
// carries other API errors, which go to a Warning event.
func applyFailure(a *childApply) (reason, message string) {
	if conflict, ok := errors.AsType[*conflictError](a.err); ok {
		return platformv1alpha1.ReasonNameConflict, conflict.Error()
	}
	message = "failed to apply the " + a.kind + "; the error is in a Warning event"
	if fields := invalidFields(a.err); fields != "" {
		message = "the API server rejected the " + a.kind + " as invalid: " + fields
	}
	return platformv1alpha1.ReasonApplyFailed, message
}

// invalidFields lists the field messages of an Invalid API error ("field: message; ..."), or "".
func invalidFields(err error) string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || !apierrors.IsInvalid(err) || status.Status().Details == nil {
		return ""
	}
	var msgs []string
	for _, c := range status.Status().Details.Causes {
		switch {
		case c.Field != "":
			msgs = append(msgs, c.Field+": "+c.Message)
		case c.Message != "":
			msgs = append(msgs, c.Message)
		}
	}
	return strings.Join(msgs, "; ")
}

// dependencies computes DependenciesSatisfied from the resolved flows. The provider-side view
// (unadmitted consumers) never affects it: nobody can make a provider un-Ready by consuming it.
func dependencies(flows intent.Resolved) (metav1.ConditionStatus, string, string) {
	if len(flows.Problems) == 0 {
		return metav1.ConditionTrue, platformv1alpha1.ReasonDependenciesSatisfied,
			"every consumed service and referenced zone exists and consents"
	}
	reason := flows.Problems[0].Reason
	for _, r := range reasonPriority {
		if slices.ContainsFunc(flows.Problems, func(p intent.Problem) bool { return p.Reason == r }) {
			reason = r
			break
		}
	}
	msgs := make([]string, 0, namesInMessage+1)
	for _, p := range capped(flows.Problems, namesInMessage) {
		msgs = append(msgs, p.Message)
	}
	if more := len(flows.Problems) - namesInMessage; more > 0 {
		msgs = append(msgs, fmt.Sprintf("and %d more (%d problems)", more, len(flows.Problems)))
	}
	return metav1.ConditionFalse, reason, strings.Join(msgs, "; ") + "; the rules for these are left out of the NetworkPolicy"
}

// capped returns the first n elements of a list (all of it when shorter).
func capped[T any](list []T, n int) []T {
	if len(list) > n {
		return list[:n:n]
	}
	return list
}

// someNames names at most namesInMessage of a sorted list: "a, b, c and 7 more".
func someNames(names []string) string {
	out := strings.Join(capped(names, namesInMessage), ", ")
	if more := len(names) - namesInMessage; more > 0 {
		out += fmt.Sprintf(" and %d more", more)
	}
	return out
}

// unadmittedEvent is the one Warning event a reconcile sends about consumers that
// spec.allowFrom does not admit: it names at most a few of those that the previous status did
// not list, and the count. unadmitted is sorted. When the previous list was truncated, a
// consumer sorted after its last name may be an old one, so only a grown count tells of it.
// ok is false when nothing is new.
func unadmittedEvent(prev *platformv1alpha1.PublicServiceStatus, unadmitted []string) (message string, ok bool) {
	shown := prev.UnadmittedConsumers
	prevCount := max(int(prev.UnadmittedConsumerCount), len(shown))
	// hidden: the previous status may have counted u without listing it.
	hidden := func(u string) bool {
		return prevCount > len(shown) && (len(shown) == 0 || u > shown[len(shown)-1])
	}
	var fresh []string
	for _, u := range unadmitted {
		if !slices.Contains(shown, u) && !hidden(u) {
			fresh = append(fresh, u)
		}
	}
	switch {
	case len(fresh) > 0:
		verb := "consumes this service but spec.allowFrom does not admit it; its calls are denied"
		if len(fresh) > 1 {
			verb = "consume this service but spec.allowFrom does not admit them; their calls are denied"
		}
		return fmt.Sprintf("%s %s (%d unadmitted consumer(s) in all)", someNames(fresh), verb, len(unadmitted)), true
	case len(unadmitted) > prevCount:
		return fmt.Sprintf("%d more service(s) consume this service but spec.allowFrom does not admit them; "+
			"their calls are denied (%d unadmitted consumer(s) in all)", len(unadmitted)-prevCount, len(unadmitted)), true
	}
	return "", false
}

// reasonPriority orders problem reasons when several apply: the first present names the condition.
var reasonPriority = []string{
	platformv1alpha1.ReasonDependencyNotFound,
	platformv1alpha1.ReasonConsentMissing,
	platformv1alpha1.ReasonZoneNotFound,
	platformv1alpha1.ReasonZoneNotAllowed,
}

// flowStatus lists the resolved flows in status form.
func flowStatus(f intent.Resolved) (consumers, zones, destinations, unadmitted []string) {
	for _, p := range f.IngressServices {
		consumers = append(consumers, p.Key())
	}
	for _, z := range f.IngressZones {
		zones = append(zones, z.Name)
	}
	for _, p := range f.EgressServices {
		destinations = append(destinations, fmt.Sprintf("%s:%d", p.Key(), p.Port))
	}
	for _, z := range f.EgressZones {
		ports := make([]string, 0, len(z.Ports))
		for _, p := range z.Ports {
			ports = append(ports, fmt.Sprint(p))
		}
		destinations = append(destinations, fmt.Sprintf("zone/%s:%s", z.Name, strings.Join(ports, ",")))
	}
	for _, u := range f.Unadmitted {
		unadmitted = append(unadmitted, u.String())
	}
	slices.Sort(consumers)
	slices.Sort(zones)
	slices.Sort(destinations)
	slices.Sort(unadmitted)
	return consumers, zones, destinations, unadmitted
}

// policySummary says in one line what the NetworkPolicy admits.
func policySummary(f intent.Resolved) string {
	ingress := len(f.IngressServices) + len(f.IngressZones)
	if f.IngressGateway {
		ingress++
	}
	egress := len(f.EgressServices) + len(f.EgressZones)
	return fmt.Sprintf("NetworkPolicy applied: ingress from %d source(s), egress to %d destination(s) plus cluster DNS, "+
		"everything else denied; enforcement depends on the cluster's network plugin", ingress, egress)
}

// truncate shortens s to at most n bytes, ending in "...", without cutting a rune in two.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
