//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/render"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// ownedChildren lists the objects of one kind in ns that carry the operator's managed-by label,
// and checks that each is controlled by exactly one existing PublicService of the same name.
// It returns the owners' names, one per object (so duplicates show).
func ownedChildren(ctx context.Context, ns string, list client.ObjectList, services map[string]types.UID) []string {
	GinkgoHelper()
	Expect(k8s.List(ctx, list, client.InNamespace(ns),
		client.MatchingLabels{render.LabelManagedBy: render.FieldManager})).To(Succeed())
	items, err := meta.ExtractList(list)
	Expect(err).NotTo(HaveOccurred())
	owners := make([]string, 0, len(items))
	for _, item := range items {
		obj := item.(client.Object)
		ref := metav1.GetControllerOf(obj)
		Expect(ref).NotTo(BeNil(), "%T %s has no controller: an orphan", obj, obj.GetName())
		Expect(ref.Kind).To(Equal("PublicService"), "%T %s", obj, obj.GetName())
		Expect(ref.Name).To(Equal(obj.GetName()), "%T %s", obj, obj.GetName())
		Expect(services).To(HaveKeyWithValue(ref.Name, ref.UID), "%T %s: its owner does not exist", obj, obj.GetName())
		owners = append(owners, ref.Name)
	}
	return owners
}

var _ = Describe("Operator failures", Serial, func() {
	It("converges 50 services after a SIGKILL while converging them, with no duplicates or orphans", Label("local-only"),
		func(ctx SpecContext) {
			const n = 50
			ns := newNamespace(ctx, nil)
			DeferCleanup(restartOperator)

			By("stopping the operator and creating 50 services")
			Expect(operator.Stop(ctx)).To(Succeed())
			names := make([]string, 0, n)
			for i := range n {
				name := fmt.Sprintf("svc-%02d", i)
				names = append(names, name)
				create(ctx, testutil.PublicService(name, ns).Image(image).Obj())
			}

			By("starting it, and SIGKILLing it while it converges")
			Expect(operator.Start(ctx, 1)).To(Succeed())
			Eventually(func(g Gomega) int {
				l := &appsv1.DeploymentList{}
				g.Expect(k8s.List(ctx, l, client.InNamespace(ns))).To(Succeed())
				return len(l.Items)
			}).WithPolling(50 * time.Millisecond).Should(BeNumerically(">=", 5))
			Expect(operator.Kill(ctx, 0, syscall.SIGKILL)).To(Succeed())
			deployments := &appsv1.DeploymentList{}
			Expect(k8s.List(ctx, deployments, client.InNamespace(ns))).To(Succeed())
			ready := readyServices(ctx, ns)(Default)
			AddReportEntry("state when the operator was killed",
				fmt.Sprintf("%d of %d Deployments created, %d services Ready", len(deployments.Items), n, ready))

			By("restarting it: every service converges")
			startOperator(ctx, 1)
			Eventually(readyServices(ctx, ns)).WithTimeout(2 * long).Should(Equal(n))

			By("checking for duplicates and orphans: one of each child per service, owned by it")
			list := &platformv1alpha1.PublicServiceList{}
			Expect(k8s.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			services := map[string]types.UID{}
			for _, s := range list.Items {
				services[s.Name] = s.UID
			}
			Expect(services).To(HaveLen(n))
			for _, l := range []client.ObjectList{
				&appsv1.DeploymentList{}, &corev1.ServiceList{}, &corev1.ServiceAccountList{}, &networkingv1.NetworkPolicyList{},
			} {
				Expect(ownedChildren(ctx, ns, l, services)).To(ConsistOf(names), "%T", l)
			}
			// One ReplicaSet per Deployment (the pod template never changed) and one pod per service.
			rs := &appsv1.ReplicaSetList{}
			Expect(k8s.List(ctx, rs, client.InNamespace(ns))).To(Succeed())
			Expect(rs.Items).To(HaveLen(n))
			Eventually(func(g Gomega) int {
				pods := &corev1.PodList{}
				g.Expect(k8s.List(ctx, pods, client.InNamespace(ns))).To(Succeed())
				return len(pods.Items)
			}).Should(Equal(n))
			// Fixed single replicas: no autoscaler, no disruption budget.
			hpas, pdbs := &autoscalingv2.HorizontalPodAutoscalerList{}, &policyv1.PodDisruptionBudgetList{}
			Expect(k8s.List(ctx, hpas, client.InNamespace(ns))).To(Succeed())
			Expect(k8s.List(ctx, pdbs, client.InNamespace(ns))).To(Succeed())
			Expect(hpas.Items).To(BeEmpty())
			Expect(pdbs.Items).To(BeEmpty())
		})

	It("hands over to the second replica when the leader is SIGKILLed, which reconciles a change made after the kill",
		func(ctx SpecContext) {
			ns := newNamespace(ctx, nil)
			create(ctx, testutil.PublicService("ha", ns).Image(image).Obj())
			Eventually(readyPods(ctx, ns, "ha")).Should(Equal(1))

			By("running two replicas with leader election")
			DeferCleanup(restartOperator)
			Expect(operator.Stop(ctx)).To(Succeed())
			startOperator(ctx, 2)
			leader, err := operator.Leader(ctx)
			Expect(err).NotTo(HaveOccurred())
			holder := leaseHolder(ctx)

			By(fmt.Sprintf("SIGKILLing the leader (replica %d) and changing the service right after", leader))
			killed := time.Now()
			Expect(operator.Kill(ctx, leader, syscall.SIGKILL)).To(Succeed())
			setReplicas(ctx, ns, "ha", 3, 3)

			var handover time.Duration
			Eventually(func() string { return leaseHolder(ctx) }).WithPolling(100 * time.Millisecond).
				ShouldNot(Equal(holder))
			handover = time.Since(killed)
			Eventually(readyPods(ctx, ns, "ha")).Should(Equal(3))
			Eventually(condition(ctx, ns, "ha", platformv1alpha1.ConditionReady)).Should(beReady())
			reconciled := time.Since(killed)

			running, err := operator.Running(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(running).To(HaveLen(1))
			Expect(operator.Leader(ctx)).To(Equal(running[0]))
			// Reported, not asserted: it depends on the Lease's duration (15 s) and on the machine.
			AddReportEntry("leader handover after SIGKILL", handover.Round(100*time.Millisecond).String())
			AddReportEntry("change reconciled after the kill", reconciled.Round(100*time.Millisecond).String())
		})
})
