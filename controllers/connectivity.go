package controllers

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

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
		r.Recorder.Eventf(s.svc, nil, corev1.EventTypeWarning, "AuditFailed", "Audit", "the connectivity audit failed: %v", err)
		s.connectivity = &connectivityResult{failed: true}
		return nil
	}
	r.violations.record(key, report.Violations, key)
	summary, ok := report.Service(s.svc.Namespace, s.svc.Name)
	s.connectivity = &connectivityResult{audited: ok}
	if ok {
		s.connectivity.verified, s.connectivity.message = summary.Verified, summary.Message()
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
