//go:build e2e

package e2e

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/render"
)

// newNamespace creates a namespace of its own for a spec, with these labels, and deletes it
// (without waiting) when the spec ends.
func newNamespace(ctx context.Context, labels map[string]string) string {
	GinkgoHelper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   "e2e-" + utilrand.String(6),
		Labels: labels,
	}}
	Expect(k8s.Create(ctx, ns)).To(Succeed())
	DeferCleanup(func(ctx SpecContext) {
		Expect(client.IgnoreNotFound(k8s.Delete(ctx, ns))).To(Succeed())
	})
	return ns.Name
}

// create creates an object. A PublicService without resources asks for 10m of cpu (the
// profiles' default is 100m): the specs need pods that fit on a small node, such as the single
// 2-CPU node of make test-e2e-kind; the operator's defaults stay as they are.
func create(ctx context.Context, obj client.Object) {
	GinkgoHelper()
	if svc, ok := obj.(*platformv1alpha1.PublicService); ok && svc.Spec.Resources == nil {
		svc.Spec.Resources = &platformv1alpha1.Resources{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m")},
		}
	}
	Expect(k8s.Create(ctx, obj)).To(Succeed())
}

func key(ns, name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }

// setReplicas sets spec.replicas.min and max with a merge patch, as `kubectl patch` would.
func setReplicas(ctx context.Context, ns, name string, minReplicas, maxReplicas int32) {
	GinkgoHelper()
	patch := fmt.Appendf(nil, `{"spec":{"replicas":{"min":%d,"max":%d}}}`, minReplicas, maxReplicas)
	svc := &platformv1alpha1.PublicService{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	Expect(k8s.Patch(ctx, svc, client.RawPatch(types.MergePatchType, patch))).To(Succeed())
}

// condition returns a PublicService's condition of type typ when its status describes the
// current generation; otherwise nil.
func condition(ctx context.Context, ns, name, typ string) func() *metav1.Condition {
	return func() *metav1.Condition {
		svc := &platformv1alpha1.PublicService{}
		if err := k8s.Get(ctx, key(ns, name), svc); err != nil {
			return nil
		}
		if svc.Status.ObservedGeneration != svc.Generation {
			return nil
		}
		c := meta.FindStatusCondition(svc.Status.Conditions, typ)
		if c == nil || c.ObservedGeneration != svc.Generation {
			return nil
		}
		return c
	}
}

// beReady matches a Ready=True condition.
func beReady() OmegaMatcher {
	return And(Not(BeNil()), HaveField("Status", metav1.ConditionTrue))
}

// haveCondition matches a condition's status and reason.
func haveCondition(status metav1.ConditionStatus, reason string) OmegaMatcher {
	return And(Not(BeNil()), HaveField("Status", status), HaveField("Reason", reason))
}

// activePods returns the service's pods that are not being deleted.
func activePods(ctx context.Context, ns, name string) []corev1.Pod {
	GinkgoHelper()
	pods := &corev1.PodList{}
	Expect(k8s.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels(render.SelectorLabels(name)))).To(Succeed())
	var out []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

// podCount returns the number of the service's pods that are not being deleted, and the number
// of those that run and are ready.
func podCount(ctx context.Context, ns, name string) func() (active, ready int) {
	return func() (int, int) {
		pods := activePods(ctx, ns, name)
		ready := 0
		for i := range pods {
			if pods[i].Status.Phase == corev1.PodRunning && podReady(&pods[i]) {
				ready++
			}
		}
		return len(pods), ready
	}
}

// readyPods returns the number of the service's running, ready pods, and fails (so that
// Eventually retries) while other pods of it still exist or are being created.
func readyPods(ctx context.Context, ns, name string) func(g Gomega) int {
	return func(g Gomega) int {
		active, ready := podCount(ctx, ns, name)()
		g.Expect(active).To(Equal(ready), "pods that exist but are not ready")
		return ready
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// hpaBounds returns the min and max replicas of the service's HPA.
func hpaBounds(ctx context.Context, ns, name string) func(g Gomega) []int32 {
	return func(g Gomega) []int32 {
		hpa := &autoscalingv2.HorizontalPodAutoscaler{}
		g.Expect(k8s.Get(ctx, key(ns, name), hpa)).To(Succeed())
		g.Expect(hpa.Spec.MinReplicas).NotTo(BeNil())
		return []int32{*hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas}
	}
}

// notFound succeeds when the object does not exist.
func notFound(ctx context.Context, obj client.Object) func() error {
	return func() error {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("%T %s still exists", obj, client.ObjectKeyFromObject(obj))
	}
}

// deploymentImage returns the image of the Deployment's container.
func deploymentImage(ctx context.Context, ns, name string) func(g Gomega) string {
	return func(g Gomega) string {
		d := &appsv1.Deployment{}
		g.Expect(k8s.Get(ctx, key(ns, name), d)).To(Succeed())
		g.Expect(d.Spec.Template.Spec.Containers).NotTo(BeEmpty())
		return d.Spec.Template.Spec.Containers[0].Image
	}
}

// readyServices returns how many PublicServices of the namespace are Ready for their current
// generation.
func readyServices(ctx context.Context, ns string) func(g Gomega) int {
	return func(g Gomega) int {
		list := &platformv1alpha1.PublicServiceList{}
		g.Expect(k8s.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		n := 0
		for i := range list.Items {
			s := &list.Items[i]
			c := meta.FindStatusCondition(s.Status.Conditions, platformv1alpha1.ConditionReady)
			if s.Status.ObservedGeneration == s.Generation && c != nil &&
				c.ObservedGeneration == s.Generation && c.Status == metav1.ConditionTrue {
				n++
			}
		}
		return n
	}
}
