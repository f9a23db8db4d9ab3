package render_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
	"github.com/smartcity-io/smartcity-operator/internal/render"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// exportAll makes cmp compare unexported fields too (resource.Quantity has only those), so a
// mutation anywhere in the input is caught.
var exportAll = cmp.Exporter(func(reflect.Type) bool { return true })

// Names and ranges used across cases.
const (
	portalName  = "portal"
	bachMaiLAN1 = "10.20.0.0/16"
	tenSlash8   = "10.0.0.0/8"
	tenOne      = "10.1.0.0/16"
	tenTwo      = "10.2.0.0/16"
	bachMaiLAN2 = "10.21.0.0/16"
	gatewayNS   = "gw-ns"
)

type renderCase struct {
	name  string
	svc   *platformv1alpha1.PublicService
	flows intent.Resolved
	opts  render.Options
}

// portal is a Portal that calls the identity service, published on a public host.
func portal() *testutil.PublicServiceWrapper {
	return testutil.PublicService(portalName, portalName).UID("11111111-1111-1111-1111-111111111111").
		Profile(platformv1alpha1.ProfilePortal).
		Image("registry.hanoi.gov.vn/portal:2.3.1").
		Host("dichvucong.hanoi.gov.vn").
		TLS("portal-tls").
		Consumes("vneid", "identity")
}

func portalFlows() intent.Resolved {
	return intent.Resolved{
		IngressGateway: true,
		EgressServices: []intent.ServicePeer{{Namespace: "identity", Name: "vneid", Port: 8443}},
	}
}

func hospitalCheckIn() *platformv1alpha1.PublicService {
	return testutil.PublicService("hospital-checkin", "health").UID("33333333-3333-3333-3333-333333333333").
		Profile(platformv1alpha1.ProfileHospitalCheckIn).
		Image("registry.hanoi.gov.vn/checkin@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef").
		AllowFromZone("hospital-lan-bachmai").
		AllowFromZone("hospital-lan-vietduc").
		Consumes("vneid", "identity").
		Obj()
}

func hospitalFlows() intent.Resolved {
	return intent.Resolved{
		IngressZones: []intent.ZonePeer{
			{
				Name:  "hospital-lan-bachmai",
				CIDRs: []string{bachMaiLAN1, bachMaiLAN2},
				// Inside the first CIDR only: the second ipBlock must not carry it.
				Except: []string{"10.20.99.0/24"},
				Ports:  []int32{8080},
			},
			{Name: "hospital-lan-vietduc", CIDRs: []string{"172.16.8.0/22"}, Ports: []int32{8080}},
		},
		EgressServices:  []intent.ServicePeer{{Namespace: "identity", Name: "vneid", Port: 8443}},
		ReferencedZones: []string{"hospital-lan-bachmai", "hospital-lan-vietduc"},
	}
}

// cases returns fresh inputs on every call, so tests can compare an input before and after
// rendering with an identical one that was never rendered.
func cases() []renderCase {
	return []renderCase{
		{
			name:  "portal-ingress",
			svc:   portal().Obj(),
			flows: portalFlows(),
			opts:  render.Options{IngressClass: "nginx"},
		},
		{
			name:  "portal-gateway",
			svc:   portal().Obj(),
			flows: portalFlows(),
			opts:  render.Options{Gateway: &types.NamespacedName{Namespace: "gateway-system", Name: "city-gateway"}},
		},
		{
			// Two admitted consumers; a third that consumes vneid without being admitted is
			// listed in Unadmitted and must not appear anywhere in the rendered objects.
			name: "identity-verification",
			svc: testutil.PublicService("vneid", "identity").UID("22222222-2222-2222-2222-222222222222").
				Profile(platformv1alpha1.ProfileIdentityVerification).
				Image("registry.hanoi.gov.vn/vneid:5.0.0").
				Port(8443).
				AllowFromService("hospital-checkin", "health").
				AllowFromService(portalName, portalName).
				EgressToZone("national-population-db", 5432).
				Obj(),
			flows: intent.Resolved{
				IngressServices: []intent.ServicePeer{
					{Namespace: "health", Name: "hospital-checkin", Port: 8443},
					{Namespace: portalName, Name: portalName, Port: 8443},
				},
				EgressZones: []intent.ZonePeer{
					{Name: "national-population-db", CIDRs: []string{"10.50.0.0/24", "fd00:50::/64"}, Ports: []int32{5432}},
				},
				Unadmitted:      []types.NamespacedName{{Namespace: "rogue", Name: "scraper"}},
				ReferencedZones: []string{"national-population-db"},
			},
		},
		{
			name:  "hospital-checkin-loadbalancer",
			svc:   hospitalCheckIn(),
			flows: hospitalFlows(),
		},
		{
			name:  "hospital-checkin-nodeport",
			svc:   hospitalCheckIn(),
			flows: hospitalFlows(),
			opts:  render.Options{ZoneServiceType: corev1.ServiceTypeNodePort},
		},
		{
			// Nothing admitted: the policy only lets the pods resolve names.
			name: "custom-single-replica",
			svc: testutil.PublicService("notices", "city-tools").UID("44444444-4444-4444-4444-444444444444").
				Image("registry.hanoi.gov.vn/notices:0.9.0").
				Obj(),
		},
		{
			name: "fixed-three-replicas",
			svc: testutil.PublicService("tax-lookup", "finance").UID("55555555-5555-5555-5555-555555555555").
				Image("registry.hanoi.gov.vn/tax-lookup:1.4.2").
				Replicas(3, 3).
				Obj(),
			opts: render.Options{DNSNamespace: "dns-system", DNSPodLabels: map[string]string{"app": "coredns"}},
		},
		{
			name: "env-secret",
			svc: testutil.PublicService("permits", "city-tools").UID("66666666-6666-6666-6666-666666666666").
				Image("registry.hanoi.gov.vn/permits:3.1.0").
				Port(9090).
				HealthPath("/ready").
				Env("LOG_LEVEL", "info").
				EnvFromSecret("DB_PASSWORD", "permits-db", "password").
				Env("EMPTY", "").
				Requests(corev1.ResourceCPU, "250m").
				Limits(corev1.ResourceCPU, "1").
				Limits(corev1.ResourceMemory, "512Mi").
				Obj(),
		},
	}
}

func (c renderCase) input() render.Input {
	return render.Input{Service: c.svc, Spec: c.svc.Effective(), Flows: c.flows, Options: c.opts}
}

// renderAll renders every child in the order the golden files list them, skipping the ones
// the input does not need. The Deployment owns replicas exactly when no HPA scales it.
func renderAll(in render.Input) []any {
	var out []any
	add := func(obj any) {
		if !reflect.ValueOf(obj).IsNil() {
			out = append(out, obj)
		}
	}
	add(render.NetworkPolicy(in))
	add(render.ServiceAccount(in))
	add(render.Deployment(in, !in.Spec.Autoscaled()))
	add(render.Service(in))
	add(render.HorizontalPodAutoscaler(in))
	add(render.PodDisruptionBudget(in))
	add(render.Ingress(in))
	add(render.HTTPRoute(in))
	return out
}

func toYAML(t *testing.T, objs []any) []byte {
	t.Helper()
	var buf bytes.Buffer
	for i, obj := range objs {
		b, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatalf("failed to marshal %T: %v", obj, err)
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(b)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			testutil.Golden(t, filepath.Join("testdata", c.name+".yaml"), toYAML(t, renderAll(c.input())))
		})
	}
}

func TestRenderDoesNotMutateInput(t *testing.T) {
	fresh := cases()
	for i, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			in, want := c.input(), fresh[i].input()
			// Marshal the output too: it must not share memory with the input either.
			_ = toYAML(t, renderAll(in))
			_ = toYAML(t, []any{render.Deployment(in, true), render.Deployment(in, false)})
			if diff := cmp.Diff(want, in, exportAll); diff != "" {
				t.Errorf("rendering changed its input (-before +after):\n%s", diff)
			}
		})
	}
}

// TestPodTemplateStable: the pod template depends on the spec alone, so re-rendering,
// changing flows or options (zones, consumers, flags) or handing replicas to an HPA
// never restarts pods.
func TestPodTemplateStable(t *testing.T) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			in := c.input()
			want := toYAML(t, []any{render.Deployment(in, true).Spec.Template})

			other := c.input()
			other.Flows = intent.Resolved{}
			other.Options = render.Options{
				Gateway:         &types.NamespacedName{Namespace: "elsewhere", Name: "gw"},
				DNSNamespace:    "dns",
				ZoneServiceType: corev1.ServiceTypeNodePort,
			}
			for name, d := range map[string]any{
				"second render":         render.Deployment(c.input(), true).Spec.Template,
				"without replicas":      render.Deployment(in, false).Spec.Template,
				"other flows and flags": render.Deployment(other, true).Spec.Template,
			} {
				if diff := cmp.Diff(string(want), string(toYAML(t, []any{d}))); diff != "" {
					t.Errorf("%s: pod template changed (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}

// TestUnadmittedNotRendered: a service that consumes this one without being admitted gets
// nothing, whatever Resolved says about it.
func TestUnadmittedNotRendered(t *testing.T) {
	checked := 0
	for _, c := range cases() {
		for _, u := range c.flows.Unadmitted {
			checked++
			got := string(toYAML(t, renderAll(c.input())))
			if strings.Contains(got, u.Name) || strings.Contains(got, u.Namespace) {
				t.Errorf("%s: unadmitted consumer %s appears in the rendered objects", c.name, u)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no case has an unadmitted consumer: this test checks nothing")
	}
}

func TestDeploymentReplicas(t *testing.T) {
	in := testutil.PublicService(portalName, portalName).Profile(platformv1alpha1.ProfilePortal).Replicas(4, 9).Obj()
	input := render.Input{Service: in, Spec: in.Effective()}
	if got := render.Deployment(input, false).Spec.Replicas; got != nil {
		t.Errorf("Deployment(in, false).Spec.Replicas = %d, want nil (the HPA owns replicas)", *got)
	}
	got := render.Deployment(input, true).Spec.Replicas
	if got == nil || *got != 4 {
		t.Errorf("Deployment(in, true).Spec.Replicas = %v, want 4 (replicas.min)", got)
	}
}

func TestChildrenCarryOwnerAndLabels(t *testing.T) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			in := c.input()
			wantOwner := []metav1.OwnerReference{{
				APIVersion:         "platform.smartcity.io/v1alpha1",
				Kind:               "PublicService",
				Name:               c.svc.Name,
				UID:                c.svc.UID,
				Controller:         new(true),
				BlockOwnerDeletion: new(true),
			}}
			wantLabels := render.Labels(c.svc)
			for k, v := range render.SelectorLabels(c.svc.Name) {
				if wantLabels[k] != v {
					t.Fatalf("Labels() lacks selector label %s=%s", k, v)
				}
			}
			for _, obj := range renderAll(in) {
				u := toUnstructured(t, obj)
				kind := u.GetKind()
				if u.GetAPIVersion() == "" || kind == "" {
					t.Errorf("%T has no apiVersion or kind", obj)
				}
				if u.GetName() != c.svc.Name || u.GetNamespace() != c.svc.Namespace {
					t.Errorf("%s is %s/%s, want %s/%s", kind, u.GetNamespace(), u.GetName(), c.svc.Namespace, c.svc.Name)
				}
				if diff := cmp.Diff(wantOwner, u.GetOwnerReferences()); diff != "" {
					t.Errorf("%s owner references (-want +got):\n%s", kind, diff)
				}
				if diff := cmp.Diff(wantLabels, u.GetLabels()); diff != "" {
					t.Errorf("%s labels (-want +got):\n%s", kind, diff)
				}
			}
		})
	}
}

func TestLabels(t *testing.T) {
	for profile, component := range map[platformv1alpha1.Profile]string{
		platformv1alpha1.ProfilePortal:               portalName,
		platformv1alpha1.ProfileIdentityVerification: "identity-verification",
		platformv1alpha1.ProfileHospitalCheckIn:      "hospital-check-in",
		platformv1alpha1.ProfileCustom:               "custom",
	} {
		svc := testutil.PublicService("svc", "ns").Profile(profile).Obj()
		want := map[string]string{
			"app.kubernetes.io/name":        "svc",
			"app.kubernetes.io/managed-by":  "smartcity-operator",
			"app.kubernetes.io/part-of":     "smartcity",
			"app.kubernetes.io/component":   component,
			"platform.smartcity.io/profile": string(profile),
		}
		if diff := cmp.Diff(want, render.Labels(svc)); diff != "" {
			t.Errorf("Labels(%s) (-want +got):\n%s", profile, diff)
		}
	}
	want := map[string]string{"app.kubernetes.io/name": "svc", "app.kubernetes.io/managed-by": "smartcity-operator"}
	if diff := cmp.Diff(want, render.SelectorLabels("svc")); diff != "" {
		t.Errorf("SelectorLabels (-want +got):\n%s", diff)
	}
}

// TestPodSecurityRestricted checks the fields the Pod Security Standard "restricted" requires,
// plus the hardening the design adds (read-only root, no token, /tmp on a bounded emptyDir).
func TestPodSecurityRestricted(t *testing.T) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			var d appsv1.Deployment
			fromApplyConfiguration(t, render.Deployment(c.input(), true), &d)
			pod := d.Spec.Template.Spec
			if pod.ServiceAccountName != c.svc.Name {
				t.Errorf("serviceAccountName = %q, want %q", pod.ServiceAccountName, c.svc.Name)
			}
			if len(pod.Containers) != 1 || len(pod.InitContainers) != 0 {
				t.Fatalf("want exactly one container, got %d (+%d init)", len(pod.Containers), len(pod.InitContainers))
			}
			problems := append(podProblems(pod), containerProblems(pod.Containers[0])...)
			problems = append(problems, probeProblems(pod.Containers[0], c.input().Spec.HealthPath)...)
			for _, p := range problems {
				t.Error(p)
			}
		})
	}
}

func podProblems(pod corev1.PodSpec) []string {
	var out []string
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		out = append(out, "pod shares a host namespace")
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		out = append(out, "automountServiceAccountToken is not false")
	}
	psc := pod.SecurityContext
	if psc == nil || !isTrue(psc.RunAsNonRoot) || psc.RunAsUser == nil || *psc.RunAsUser == 0 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		out = append(out, fmt.Sprintf("pod securityContext is not restricted: %+v", psc))
	}
	for _, v := range pod.Volumes {
		if v.EmptyDir == nil || v.EmptyDir.SizeLimit == nil {
			out = append(out, fmt.Sprintf("volume %q is not an emptyDir with a sizeLimit", v.Name))
		}
	}
	return out
}

func containerProblems(ctr corev1.Container) []string {
	sc := ctr.SecurityContext
	if sc == nil {
		return []string{"container has no securityContext"}
	}
	var out []string
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		out = append(out, "allowPrivilegeEscalation is not false")
	}
	if isTrue(sc.Privileged) {
		out = append(out, "container is privileged")
	}
	if !isTrue(sc.ReadOnlyRootFilesystem) || !isTrue(sc.RunAsNonRoot) {
		out = append(out, "readOnlyRootFilesystem or runAsNonRoot is not true")
	}
	if sc.Capabilities == nil || !cmp.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		out = append(out, fmt.Sprintf("capabilities = %+v, want drop [ALL] and no add", sc.Capabilities))
	}
	if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		out = append(out, "container seccompProfile is not RuntimeDefault")
	}
	for _, p := range ctr.Ports {
		if p.HostPort != 0 {
			out = append(out, fmt.Sprintf("port %q uses a hostPort", p.Name))
		}
	}
	if !slices.ContainsFunc(ctr.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == "/tmp" }) {
		out = append(out, "/tmp is not mounted")
	}
	return out
}

func probeProblems(ctr corev1.Container, healthPath string) []string {
	var out []string
	for name, p := range map[string]*corev1.Probe{"readiness": ctr.ReadinessProbe, "liveness": ctr.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != healthPath || p.HTTPGet.Port.StrVal != "http" {
			out = append(out, fmt.Sprintf("%s probe = %+v, want httpGet %s on port http", name, p, healthPath))
		}
	}
	return out
}

func TestNetworkPolicyFailsClosed(t *testing.T) {
	svc := testutil.PublicService("checkin", "health").Profile(platformv1alpha1.ProfileHospitalCheckIn).AllowFromZone("z").Obj()
	tests := []struct {
		name  string
		flows intent.Resolved
		want  int // ingress rules
	}{
		{name: "nothing admitted", want: 0},
		{
			name:  "zone without ports would admit every port",
			flows: intent.Resolved{IngressZones: []intent.ZonePeer{{Name: "z", CIDRs: []string{tenSlash8}}}},
		},
		{
			name:  "zone without CIDRs would admit every source",
			flows: intent.Resolved{IngressZones: []intent.ZonePeer{{Name: "z", Ports: []int32{8080}}}},
		},
		{
			name: "zone whose CIDRs are all excepted",
			flows: intent.Resolved{IngressZones: []intent.ZonePeer{{
				Name: "z", CIDRs: []string{tenOne, tenTwo}, Except: []string{tenOne, tenSlash8}, Ports: []int32{8080},
			}}},
		},
		{
			name:  "zone with an unparsable CIDR",
			flows: intent.Resolved{IngressZones: []intent.ZonePeer{{Name: "z", CIDRs: []string{"not-a-cidr"}, Ports: []int32{8080}}}},
		},
		{
			name:  "service peer without a port",
			flows: intent.Resolved{IngressServices: []intent.ServicePeer{{Namespace: "a", Name: "b"}}},
		},
		{
			name: "valid zone next to a portless one",
			flows: intent.Resolved{IngressZones: []intent.ZonePeer{
				{Name: "y", CIDRs: []string{tenSlash8}},
				{Name: "z", CIDRs: []string{tenSlash8}, Ports: []int32{8080}},
			}},
			want: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var np networkingv1.NetworkPolicy
			fromApplyConfiguration(t, render.NetworkPolicy(render.Input{Service: svc, Spec: svc.Effective(), Flows: tt.flows}), &np)
			if diff := cmp.Diff([]networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}, np.Spec.PolicyTypes); diff != "" {
				t.Errorf("policyTypes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(render.SelectorLabels("checkin"), np.Spec.PodSelector.MatchLabels); diff != "" {
				t.Errorf("podSelector (-want +got):\n%s", diff)
			}
			if len(np.Spec.Ingress) != tt.want {
				t.Errorf("got %d ingress rules, want %d: %+v", len(np.Spec.Ingress), tt.want, np.Spec.Ingress)
			}
			for _, r := range np.Spec.Ingress {
				if len(r.From) == 0 || len(r.Ports) == 0 {
					t.Errorf("ingress rule admits everything on some axis: %+v", r)
				}
			}
			if len(np.Spec.Egress) != 1 {
				t.Errorf("got %d egress rules, want only DNS", len(np.Spec.Egress))
			}
		})
	}
}

func TestZoneExcepts(t *testing.T) {
	svc := testutil.PublicService("checkin", "health").Obj()
	flows := intent.Resolved{EgressZones: []intent.ZonePeer{{
		Name:   "z",
		CIDRs:  []string{tenOne, tenTwo, "fd00::/48"},
		Except: []string{"10.1.5.0/24", "10.1.5.7/24", "10.9.0.0/24", "fd00:0:0:1::/64", tenTwo},
		Ports:  []int32{443},
	}}}
	var np networkingv1.NetworkPolicy
	fromApplyConfiguration(t, render.NetworkPolicy(render.Input{Service: svc, Spec: svc.Effective(), Flows: flows}), &np)
	want := []networkingv1.NetworkPolicyPeer{
		// 10.1.5.7/24 is the same range as 10.1.5.0/24; 10.9.0.0/24 lies in no CIDR.
		{IPBlock: &networkingv1.IPBlock{CIDR: tenOne, Except: []string{"10.1.5.0/24"}}},
		// 10.2.0.0/16 is excepted entirely, so it is not rendered (an except may not equal its CIDR).
		{IPBlock: &networkingv1.IPBlock{CIDR: "fd00::/48", Except: []string{"fd00:0:0:1::/64"}}},
	}
	if len(np.Spec.Egress) != 2 {
		t.Fatalf("got %d egress rules, want DNS and the zone", len(np.Spec.Egress))
	}
	if diff := cmp.Diff(want, np.Spec.Egress[1].To); diff != "" {
		t.Errorf("zone peers (-want +got):\n%s", diff)
	}
}

func TestServiceSourceRanges(t *testing.T) {
	svc := hospitalCheckIn()
	flows := intent.Resolved{IngressZones: []intent.ZonePeer{
		{Name: "b", CIDRs: []string{bachMaiLAN2, bachMaiLAN1}, Ports: []int32{8080}},
		{Name: "a", CIDRs: []string{bachMaiLAN1, "192.168.0.0/24"}, Ports: []int32{8080}},
	}}
	in := render.Input{Service: svc, Spec: svc.Effective(), Flows: flows}
	var s corev1.Service
	fromApplyConfiguration(t, render.Service(in), &s)
	if diff := cmp.Diff([]string{bachMaiLAN1, bachMaiLAN2, "192.168.0.0/24"}, s.Spec.LoadBalancerSourceRanges); diff != "" {
		t.Errorf("loadBalancerSourceRanges (-want +got):\n%s", diff)
	}
	if s.Spec.Type != corev1.ServiceTypeLoadBalancer || s.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
		t.Errorf("type %s, externalTrafficPolicy %s; want LoadBalancer, Local", s.Spec.Type, s.Spec.ExternalTrafficPolicy)
	}

	in.Options.ZoneServiceType = corev1.ServiceTypeNodePort
	s = corev1.Service{}
	fromApplyConfiguration(t, render.Service(in), &s)
	if s.Spec.Type != corev1.ServiceTypeNodePort || s.Spec.LoadBalancerSourceRanges != nil {
		t.Errorf("NodePort variant: type %s, loadBalancerSourceRanges %v", s.Spec.Type, s.Spec.LoadBalancerSourceRanges)
	}
}

func TestOptionalChildren(t *testing.T) {
	gw := &types.NamespacedName{Namespace: gatewayNS, Name: "gw"}
	public := portal().Obj()
	internal := testutil.PublicService("a", "ns").Replicas(2, 2).Obj()
	noTLS := portal().Obj()
	noTLS.Spec.Exposure.TLS = nil
	in := func(svc *platformv1alpha1.PublicService, opts render.Options) render.Input {
		return render.Input{Service: svc, Spec: svc.Effective(), Options: opts}
	}
	tests := []struct {
		name                                  string
		in                                    render.Input
		ingress, route, hpa, pdb, gatewayRule bool
	}{
		{name: "public, no gateway", in: in(public, render.Options{}), ingress: true, hpa: true, pdb: true},
		{name: "public, gateway", in: in(public, render.Options{Gateway: gw}), route: true, hpa: true, pdb: true},
		{name: "public without TLS", in: in(noTLS, render.Options{}), hpa: true, pdb: true},
		{name: "internal fixed 2", in: in(internal, render.Options{Gateway: gw}), pdb: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render.Ingress(tt.in) != nil; got != tt.ingress {
				t.Errorf("Ingress rendered = %v, want %v", got, tt.ingress)
			}
			if got := render.HTTPRoute(tt.in) != nil; got != tt.route {
				t.Errorf("HTTPRoute rendered = %v, want %v", got, tt.route)
			}
			if got := render.HorizontalPodAutoscaler(tt.in) != nil; got != tt.hpa {
				t.Errorf("HorizontalPodAutoscaler rendered = %v, want %v", got, tt.hpa)
			}
			if got := render.PodDisruptionBudget(tt.in) != nil; got != tt.pdb {
				t.Errorf("PodDisruptionBudget rendered = %v, want %v", got, tt.pdb)
			}
		})
	}
}

func TestIngressControllerNamespace(t *testing.T) {
	svc := portal().Obj()
	tests := []struct {
		name string
		opts render.Options
		want string
	}{
		{name: "default", want: "ingress-nginx"},
		{name: "gateway namespace", opts: render.Options{Gateway: &types.NamespacedName{Namespace: gatewayNS, Name: "gw"}}, want: gatewayNS},
		{name: "explicit wins", opts: render.Options{IngressControllerNamespace: "edge", Gateway: &types.NamespacedName{Namespace: gatewayNS, Name: "gw"}}, want: "edge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var np networkingv1.NetworkPolicy
			fromApplyConfiguration(t, render.NetworkPolicy(render.Input{Service: svc, Spec: svc.Effective(), Flows: portalFlows(), Options: tt.opts}), &np)
			if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].From) != 1 || np.Spec.Ingress[0].From[0].NamespaceSelector == nil {
				t.Fatalf("want one ingress rule from a namespace, got %+v", np.Spec.Ingress)
			}
			from := np.Spec.Ingress[0].From[0]
			if got := from.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]; got != tt.want || from.PodSelector != nil {
				t.Errorf("ingress from namespace %q (podSelector %v), want %q and any pod", got, from.PodSelector, tt.want)
			}
		})
	}
}

func toUnstructured(t *testing.T, obj any) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	fromApplyConfiguration(t, obj, &u.Object)
	return u
}

// fromApplyConfiguration decodes an apply configuration into a typed object through JSON, the
// way the API server reads it.
func fromApplyConfiguration(t *testing.T, ac, into any) {
	t.Helper()
	b, err := json.Marshal(ac)
	if err != nil {
		t.Fatalf("failed to marshal %T: %v", ac, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		t.Fatalf("failed to decode %T into %T: %v\n%s", ac, into, err, b)
	}
}

func isTrue(b *bool) bool { return b != nil && *b }

// TestNamespaceEntryRendersEachConsumer: an allowFrom entry that admits a namespace renders one
// ingress rule per service of that namespace that consumes the provider (pods of that service
// in that namespace), never a rule for the whole namespace, and nothing for its other services.
func TestNamespaceEntryRendersEachConsumer(t *testing.T) {
	provider := testutil.PublicService("vneid", "identity").Port(8443).AllowFromNamespace("citizens").Obj()
	w := intent.World{Services: map[types.NamespacedName]*platformv1alpha1.PublicService{}}
	for _, s := range []*platformv1alpha1.PublicService{
		provider,
		testutil.PublicService("forms", "citizens").Consumes("vneid", "identity").Obj(),
		testutil.PublicService("portal", "citizens").Consumes("vneid", "identity").Obj(),
		testutil.PublicService("news", "citizens").Obj(),
		testutil.PublicService("checkin", "health").Consumes("vneid", "identity").Obj(),
	} {
		w.Services[types.NamespacedName{Namespace: s.Namespace, Name: s.Name}] = s
	}
	flows := intent.Resolve(provider, w)
	np := render.NetworkPolicy(render.Input{Service: provider, Spec: provider.Effective(), Flows: flows})

	var got []string
	for _, rule := range np.Spec.Ingress {
		for _, peer := range rule.From {
			if peer.NamespaceSelector == nil || peer.PodSelector == nil {
				t.Fatalf("an ingress peer without both a namespace and a pod selector: %+v", peer)
			}
			got = append(got, peer.NamespaceSelector.MatchLabels[corev1.LabelMetadataName]+"/"+peer.PodSelector.MatchLabels[render.LabelName])
		}
	}
	if diff := cmp.Diff([]string{"citizens/forms", "citizens/portal"}, got); diff != "" {
		t.Errorf("ingress peers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]types.NamespacedName{{Namespace: "health", Name: "checkin"}}, flows.Unadmitted); diff != "" {
		t.Errorf("unadmitted (-want +got):\n%s", diff)
	}
}
