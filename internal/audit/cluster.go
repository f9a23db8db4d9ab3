package audit

// This file is the live path: the objects an audit looks at, read from a cluster or from a
// controller's cache. files.go is the offline one.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

// ReadCluster lists, across all namespaces, the objects an audit looks at: Namespaces,
// NetworkPolicies, Deployments, StatefulSets, DaemonSets, ReplicaSets, Pods, PublicServices
// and NetworkZones. The reader needs list permission on each of them.
func ReadCluster(ctx context.Context, c client.Reader) (*Model, error) {
	m := &Model{}
	if err := readList(ctx, c, &corev1.NamespaceList{}, func(l *corev1.NamespaceList) { m.Namespaces = l.Items }); err != nil {
		return nil, err
	}
	if err := readNamespaced(ctx, c, m, nil); err != nil {
		return nil, err
	}
	if err := readList(ctx, c, &platformv1alpha1.NetworkZoneList{}, func(l *platformv1alpha1.NetworkZoneList) { m.NetworkZones = l.Items }); err != nil {
		return nil, err
	}
	m.sort()
	return m, nil
}

// ReadNamespaces reads what ReadCluster reads, but only in the given namespaces (and every
// NetworkZone): the model of an audit scoped to them (pods elsewhere are represented by the
// {any-pod} stand-in). A namespace that does not exist is left out. From a controller-runtime
// cache, the model's
// namespaced objects are the cache's own, not copies (client.UnsafeDisableDeepCopy): an
// analysis reads them and never modifies them, and neither may the caller.
func ReadNamespaces(ctx context.Context, c client.Reader, namespaces ...string) (*Model, error) {
	m := &Model{}
	present := make([]string, 0, len(namespaces))
	for _, name := range namespaces {
		ns := &corev1.Namespace{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("failed to get Namespace %s: %w", name, err)
		}
		m.Namespaces = append(m.Namespaces, *ns)
		present = append(present, name)
	}
	if len(present) > 0 {
		if err := readNamespaced(ctx, c, m, present, client.UnsafeDisableDeepCopy); err != nil {
			return nil, err
		}
	}
	if err := readList(ctx, c, &platformv1alpha1.NetworkZoneList{}, func(l *platformv1alpha1.NetworkZoneList) { m.NetworkZones = l.Items }); err != nil {
		return nil, err
	}
	m.sort()
	return m, nil
}

// readNamespaced reads the namespaced objects an audit looks at into m: those of the given
// namespaces, or of every namespace when there are none.
func readNamespaced(ctx context.Context, c client.Reader, m *Model, namespaces []string, opts ...client.ListOption) error {
	var errs [7]error
	m.NetworkPolicies, errs[0] = readAll(ctx, c, namespaces, func(l *networkingv1.NetworkPolicyList) []networkingv1.NetworkPolicy { return l.Items }, opts...)
	m.Deployments, errs[1] = readAll(ctx, c, namespaces, func(l *appsv1.DeploymentList) []appsv1.Deployment { return l.Items }, opts...)
	m.StatefulSets, errs[2] = readAll(ctx, c, namespaces, func(l *appsv1.StatefulSetList) []appsv1.StatefulSet { return l.Items }, opts...)
	m.DaemonSets, errs[3] = readAll(ctx, c, namespaces, func(l *appsv1.DaemonSetList) []appsv1.DaemonSet { return l.Items }, opts...)
	m.ReplicaSets, errs[4] = readAll(ctx, c, namespaces, func(l *appsv1.ReplicaSetList) []appsv1.ReplicaSet { return l.Items }, opts...)
	m.Pods, errs[5] = readAll(ctx, c, namespaces, func(l *corev1.PodList) []corev1.Pod { return l.Items }, opts...)
	m.PublicServices, errs[6] = readAll(ctx, c, namespaces, func(l *platformv1alpha1.PublicServiceList) []platformv1alpha1.PublicService { return l.Items }, opts...)
	return errors.Join(errs[:]...)
}

// readAll lists one kind in each of the namespaces (in all of them at once when there are none)
// and joins the lists' items. Listing already copies every object into the list's items (from
// a cache, even without deep copies), so a single list is kept as it is, and several are
// joined with one more copy, not one per append.
func readAll[L any, PL interface {
	*L
	client.ObjectList
}, T any](ctx context.Context, c client.Reader, namespaces []string, items func(PL) []T, opts ...client.ListOption) ([]T, error) {
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	parts := make([][]T, 0, len(namespaces))
	for _, ns := range namespaces {
		if err := readList(ctx, c, PL(new(L)), func(l PL) {
			if got := items(l); len(got) > 0 {
				parts = append(parts, got)
			}
		}, append(slices.Clip(opts), client.InNamespace(ns))...); err != nil {
			return nil, err
		}
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return slices.Concat(parts...), nil
}

// readList lists one kind and hands the list to add.
func readList[L client.ObjectList](ctx context.Context, c client.Reader, list L, add func(L), opts ...client.ListOption) error {
	if err := c.List(ctx, list, opts...); err != nil {
		kind := strings.TrimSuffix(fmt.Sprintf("%T", list), "List")
		return fmt.Errorf("failed to list %s: %w", kind[strings.LastIndex(kind, ".")+1:]+"s", err)
	}
	add(list)
	return nil
}
