package manifests

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/smartcity-io/smartcity-operator/internal/render"
)

// TestOperatorNetworkPolicy: the operator's own policy selects the manager's pods, admits only the
// metrics port and only from namespaces labelled metrics=enabled, and lets out only the API server
// (443, 6443 to any address) and the DNS pods the operator's defaults name.
func TestOperatorNetworkPolicy(t *testing.T) {
	var np networkingv1.NetworkPolicy
	docs := documents(t, "../../config/network-policy/operator.yaml")
	if len(docs) != 1 {
		t.Fatalf("config/network-policy/operator.yaml: %d documents, want 1", len(docs))
	}
	mustStrict(t, "operator.yaml", docs[0], &np)
	var dep appsv1.Deployment
	for _, doc := range documents(t, "../../config/manager/manager.yaml") {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("manager.yaml: %v", err)
		}
		if tm.Kind == "Deployment" {
			mustStrict(t, "manager.yaml", doc, &dep)
		}
	}
	if dep.Name == "" {
		t.Fatal("no Deployment in config/manager/manager.yaml")
	}

	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	if err != nil || sel.Empty() || !sel.Matches(labels.Set(dep.Spec.Template.Labels)) {
		t.Errorf("podSelector %v does not select the manager's pods %v (err %v)", np.Spec.PodSelector, dep.Spec.Template.Labels, err)
	}
	if diff := cmp.Diff([]networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}, np.Spec.PolicyTypes); diff != "" {
		t.Errorf("policyTypes (-want +got):\n%s", diff)
	}

	var metricsPort int32
	for _, p := range dep.Spec.Template.Spec.Containers[0].Ports {
		if p.Name == "https" {
			metricsPort = p.ContainerPort
		}
	}
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	port := func(p int32, proto *corev1.Protocol) networkingv1.NetworkPolicyPort {
		return networkingv1.NetworkPolicyPort{Port: new(intstr.FromInt32(p)), Protocol: proto}
	}
	wantIngress := []networkingv1.NetworkPolicyIngressRule{{
		From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"metrics": "enabled"}}}},
		Ports: []networkingv1.NetworkPolicyPort{port(metricsPort, &tcp)},
	}}
	if diff := cmp.Diff(wantIngress, np.Spec.Ingress); diff != "" {
		t.Errorf("ingress (-want +got):\n%s", diff)
	}

	dns := render.Options{}.WithDefaults()
	wantEgress := []networkingv1.NetworkPolicyEgressRule{
		{Ports: []networkingv1.NetworkPolicyPort{port(443, &tcp), port(6443, &tcp)}},
		{
			To: []networkingv1.NetworkPolicyPeer{{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: dns.DNSNamespace}},
				PodSelector:       &metav1.LabelSelector{MatchLabels: dns.DNSPodLabels},
			}},
			Ports: []networkingv1.NetworkPolicyPort{port(53, &udp), port(53, &tcp)},
		},
	}
	if diff := cmp.Diff(wantEgress, np.Spec.Egress); diff != "" {
		t.Errorf("egress (-want +got):\n%s", diff)
	}
}
