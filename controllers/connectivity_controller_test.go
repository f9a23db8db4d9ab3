package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/leancache"
	"github.com/smartcity-io/smartcity-operator/internal/render"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// ownConditions are the conditions the PublicService controller applies.
var ownConditions = []string{platformv1alpha1.ConditionAvailable, platformv1alpha1.ConditionDependenciesSatisfied,
	platformv1alpha1.ConditionNetworkIsolated, platformv1alpha1.ConditionReady}

var _ = Describe("The connectivity controller", func() {
	It("and the PublicService controller write the status side by side: neither loses the other's condition", func() {
		ns := newNamespace(nil)
		create(testutil.PublicService("vneid", ns).AllowFromService("forms", "").Obj())
		create(testutil.PublicService("forms", ns).Consumes("vneid", "").Obj())
		settle(ns, "vneid", 1)
		waitCondition(ns, "vneid", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, platformv1alpha1.ReasonEffectiveMatchesIntent)

		allowAll := allowAllIngress(ns, "allow-everything")
		create(allowAll)
		waitCondition(ns, "vneid", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionFalse, platformv1alpha1.ReasonConnectivityMismatch)
		unverified := condition(ns, "vneid", platformv1alpha1.ConditionConnectivityVerified)()

		By("changing the PublicService controller's status three times while ConnectivityVerified is False")
		for i, ready := range []int32{2, 0} {
			markDeploymentReady(ns, "vneid", ready)
			Eventually(serviceStatus(ns, "vneid"), timeout, interval).Should(HaveField("ReadyReplicas", ready), "change %d", i+1)
			Expect(condition(ns, "vneid", platformv1alpha1.ConditionConnectivityVerified)()).To(Equal(unverified))
		}
		updateService(ns, "vneid", func(svc *platformv1alpha1.PublicService) { svc.Spec.Image = "registry.smartcity.example/app:2.0.0" })
		Eventually(func(g Gomega) {
			st := getService(ns, "vneid").Status
			g.Expect(st.ObservedGeneration).To(Equal(int64(2)))
			g.Expect(st.Conditions).To(HaveLen(5))
			g.Expect(st.Conditions).To(HaveEach(HaveField("ObservedGeneration", int64(2))), "each controller follows the generation in its conditions")
			cv := meta.FindStatusCondition(st.Conditions, platformv1alpha1.ConditionConnectivityVerified)
			g.Expect(cv).To(haveCondition(metav1.ConditionFalse, platformv1alpha1.ReasonConnectivityMismatch))
			g.Expect(cv.LastTransitionTime).To(Equal(unverified.LastTransitionTime))
		}, timeout, interval).Should(Succeed())

		By("changing ConnectivityVerified while the PublicService controller's conditions stay")
		before := ownStatus(getService(ns, "vneid").Status).Conditions
		Expect(k8sClient.Delete(ctx, allowAll)).To(Succeed())
		waitCondition(ns, "vneid", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, platformv1alpha1.ReasonEffectiveMatchesIntent)
		Expect(ownStatus(getService(ns, "vneid").Status).Conditions).To(Equal(before))

		By("each manager owning its own conditions, and nothing else owning any")
		Expect(statusConditionOwners(getService(ns, "vneid"))).To(Equal(map[string][]string{
			render.FieldManager + "/Apply":      ownConditions,
			ConnectivityFieldManager + "/Apply": {platformv1alpha1.ConditionConnectivityVerified},
		}))

		By("writing nothing when nothing changed")
		statusPath := "/namespaces/" + ns + "/publicservices/vneid/status"
		statusWrites := apiRequests.writes(statusPath)
		nudge(ns, "vneid")
		Consistently(func() int { return apiRequests.writes(statusPath) }, 2*time.Second, interval).Should(Equal(statusWrites))
	})

	It("upgrades a status written with merge patches by the earlier operator: the old manager owns nothing after, stale conditions go, nothing is lost", func() {
		ns := newNamespace(nil)
		create(testutil.PublicService("forms", ns).Obj())
		settle(ns, "forms", 1)
		waitCondition(ns, "forms", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, platformv1alpha1.ReasonEffectiveMatchesIntent)

		By("writing the status as the earlier operator did: Status().Patch with a merge patch and no field manager")
		svc := getService(ns, "forms")
		patch := client.MergeFrom(svc.DeepCopy())
		meta.SetStatusCondition(&svc.Status.Conditions, metav1.Condition{Type: "Legacy", Status: metav1.ConditionTrue,
			Reason: "EarlierVersion", Message: "a condition the operator no longer computes", ObservedGeneration: 1})
		Expect(k8sClient.Status().Patch(ctx, svc, patch)).To(Succeed())
		// The API server names such a manager after the client's user agent: the binary's name
		// ("manager" in the image, the test binary's here).
		var oldManager string
		for _, mf := range getService(ns, "forms").ManagedFields {
			if mf.Operation == metav1.ManagedFieldsOperationUpdate && mf.Subresource == "status" {
				oldManager = mf.Manager
			}
		}
		Expect(oldManager).NotTo(BeEmpty())

		By("giving that manager every field of the status, as if no apply had ever written it")
		svc = getService(ns, "forms")
		patch = client.MergeFrom(svc.DeepCopy())
		svc.ManagedFields = asOneUpdateManager(svc.ManagedFields, oldManager)
		Expect(k8sClient.Patch(ctx, svc, patch)).To(Succeed())
		old := getService(ns, "forms")
		Expect(statusConditionOwners(old)).To(Equal(map[string][]string{oldManager + "/Update": {
			platformv1alpha1.ConditionAvailable, platformv1alpha1.ConditionConnectivityVerified, platformv1alpha1.ConditionDependenciesSatisfied,
			"Legacy", platformv1alpha1.ConditionNetworkIsolated, platformv1alpha1.ConditionReady}}))

		By("reconciling with the new controllers")
		updateService(ns, "forms", func(svc *platformv1alpha1.PublicService) { svc.Spec.Image = "registry.smartcity.example/app:2.0.0" })
		Eventually(func(g Gomega) {
			svc := getService(ns, "forms")
			g.Expect(statusConditionOwners(svc)).NotTo(HaveKey(oldManager+"/Update"), "the old manager still owns a condition")
			g.Expect(statusEditors(svc).UnsortedList()).To(BeEmpty(), "a merge-patch manager still owns status fields")
			g.Expect(statusConditionOwners(svc)).To(HaveKeyWithValue(ConnectivityFieldManager+"/Apply", []string{platformv1alpha1.ConditionConnectivityVerified}))
			g.Expect(conditionTypes(svc.Status.Conditions)).To(ConsistOf(append(slices.Clone(ownConditions), platformv1alpha1.ConditionConnectivityVerified)),
				"Legacy is gone, every current condition is there")
			g.Expect(svc.Status.Conditions).To(HaveEach(HaveField("ObservedGeneration", int64(2))))
			g.Expect(svc.Status.Endpoint).To(Equal(old.Status.Endpoint))
			g.Expect(svc.Status.Exposure).To(Equal(old.Status.Exposure))
			g.Expect(svc.Status.ReadyReplicas).To(Equal(old.Status.ReadyReplicas))
		}, timeout, interval).Should(Succeed())
		waitCondition(ns, "forms", platformv1alpha1.ConditionReady, metav1.ConditionTrue, platformv1alpha1.ReasonReady)
		waitCondition(ns, "forms", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, platformv1alpha1.ReasonEffectiveMatchesIntent)

		By("the PublicService controller's next status change releasing ConnectivityVerified, which stays")
		markDeploymentReady(ns, "forms", 2)
		Eventually(func(g Gomega) {
			svc := getService(ns, "forms")
			g.Expect(svc.Status.ReadyReplicas).To(Equal(int32(2)))
			g.Expect(statusConditionOwners(svc)).To(Equal(map[string][]string{
				render.FieldManager + "/Apply":      ownConditions,
				ConnectivityFieldManager + "/Apply": {platformv1alpha1.ConditionConnectivityVerified},
			}))
		}, timeout, interval).Should(Succeed())
		waitCondition(ns, "forms", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, platformv1alpha1.ReasonEffectiveMatchesIntent)
	})

	It("sees foreign workloads (a foreign Deployment a foreign policy admits), not foreign bare pods, which the cache does not hold", func() {
		ns := newNamespace(nil)
		create(testutil.PublicService("vneid", ns).Obj())
		settle(ns, "vneid", 1)
		waitCondition(ns, "vneid", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, platformv1alpha1.ReasonEffectiveMatchesIntent)

		legacy := map[string]string{"app": "legacy"}
		admitLegacy := &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "legacy-to-vneid", Namespace: ns},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: selectorOf("vneid")},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{
					{PodSelector: &metav1.LabelSelector{MatchLabels: legacy}}}}},
			},
		}
		create(admitLegacy)
		By("a foreign Deployment whose pods the foreign policy admits")
		deployment := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: ns},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: legacy},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: legacy},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "legacy:1"}}},
				},
			},
		}
		create(deployment)
		Eventually(condition(ns, "vneid", platformv1alpha1.ConditionConnectivityVerified), timeout, interval).Should(And(
			haveCondition(metav1.ConditionFalse, platformv1alpha1.ReasonConnectivityMismatch),
			HaveField("Message", ContainSubstring(ns+"/legacy"))))
		Expect(k8sClient.Delete(ctx, deployment)).To(Succeed())
		waitCondition(ns, "vneid", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionTrue, platformv1alpha1.ReasonEffectiveMatchesIntent)

		By("a foreign bare pod with the same labels")
		create(&corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: ns, Labels: legacy},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "legacy:1"}}},
		})
		// A later change of the policy makes the controller verify again, after the pod exists:
		// the verdict names what the policy now adds, and not the pod.
		updateObject(ns, admitLegacy.Name, &networkingv1.NetworkPolicy{}, "someone", func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress = append(p.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{
				{IPBlock: &networkingv1.IPBlock{CIDR: "192.0.2.0/24"}}}})
		})
		Eventually(condition(ns, "vneid", platformv1alpha1.ConditionConnectivityVerified), timeout, interval).Should(And(
			haveCondition(metav1.ConditionFalse, platformv1alpha1.ReasonConnectivityMismatch),
			HaveField("Message", Not(ContainSubstring("legacy")))))
	})
})

var _ = Describe("With --verify-connectivity=false", func() {
	It("no connectivity controller runs and no foreign NetworkPolicy wakes a service; owned policies are still watched", func() {
		ns := newNamespace(nil)
		create(testutil.PublicService("forms", ns).Obj())
		create(testutil.PublicService("barrier", ns).Obj())
		settle(ns, "forms", 1)

		By("starting a second operator with verification off, on this namespace only")
		requests := &requestLog{}
		reconciles := &reconcileCounter{}
		stop := startOperator(ns, requests, reconciles, true)
		defer stop()
		forms := types.NamespacedName{Namespace: ns, Name: "forms"}
		barrier := types.NamespacedName{Namespace: ns, Name: "barrier"}
		Eventually(func() int { return reconciles.count(forms) }, timeout, interval).Should(BeNumerically(">", 0),
			"the second operator never reconciled forms")
		Eventually(func() int { return reconciles.count(barrier) }, timeout, interval).Should(BeNumerically(">", 0))

		By("a foreign allow-all policy: the suite's operator verifies, the second does nothing")
		before := reconciles.count(forms)
		create(allowAllIngress(ns, "allow-everything"))
		waitCondition(ns, "forms", platformv1alpha1.ConditionConnectivityVerified, metav1.ConditionFalse, platformv1alpha1.ReasonConnectivityMismatch)
		// A barrier: deleting barrier's own policy wakes barrier in the second operator, after
		// the foreign policy's event (one informer delivers both, in order).
		barrierBefore := reconciles.count(barrier)
		Expect(k8sClient.Delete(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "barrier", Namespace: ns}})).To(Succeed())
		Eventually(func() int { return reconciles.count(barrier) }, timeout, interval).Should(BeNumerically(">", barrierBefore),
			"an owned NetworkPolicy's deletion did not wake its owner")
		Consistently(func() int { return reconciles.count(forms) }, time.Second, interval).Should(Equal(before),
			"the foreign policy woke forms")

		Expect(requests.matching("replicasets", "statefulsets", "daemonsets")).To(BeEmpty(),
			"the second operator reads what only the connectivity controller reads")
		Expect(requests.matching("fieldManager=" + ConnectivityFieldManager)).To(BeEmpty())
	})
})

// startOperator starts a second manager on namespace ns with the PublicService controller,
// and the connectivity controller unless skipVerification, as main.go wires them; its
// requests go to log. It returns its stop function.
func startOperator(ns string, log *requestLog, reconciles *reconcileCounter, skipVerification bool) func() {
	GinkgoHelper()
	cfg := rest.CopyConfig(testEnv.Config)
	cfg.WrapTransport = log.wrap
	opts := leancache.Apply(cache.Options{DefaultNamespaces: map[string]cache.Config{ns: {}}}) // main.go's selectors and transforms
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:     scheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Cache:      opts,
		Controller: config.Controller{SkipNameValidation: new(true)}, // the suite's operator has the same names
	})
	Expect(err).NotTo(HaveOccurred())
	mgrCtx, cancel := context.WithCancel(ctx)
	Expect(SetupIndexes(mgrCtx, mgr)).To(Succeed())
	services := &PublicServiceReconciler{
		Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("smartcity-operator"),
		Options:                      render.Options{IngressClass: "city", ZoneServiceType: corev1.ServiceTypeNodePort},
		SkipConnectivityVerification: skipVerification,
	}
	// The applies of an unchanged service are skipped (applymemo.go): its reconciles are
	// counted as they start.
	Expect(services.controller(mgr).Complete(reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		reconciles.add(req.NamespacedName)
		return services.Reconcile(ctx, req)
	}))).To(Succeed())
	if !skipVerification {
		connectivity := &ConnectivityReconciler{Client: mgr.GetClient(), Recorder: services.Recorder, Options: services.Options, Pending: services}
		Expect(connectivity.SetupWithManager(mgr)).To(Succeed())
	}
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(mgrCtx)).To(Succeed())
	}()
	return func() { cancel(); <-done }
}

// reconcileCounter counts reconciles by key.
type reconcileCounter struct {
	mu   sync.Mutex
	seen map[types.NamespacedName]int
}

func (c *reconcileCounter) add(key types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[types.NamespacedName]int{}
	}
	c.seen[key]++
}

func (c *reconcileCounter) count(key types.NamespacedName) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[key]
}

// requestLog records every request of a client: "METHOD path?query".
type requestLog struct {
	mu   sync.Mutex
	seen []string
}

func (l *requestLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		l.mu.Lock()
		l.seen = append(l.seen, req.Method+" "+req.URL.Path+"?"+req.URL.RawQuery)
		l.mu.Unlock()
		return rt.RoundTrip(req)
	})
}

// matching returns the requests that contain any of the substrings.
func (l *requestLog) matching(substrs ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.seen {
		if slices.ContainsFunc(substrs, func(s string) bool { return strings.Contains(r, s) }) {
			out = append(out, r)
		}
	}
	return out
}

// allowAllIngress is a foreign policy that admits any ingress to every pod of ns.
func allowAllIngress(ns, name string) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{}},
		},
	}
}

// nudge changes an annotation of a PublicService, which makes the PublicService controller
// reconcile it without a change of its spec, and waits until it ran.
func nudge(ns, name string) {
	GinkgoHelper()
	ran := reconciles()
	updateService(ns, name, func(svc *platformv1alpha1.PublicService) {
		svc.Annotations = map[string]string{"test.smartcity.io/nudge": fmt.Sprint(time.Now().UnixNano())}
	})
	// The applies of an unchanged service are skipped: controller-runtime's count tells that it ran.
	Eventually(reconciles, timeout, interval).Should(BeNumerically(">", ran))
}

// conditionTypes lists the types of conditions, sorted.
func conditionTypes(conds []metav1.Condition) []string {
	out := make([]string, 0, len(conds))
	for _, c := range conds {
		out = append(out, c.Type)
	}
	slices.Sort(out)
	return out
}

// statusConditionOwners maps each "manager/operation" that owns a status condition to the
// types it owns, sorted.
func statusConditionOwners(obj client.Object) map[string][]string {
	out := map[string][]string{}
	for _, mf := range obj.GetManagedFields() {
		if mf.Subresource != "status" || mf.FieldsV1 == nil {
			continue
		}
		var fields struct {
			Status struct {
				Conditions map[string]any `json:"f:conditions"`
			} `json:"f:status"`
		}
		Expect(json.Unmarshal(mf.FieldsV1.GetRawBytes(), &fields)).To(Succeed())
		for k := range fields.Status.Conditions {
			var item struct{ Type string }
			if typ, ok := strings.CutPrefix(k, "k:"); ok && json.Unmarshal([]byte(typ), &item) == nil {
				owner := mf.Manager + "/" + string(mf.Operation)
				out[owner] = append(out[owner], item.Type)
			}
		}
	}
	for _, list := range out {
		slices.Sort(list)
	}
	return out
}

// asOneUpdateManager merges every status entry of managedFields into one Update entry of
// manager: what a status only ever written with merge patches by manager looks like.
func asOneUpdateManager(entries []metav1.ManagedFieldsEntry, manager string) []metav1.ManagedFieldsEntry {
	GinkgoHelper()
	var out []metav1.ManagedFieldsEntry
	merged := map[string]any{}
	var apiVersion string
	for _, mf := range entries {
		if mf.Subresource != "status" {
			out = append(out, mf)
			continue
		}
		var fields map[string]any
		Expect(json.Unmarshal(mf.FieldsV1.GetRawBytes(), &fields)).To(Succeed())
		mergeFields(merged, fields)
		apiVersion = mf.APIVersion
	}
	raw, err := json.Marshal(merged)
	Expect(err).NotTo(HaveOccurred())
	return append(out, metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate,
		APIVersion: apiVersion, Time: new(metav1.Now()), FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(string(raw)),
		Subresource: "status"})
}

// mergeFields adds the field set from to into (both FieldsV1 trees).
func mergeFields(into, from map[string]any) {
	for k, v := range from {
		sub, ok := v.(map[string]any)
		if existing, found := into[k].(map[string]any); found && ok {
			mergeFields(existing, sub)
			continue
		}
		if ok {
			into[k] = maps.Clone(sub)
			continue
		}
		into[k] = v
	}
}
