package controllers

import (
	"cmp"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
	"github.com/smartcity-io/smartcity-operator/internal/render"
)

// This file decides what the connectivity controller (connectivity_controller.go) reports:
// which namespaces a service's verification reads, and its ConnectivityVerified condition.

// connectivityResult is the outcome of the connectivity audit of one service.
type connectivityResult struct {
	// failed: the audit could not run (the error went to a Warning event).
	failed bool
	// audited: the audit found the service's workload.
	audited bool
	// verified: the effective flows equal the intent.
	verified bool
	// message describes the flows (Summary.Message).
	message string
	// extra: some flows are effective beyond the intent.
	extra bool
	// missingPeers are the peers of the intended flows that are not effective; extraPeers
	// those of the effective flows beyond the intent.
	missingPeers, extraPeers []string
}

// connectivityCondition derives ConnectivityVerified for generation gen from the audit's
// outcome, keeping prev's lastTransitionTime while the status is unchanged. It returns nil
// when there is nothing to report yet: the service has no workload and had no verdict before
// (its Deployment's creation starts the next verification). prev is not modified.
func connectivityCondition(prev *metav1.Condition, gen int64, c connectivityResult) *metav1.Condition {
	status, reason, message := metav1.ConditionUnknown, platformv1alpha1.ReasonAuditFailed, ""
	switch {
	case c.failed:
		message = "the connectivity audit failed; the error is in a Warning event"
	case !c.audited && prev == nil:
		return nil
	case !c.audited:
		message = "the service has no workload to audit yet"
	case c.verified:
		status, reason, message = metav1.ConditionTrue, platformv1alpha1.ReasonEffectiveMatchesIntent, c.message
	default:
		status, reason, message = metav1.ConditionFalse, platformv1alpha1.ReasonConnectivityMismatch, c.message
	}
	var conds []metav1.Condition
	if prev != nil {
		conds = []metav1.Condition{*prev}
	}
	meta.SetStatusCondition(&conds, metav1.Condition{
		Type: platformv1alpha1.ConditionConnectivityVerified, Status: status, Reason: reason,
		Message: truncate(message, maxMessage), ObservedGeneration: gen,
	})
	return &conds[0]
}

// flowNamespaces lists the namespaces whose objects decide a service's flows: its own, its
// peers', the cluster DNS and the ingress controller's. The verification reads these only;
// pods elsewhere are represented by the audit's {any-pod} stand-in.
func flowNamespaces(opts render.Options, svc *platformv1alpha1.PublicService, spec *platformv1alpha1.PublicServiceSpec,
	flows intent.Resolved) []string {
	opts = opts.WithDefaults()
	ns := make([]string, 0, 3+len(flows.IngressServices)+len(flows.EgressServices)+len(flows.Unadmitted)+len(spec.Consumes)+len(spec.AllowFrom))
	ns = append(ns, svc.Namespace, opts.DNSNamespace, opts.IngressControllerNamespace)
	for _, p := range append(slices.Clone(flows.IngressServices), flows.EgressServices...) {
		ns = append(ns, p.Namespace)
	}
	for _, u := range flows.Unadmitted {
		ns = append(ns, u.Namespace)
	}
	ns = append(ns, specNamespaces(svc.Namespace, spec)...)
	slices.Sort(ns)
	return slices.Compact(ns)
}

// specNamespaces lists the namespaces a service's spec names in consumes and allowFrom (an
// entry without a namespace names the service's own).
func specNamespaces(own string, spec *platformv1alpha1.PublicServiceSpec) []string {
	var ns []string
	for _, c := range spec.Consumes {
		ns = append(ns, cmp.Or(c.Namespace, own))
	}
	for _, a := range spec.AllowFrom {
		if a.Namespace != "" {
			ns = append(ns, a.Namespace)
		}
	}
	slices.Sort(ns)
	return slices.Compact(ns)
}
