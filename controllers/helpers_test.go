package controllers

import (
	"fmt"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
)

var nsCounter atomic.Int32

// newNamespace creates a namespace with a unique name and the given labels.
func newNamespace(labels map[string]string) string {
	name := fmt.Sprintf("test-%d", nsCounter.Add(1))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return name
}

// getService returns the current PublicService.
func getService(ns, name string) *platformv1alpha1.PublicService {
	svc := &platformv1alpha1.PublicService{}
	ExpectWithOffset(1, k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, svc)).To(Succeed())
	return svc
}

// condition returns a condition of a PublicService, or nil.
func condition(ns, name, typ string) func() *metav1.Condition {
	return func() *metav1.Condition {
		svc := &platformv1alpha1.PublicService{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, svc); err != nil {
			return nil
		}
		if svc.Status.ObservedGeneration != svc.Generation {
			return nil
		}
		return meta.FindStatusCondition(svc.Status.Conditions, typ)
	}
}

// haveCondition matches a condition's status and reason.
func haveCondition(status metav1.ConditionStatus, reason string) OmegaMatcher {
	return And(Not(BeNil()), HaveField("Status", status), HaveField("Reason", reason))
}

// markDeploymentReady writes the Deployment status that kube-controller-manager would write
// once n pods are ready (envtest runs no controllers).
func markDeploymentReady(ns, name string, n int32) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		d := &appsv1.Deployment{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, d)).To(Succeed())
		d.Status.Replicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas, d.Status.UpdatedReplicas = n, n, n, n
		d.Status.ObservedGeneration = d.Generation
		g.Expect(k8sClient.Status().Update(ctx, d)).To(Succeed())
	}, timeout, interval).Should(Succeed())
}
