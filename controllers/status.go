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
	st.AdmittedConsumers, st.AdmittedZones, st.Destinations, st.UnadmittedConsumers = flowStatus(o.flows)
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
	msgs := make([]string, 0, len(flows.Problems))
	for _, p := range flows.Problems {
		msgs = append(msgs, p.Message)
	}
	return metav1.ConditionFalse, reason, strings.Join(msgs, "; ") + "; the rules for these are left out of the NetworkPolicy"
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
