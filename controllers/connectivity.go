package controllers

import (
	"context"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/audit"
)

// +kubebuilder:rbac:groups=apps,resources=replicasets;statefulsets;daemonsets,verbs=get;list;watch

// verifyConnectivity computes the service's effective connectivity from every NetworkPolicy
// present (including foreign ones) and compares it with the intent: ConnectivityVerified.
// It reads the namespaces the service's flows involve; other pods are represented by the
// audit's {any-pod} stand-in.
func (r *PublicServiceReconciler) verifyConnectivity(ctx context.Context, s *scope) error {
	if r.SkipConnectivityVerification {
		return nil
	}
	key := s.svc.Namespace + "/" + s.svc.Name
	model, err := audit.ReadCluster(ctx, r.Client)
	if err != nil {
		return fmt.Errorf("failed to read the cluster for the connectivity audit: %w", err)
	}
	report, err := audit.Analyze(model.Within(r.flowNamespaces(s)...), audit.Options{Render: r.Options})
	if err != nil {
		r.violations.forget(key)
		setConnectivity(&s.status, s.svc.Generation, metav1.ConditionUnknown, platformv1alpha1.ReasonAuditFailed, err.Error())
		return nil
	}
	r.violations.record(key, report.Violations, key)
	summary, ok := report.Service(s.svc.Namespace, s.svc.Name)
	switch {
	case !ok:
		setConnectivity(&s.status, s.svc.Generation, metav1.ConditionUnknown, platformv1alpha1.ReasonAuditFailed,
			"the service has no workload to audit yet")
	case summary.Verified:
		setConnectivity(&s.status, s.svc.Generation, metav1.ConditionTrue, platformv1alpha1.ReasonConnectivityVerified, summary.Message())
	default:
		setConnectivity(&s.status, s.svc.Generation, metav1.ConditionFalse, platformv1alpha1.ReasonConnectivityMismatch, summary.Message())
	}
	return nil
}

// flowNamespaces lists the namespaces whose objects decide the service's flows: its own, its
// peers', the cluster DNS and the ingress controller's.
func (r *PublicServiceReconciler) flowNamespaces(s *scope) []string {
	opts := r.Options.WithDefaults()
	ns := []string{s.svc.Namespace, opts.DNSNamespace, opts.IngressControllerNamespace}
	for _, p := range append(slices.Clone(s.flows.IngressServices), s.flows.EgressServices...) {
		ns = append(ns, p.Namespace)
	}
	for _, u := range s.flows.Unadmitted {
		ns = append(ns, u.Namespace)
	}
	for _, c := range s.spec.Consumes {
		ns = append(ns, c.Namespace)
	}
	for _, a := range s.spec.AllowFrom {
		if a.Namespace != "" {
			ns = append(ns, a.Namespace)
		}
	}
	slices.Sort(ns)
	return slices.Compact(ns)
}

// setConnectivity sets ConnectivityVerified, which is not part of Ready.
func setConnectivity(st *platformv1alpha1.PublicServiceStatus, gen int64, status metav1.ConditionStatus, reason, message string) {
	setCondition(st, gen, platformv1alpha1.ConditionConnectivityVerified, status, reason, message)
}
