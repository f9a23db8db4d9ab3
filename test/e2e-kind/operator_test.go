//go:build e2e

package e2ekind

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The operator as install.yaml (and the chart) deploys it.
const (
	operatorNamespace = "smartcity-system"
	operatorPolicy    = "smartcity-controller-manager"
	metricsPort       = 8443
)

var operatorLabels = client.MatchingLabels{"control-plane": "controller-manager", "app.kubernetes.io/name": "smartcity-operator"}

// operatorPod is the running, ready operator pod (one replica, as installed).
func operatorPod() corev1.Pod {
	return readyPod(operatorNamespace, operatorLabels, "the operator")
}

var _ = Describe("the operator's own NetworkPolicy on kind", Ordered, Label("kind"), func() {
	It("is installed, selects the operator, and the operator reconciles behind it", func() {
		np := &networkingv1.NetworkPolicy{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: operatorPolicy}, np)).To(Succeed())
		Expect(np.Spec.PolicyTypes).To(ConsistOf(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress))
		pod := operatorPod()
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		Expect(err).NotTo(HaveOccurred())
		Expect(sel.Matches(labels.Set(pod.Labels))).To(BeTrue(), "the policy does not select the operator pod %s", pod.Name)
		// The sample city went Ready with the policy in place (BeforeSuite), so the operator reaches
		// the API server; the kubelet's health probes pass too: the pod is ready and never restarted.
		for _, c := range pod.Status.ContainerStatuses {
			Expect(c.RestartCount).To(BeZero(), "container %s of %s restarted (health probes blocked?)", c.Name, pod.Name)
		}
	})

	It("admits the metrics port from a namespace labelled metrics=enabled and refuses it from another", func() {
		allowedNS, otherNS := "city-e2e-metrics", "city-e2e-nometrics"
		createNamespace(allowedNS, map[string]string{"metrics": "enabled"})
		DeferCleanup(deleteNamespace, allowedNS)
		createNamespace(otherNS)
		DeferCleanup(deleteNamespace, otherNS)
		scraper, other := clientPod(allowedNS, "scraper"), clientPod(otherNS, "scraper")
		op := operatorPod()
		target := fmt.Sprintf("%s:%d", op.Status.PodIP, metricsPort)
		to := operatorNamespace + "/" + op.Name
		check([]*flow{
			{
				Case: "operator metrics", From: allowedNS + "/scraper", To: to, Port: metricsPort,
				Intent: "allowed", Engine: notAudited,
				probe:   func() string { return podExec(allowedNS+"/scraper", scraper.Name, "tcp", target) },
				control: func() string { return nodeExec("tcp", target) },
			},
			{
				// The control is the labelled namespace's scraper, in the same round: the port answers.
				Case: "operator metrics", From: otherNS + "/scraper", To: to, Port: metricsPort,
				Intent: "denied", Engine: notAudited,
				probe:   func() string { return podExec(otherNS+"/scraper", other.Name, "tcp", target) },
				control: func() string { return podExec(allowedNS+"/scraper", scraper.Name, "tcp", target) },
			},
		})
	})
})
