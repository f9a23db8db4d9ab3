package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/render"
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

// key returns the key of a namespaced object.
func key(ns, name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }

// create creates an object with the test client.
func create(obj client.Object) {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, obj)).To(Succeed())
}

// waitFor reads an object into obj once it exists.
func waitFor(ns, name string, obj client.Object) {
	GinkgoHelper()
	Eventually(func() error { return k8sClient.Get(ctx, key(ns, name), obj) }, timeout, interval).
		Should(Succeed(), "%T %s/%s never appeared", obj, ns, name)
}

// expectAbsent asserts that an object does not exist now.
func expectAbsent(ns, name string, obj client.Object) {
	GinkgoHelper()
	err := k8sClient.Get(ctx, key(ns, name), obj)
	Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%T %s/%s: expected NotFound, got %v", obj, ns, name, err)
}

// eventuallyAbsent waits until an object does not exist.
func eventuallyAbsent(ns, name string, obj client.Object) {
	GinkgoHelper()
	Eventually(func() bool { return apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, name), obj)) }, timeout, interval).
		Should(BeTrue(), "%T %s/%s still exists", obj, ns, name)
}

// updateService changes a PublicService with get-modify-update, retrying on conflicts.
func updateService(ns, name string, mutate func(*platformv1alpha1.PublicService)) {
	GinkgoHelper()
	Eventually(func() error {
		svc := &platformv1alpha1.PublicService{}
		if err := k8sClient.Get(ctx, key(ns, name), svc); err != nil {
			return err
		}
		mutate(svc)
		return k8sClient.Update(ctx, svc)
	}, timeout, interval).Should(Succeed())
}

// updateObject changes any object with get-modify-update under field manager fieldManager
// (someone other than the operator), retrying on conflicts.
func updateObject[T client.Object](ns, name string, obj T, fieldManager string, mutate func(T)) {
	GinkgoHelper()
	Eventually(func() error {
		if err := k8sClient.Get(ctx, key(ns, name), obj); err != nil {
			return err
		}
		mutate(obj)
		return k8sClient.Update(ctx, obj, client.FieldOwner(fieldManager))
	}, timeout, interval).Should(Succeed())
}

// waitCondition waits until a condition of the current generation has this status and reason.
func waitCondition(ns, name, typ string, status metav1.ConditionStatus, reason string) {
	GinkgoHelper()
	Eventually(condition(ns, name, typ), timeout, interval).Should(haveCondition(status, reason), "condition %s of %s/%s", typ, ns, name)
}

// settle marks the Deployment ready with n pods and waits until the service is Ready.
func settle(ns, name string, n int32) {
	GinkgoHelper()
	waitFor(ns, name, &appsv1.Deployment{})
	markDeploymentReady(ns, name, n)
	waitCondition(ns, name, platformv1alpha1.ConditionReady, metav1.ConditionTrue, platformv1alpha1.ReasonReady)
}

// serviceStatus returns a PublicService's status once it describes the current generation.
func serviceStatus(ns, name string) func() platformv1alpha1.PublicServiceStatus {
	return func() platformv1alpha1.PublicServiceStatus {
		svc := &platformv1alpha1.PublicService{}
		if err := k8sClient.Get(ctx, key(ns, name), svc); err != nil || svc.Status.ObservedGeneration != svc.Generation {
			return platformv1alpha1.PublicServiceStatus{}
		}
		return svc.Status
	}
}

// zoneStatus returns a NetworkZone's status.
func zoneStatus(name string) func() platformv1alpha1.NetworkZoneStatus {
	return func() platformv1alpha1.NetworkZoneStatus {
		z := &platformv1alpha1.NetworkZone{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: name}, z); err != nil {
			return platformv1alpha1.NetworkZoneStatus{}
		}
		return z.Status
	}
}

// live returns a function that reads the object ns/name afresh into a new T (nil, the zero T,
// while it does not exist).
func live[T client.Object](ns, name string, newObj func() T) func() T {
	return func() T {
		obj := newObj()
		if err := k8sClient.Get(ctx, key(ns, name), obj); err != nil {
			var none T
			return none
		}
		return obj
	}
}

// networkPolicySpec returns the spec of a service's NetworkPolicy (empty when absent).
func networkPolicySpec(ns, name string) func() networkingv1.NetworkPolicySpec {
	return func() networkingv1.NetworkPolicySpec {
		np := &networkingv1.NetworkPolicy{}
		if err := k8sClient.Get(ctx, key(ns, name), np); err != nil {
			return networkingv1.NetworkPolicySpec{}
		}
		return np.Spec
	}
}

// selectorOf returns the pod labels that select a PublicService's pods.
func selectorOf(name string) map[string]string {
	return map[string]string{"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "smartcity-operator"}
}

// servicePeer is the NetworkPolicy peer for a PublicService's pods in a namespace.
func servicePeer(ns, name string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}},
		PodSelector:       &metav1.LabelSelector{MatchLabels: selectorOf(name)},
	}
}

// tcpPort is a NetworkPolicy port.
func tcpPort(p int32) networkingv1.NetworkPolicyPort {
	proto, port := corev1.ProtocolTCP, intstr.FromInt32(p)
	return networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &port}
}

// dnsEgress is the egress rule every policy has: the cluster DNS on port 53.
func dnsEgress() networkingv1.NetworkPolicyEgressRule {
	udp, tcp, port := corev1.ProtocolUDP, corev1.ProtocolTCP, intstr.FromInt32(53)
	return networkingv1.NetworkPolicyEgressRule{
		To: []networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
			PodSelector:       &metav1.LabelSelector{MatchLabels: render.DefaultDNSPodLabels()},
		}},
		Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &port}, {Protocol: &tcp, Port: &port}},
	}
}

// expectControlledBy asserts that obj's only owner reference makes svc its controller and
// blocks svc's deletion until obj is gone (what the garbage collector needs).
func expectControlledBy(obj client.Object, svc *platformv1alpha1.PublicService) {
	GinkgoHelper()
	refs := obj.GetOwnerReferences()
	Expect(refs).To(HaveLen(1), "%T %s owner references", obj, obj.GetName())
	ref := refs[0]
	Expect(ref.APIVersion).To(Equal(platformv1alpha1.GroupVersion.String()))
	Expect(ref.Kind).To(Equal("PublicService"))
	Expect(ref.Name).To(Equal(svc.Name))
	Expect(ref.UID).To(Equal(svc.UID), "%T %s owner UID", obj, obj.GetName())
	Expect(ref.Controller).To(HaveValue(BeTrue()), "%T %s owner controller", obj, obj.GetName())
	Expect(ref.BlockOwnerDeletion).To(HaveValue(BeTrue()), "%T %s owner blockOwnerDeletion", obj, obj.GetName())
}

// expectLabels asserts the standard labels of a child of a service with this profile.
func expectLabels(labels map[string]string, name string, profile platformv1alpha1.Profile, component string) {
	GinkgoHelper()
	Expect(labels).To(HaveKeyWithValue("app.kubernetes.io/name", name))
	Expect(labels).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "smartcity-operator"))
	Expect(labels).To(HaveKeyWithValue("app.kubernetes.io/part-of", "smartcity"))
	Expect(labels).To(HaveKeyWithValue("app.kubernetes.io/component", component))
	Expect(labels).To(HaveKeyWithValue("platform.smartcity.io/profile", string(profile)))
}

// warningEvents returns the events.k8s.io/v1 Warning events about an object with this reason.
func warningEvents(ns, name, reason string) func() []eventsv1.Event {
	return func() []eventsv1.Event {
		list := &eventsv1.EventList{}
		if err := k8sClient.List(ctx, list, client.InNamespace(ns)); err != nil {
			return nil
		}
		var out []eventsv1.Event
		for _, e := range list.Items {
			if e.Regarding.Name == name && e.Type == corev1.EventTypeWarning && e.Reason == reason {
				out = append(out, e)
			}
		}
		return out
	}
}

// replicaRecorder records every spec.replicas a Deployment has while it runs, from a watch,
// so a transient value between two reconciles cannot slip by.
type replicaRecorder struct {
	mu     sync.Mutex
	seen   []int32
	cancel context.CancelFunc
	done   chan struct{}
}

// recordReplicas starts recording a Deployment's spec.replicas (it must already exist).
func recordReplicas(ns, name string) *replicaRecorder {
	GinkgoHelper()
	wctx, cancelWatch := context.WithCancel(ctx)
	w, err := k8sClient.Watch(wctx, &appsv1.DeploymentList{}, client.InNamespace(ns),
		client.MatchingFields{"metadata.name": name})
	Expect(err).NotTo(HaveOccurred())
	r := &replicaRecorder{cancel: cancelWatch, done: make(chan struct{})}
	go func() {
		defer GinkgoRecover()
		defer close(r.done)
		defer w.Stop()
		for {
			select {
			case <-wctx.Done():
				return
			case ev, ok := <-w.ResultChan():
				if !ok {
					return
				}
				if d, isDeploy := ev.Object.(*appsv1.Deployment); isDeploy && d.Spec.Replicas != nil {
					r.mu.Lock()
					r.seen = append(r.seen, *d.Spec.Replicas)
					r.mu.Unlock()
				}
			}
		}
	}()
	Eventually(r.values, timeout, interval).ShouldNot(BeEmpty(), "the watch sent no initial event")
	return r
}

// values returns the replica counts seen so far, in order.
func (r *replicaRecorder) values() []int32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

// stop ends the recording and returns every replica count seen.
func (r *replicaRecorder) stop() []int32 {
	r.cancel()
	<-r.done
	return r.values()
}

// ownersOf returns the field managers (with their operation) that own a field path of obj,
// for example ownersOf(d, "spec", "replicas").
func ownersOf(obj client.Object, path ...string) []string {
	var out []string
	for _, mf := range obj.GetManagedFields() {
		if mf.FieldsV1 == nil {
			continue
		}
		var node map[string]any
		if err := json.Unmarshal(mf.FieldsV1.GetRawBytes(), &node); err != nil {
			continue
		}
		found := true
		for _, p := range path {
			next, ok := node["f:"+p].(map[string]any)
			if !ok {
				found = false
				break
			}
			node = next
		}
		if found {
			out = append(out, mf.Manager+"/"+string(mf.Operation))
		}
	}
	return out
}
