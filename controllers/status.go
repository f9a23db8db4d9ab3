package controllers

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
)

// readyParts are the conditions whose conjunction is Ready, in the order messages name them.
var readyParts = []string{
	platformv1alpha1.ConditionAvailable,
	platformv1alpha1.ConditionNetworkIsolated,
	platformv1alpha1.ConditionDependenciesSatisfied,
}

// setCondition sets one condition, keeping its lastTransitionTime when the status is unchanged.
func setCondition(st *platformv1alpha1.PublicServiceStatus, gen int64, typ string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: truncate(message, 32768), ObservedGeneration: gen,
	})
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
		if hasReason(flows.Problems, r) {
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

func hasReason(ps []intent.Problem, reason string) bool {
	for _, p := range ps {
		if p.Reason == reason {
			return true
		}
	}
	return false
}

// markUnevaluated marks the parts of Ready that this reconcile did not reach (touched holds
// those it set), saying why.
func markUnevaluated(st *platformv1alpha1.PublicServiceStatus, gen int64, touched map[string]bool, why string) {
	if why == "" {
		why = "an earlier step did not finish"
	}
	for _, typ := range readyParts {
		if !touched[typ] {
			setCondition(st, gen, typ, metav1.ConditionUnknown, platformv1alpha1.ReasonWaiting, "not evaluated: "+why)
		}
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
	sort.Strings(consumers)
	sort.Strings(zones)
	sort.Strings(destinations)
	sort.Strings(unadmitted)
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

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
