package audit

// This file is the live path: the objects an audit looks at, read from a cluster or from a
// controller's cache. files.go is the offline one.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
	if err := readNamespaced(ctx, c, m); err != nil {
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
	for _, name := range namespaces {
		ns := &corev1.Namespace{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("failed to get Namespace %s: %w", name, err)
		}
		m.Namespaces = append(m.Namespaces, *ns)
		if err := readNamespaced(ctx, c, m, client.InNamespace(name), client.UnsafeDisableDeepCopy); err != nil {
			return nil, err
		}
	}
	if err := readList(ctx, c, &platformv1alpha1.NetworkZoneList{}, func(l *platformv1alpha1.NetworkZoneList) { m.NetworkZones = l.Items }); err != nil {
		return nil, err
	}
	m.sort()
	return m, nil
}

// readNamespaced appends the namespaced objects an audit looks at to m.
func readNamespaced(ctx context.Context, c client.Reader, m *Model, opts ...client.ListOption) error {
	return errors.Join(
		readList(ctx, c, &networkingv1.NetworkPolicyList{}, func(l *networkingv1.NetworkPolicyList) {
			m.NetworkPolicies = append(m.NetworkPolicies, l.Items...)
		}, opts...),
		readList(ctx, c, &appsv1.DeploymentList{}, func(l *appsv1.DeploymentList) { m.Deployments = append(m.Deployments, l.Items...) }, opts...),
		readList(ctx, c, &appsv1.StatefulSetList{}, func(l *appsv1.StatefulSetList) { m.StatefulSets = append(m.StatefulSets, l.Items...) }, opts...),
		readList(ctx, c, &appsv1.DaemonSetList{}, func(l *appsv1.DaemonSetList) { m.DaemonSets = append(m.DaemonSets, l.Items...) }, opts...),
		readList(ctx, c, &appsv1.ReplicaSetList{}, func(l *appsv1.ReplicaSetList) { m.ReplicaSets = append(m.ReplicaSets, l.Items...) }, opts...),
		readList(ctx, c, &corev1.PodList{}, func(l *corev1.PodList) { m.Pods = append(m.Pods, l.Items...) }, opts...),
		readList(ctx, c, &platformv1alpha1.PublicServiceList{}, func(l *platformv1alpha1.PublicServiceList) {
			m.PublicServices = append(m.PublicServices, l.Items...)
		}, opts...),
	)
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
