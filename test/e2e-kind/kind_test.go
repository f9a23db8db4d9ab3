//go:build e2e

package e2ekind

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/audit"
	"github.com/smartcity-io/smartcity-operator/internal/render"
)

// The settings hack/kind/e2e.sh passes (see its header).
var (
	kubeconfig   = os.Getenv("KUBECONFIG")
	clusterName  = envOr("KIND_CLUSTER_NAME", "smartcity-kind-e2e")
	nodeName     = clusterName + "-control-plane"
	probeImage   = os.Getenv("E2E_KIND_PROBE_IMAGE")
	serviceImage = os.Getenv("E2E_KIND_SERVICE_IMAGE")
	// nodeProbe is the probe binary copied into the node container, for the control probes.
	nodeProbe = envOr("E2E_KIND_NODE_PROBE", "/usr/local/bin/smartcity-probe")
	rounds    = 6
)

const (
	// undeclaredPort is a port no PublicService declares: every flow to it must be denied.
	undeclaredPort = 9090
	probeTimeout   = "3s"
	fieldOwner     = client.FieldOwner("smartcity-e2e-kind")
)

// The sample city's services, and the client and server addresses on the zone networks.
var (
	services = []string{"city-portal/portal", "city-identity/vneid", "city-health/checkin"}
	// zoneNets are the Docker networks attached to the node: each zone's CIDR (population-db's
	// /28 inside a /27, so that one address on the same wire lies outside the zone).
	zoneNets = []zoneNet{
		{zone: "hospital-lan", subnet: "192.168.100.0/24", node: "192.168.100.2"},
		{zone: "population-db", subnet: "192.168.120.0/27", node: "192.168.120.2"},
	}
	// hospital-lan admits clients: one inside, one in its except range (the guest Wi-Fi).
	hospitalInside, hospitalOutside = "192.168.100.10", "192.168.100.250"
	// population-db is a destination: a server inside the /28 and one outside it.
	popdbInside, popdbOutside = "192.168.120.5", "192.168.120.20"
)

type zoneNet struct{ zone, subnet, node string }

func (z zoneNet) name() string { return clusterName + "-" + z.zone }

var (
	k8s       client.Client
	ctx       = context.Background()
	auditOpts = audit.Options{Render: render.Options{ZoneServiceType: corev1.ServiceTypeNodePort}}
	// table is every flow probed, in order, for the report.
	table []*flow
	// probes counts every probe sent (controls included).
	probes int
)

// flow is one connection attempt and its three results.
type flow struct {
	Case, From, To string
	Port           int32
	Intent         string // allowed | denied (declared, after consent)
	Engine         string // allowed | denied (the audit engine on the live cluster)
	Probe          string // ok | refused | timeout | ...
	Control        string // the same target from an allowed client, in the same round
	Round          int
	// ForeignPolicy marks a flow that a policy the operator does not own opens.
	ForeignPolicy bool
	probe         func() string
	control       func() string
	// explainFrom and explainTo are the audit's peer IDs (service or address).
	explainFrom, explainTo string
}

// notAudited is the Engine of a flow the audit engine does not model (the operator's own
// pods are no PublicService): the probe is then held to the intent alone.
const notAudited = "n/a"

// want is what the probe must say: the engine's verdict, or the intent where there is none.
func (f *flow) want() string {
	if f.Engine == notAudited {
		return f.Intent
	}
	return f.Engine
}

func (f *flow) probeSays() string {
	if f.Probe == "ok" {
		return "allowed"
	}
	if f.Probe == "refused" || f.Probe == "timeout" {
		if f.Control == "ok" {
			return "denied"
		}
		return "unproven"
	}
	return "error(" + f.Probe + ")"
}

// Result: "match" when the probe equals the engine and the intent; "flagged" when it equals the
// engine but not the intent (only for a foreign policy); otherwise MISMATCH.
func (f *flow) Result() string {
	switch {
	case f.probeSays() != f.want():
		return "MISMATCH"
	case f.want() == f.Intent:
		return "match"
	case f.ForeignPolicy:
		return "flagged"
	default:
		return "MISMATCH"
	}
}

func TestKind(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(4 * time.Minute)
	SetDefaultEventuallyPollingInterval(time.Second)
	RunSpecs(t, "kind connectivity suite")
}

var _ = BeforeSuite(func() {
	Expect(kubeconfig).NotTo(BeEmpty(), "KUBECONFIG is not set: run `make test-e2e-kind`")
	Expect(probeImage).NotTo(BeEmpty(), "E2E_KIND_PROBE_IMAGE is not set: run `make test-e2e-kind`")
	Expect(serviceImage).NotTo(BeEmpty(), "E2E_KIND_SERVICE_IMAGE is not set: run `make test-e2e-kind`")
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	Expect(err).NotTo(HaveOccurred())
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(platformv1alpha1.AddToScheme(scheme))
	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	By("waiting until every sample PublicService is Ready")
	for _, s := range services {
		ns, name := split(s)
		Eventually(func(g Gomega) {
			ps := &platformv1alpha1.PublicService{}
			g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, ps)).To(Succeed())
			g.Expect(meta.IsStatusConditionTrue(ps.Status.Conditions, platformv1alpha1.ConditionReady)).To(BeTrue(), "%s not Ready", s)
		}).Should(Succeed())
	}

	By("attaching the zone networks to the node, with a server on population-db inside and outside the zone")
	DeferCleanup(cleanupDocker)
	cleanupDocker()
	for _, z := range zoneNets {
		docker("network", "create", "--driver", "bridge", "--subnet", z.subnet,
			"--label", "io.smartcity.kind="+clusterName, z.name())
		docker("network", "connect", "--ip", z.node, z.name(), nodeName)
	}
	for _, ip := range []string{popdbInside, popdbOutside} {
		docker("run", "-d", "--name", serverName(ip), "--label", "io.smartcity.kind="+clusterName,
			"--network", zoneNets[1].name(), "--ip", ip, "-e", "PORT=443", "-e", "SERVICE_NAME=popdb-"+ip, serviceImage)
	}
	Eventually(func() string { return nodeExec("tcp", popdbInside+":443") }).Should(Equal("ok"))
})

func serverName(ip string) string {
	return clusterName + "-server-" + strings.ReplaceAll(ip, ".", "-")
}

// cleanupDocker removes the zone servers and networks (also what an earlier run left).
func cleanupDocker() {
	for _, ip := range []string{popdbInside, popdbOutside} {
		_, _ = run("docker", "rm", "-f", serverName(ip))
	}
	for _, z := range zoneNets {
		_, _ = run("docker", "network", "disconnect", "-f", z.name(), nodeName)
		_, _ = run("docker", "network", "rm", z.name())
	}
}

var _ = AfterSuite(func() {
	var b bytes.Buffer
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(w, "CASE\tFROM\tTO\tPORT\tINTENT\tENGINE\tPROBE\tCONTROL\tROUND\tRESULT")
	counts := map[string]int{}
	for _, f := range table {
		_, _ = fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%d\t%s\n", f.Case, f.From, f.To, f.Port, f.Intent, f.Engine, f.Probe, f.Control, f.Round, f.Result())
		counts[f.Probe]++
	}
	_ = w.Flush()
	fmt.Fprintf(&b, "%d flows; %d probes sent (controls and re-probes included); final probe results:", len(table), probes)
	for _, k := range []string{"ok", "refused", "timeout"} {
		fmt.Fprintf(&b, " %s=%d", k, counts[k])
	}
	b.WriteString("\n")
	AddReportEntry("flows", b.String())
	// Always on stdout, so that make test-e2e-kind shows the table.
	fmt.Print("\n" + b.String())
})

var _ = Describe("the sample city on kind", Ordered, Label("kind"), func() {
	var portPod map[string]string // service -> a running pod
	var podIP map[string]string   // service -> that pod's IP

	BeforeAll(func() {
		portPod, podIP = map[string]string{}, map[string]string{}
		for _, s := range services {
			pod := runningPod(s)
			portPod[s], podIP[s] = pod.Name, pod.Status.PodIP
		}
	})

	It("denies by default: only the declared flows between services and zones connect", func() {
		var flows []*flow
		for _, src := range services {
			for _, dst := range services {
				if src == dst {
					continue
				}
				for _, port := range []int32{servicePort(dst), undeclaredPort} {
					flows = append(flows, podFlow("default deny", src, dst, portPod[src], podIP[dst], port, podIP[dst]))
				}
			}
		}
		// hospital-lan → check-in, through its NodePort on the node's address on that network.
		nodePort := checkinNodePort()
		for _, ip := range []string{hospitalInside, hospitalOutside} {
			flows = append(flows, &flow{
				Case: "zone ingress", From: "hospital-lan " + ip, To: "city-health/checkin", Port: servicePort("city-health/checkin"),
				explainFrom: ip, explainTo: "city-health/checkin",
				probe: func() string {
					return dockerProbe(zoneNets[0].name(), ip, "tcp", fmt.Sprintf("%s:%d", zoneNets[0].node, nodePort))
				},
				control: func() string {
					return nodeExec("tcp", fmt.Sprintf("%s:%d", podIP["city-health/checkin"], servicePort("city-health/checkin")))
				},
			})
		}
		// services → population-db, inside and outside its CIDR, on its declared port 443.
		for _, src := range []string{"city-identity/vneid", "city-health/checkin"} {
			for _, ip := range []string{popdbInside, popdbOutside} {
				flows = append(flows, &flow{
					Case: "zone egress", From: src, To: "population-db " + ip, Port: 443,
					explainFrom: src, explainTo: ip,
					probe:   func() string { return podExec(src, portPod[src], "tcp", ip+":443") },
					control: func() string { return nodeExec("tcp", ip+":443") },
				})
			}
		}
		check(flows)
	})

	It("resolves service names with the cluster DNS from a service pod", func() {
		for _, name := range []string{"vneid.city-identity.svc.cluster.local", "vneid.city-identity"} {
			out := podExecLine("city-portal/portal", portPod["city-portal/portal"], "dns", name)
			Expect(strings.Fields(out)).NotTo(BeEmpty())
			Expect(strings.Fields(out)[0]).To(Equal("ok"), "dns %s from portal: %s", name, out)
			AddReportEntry("dns "+name, out)
		}
		// And the name routes: portal's declared call through the Service's DNS name answers.
		out := podExecLine("city-portal/portal", portPod["city-portal/portal"], "http",
			fmt.Sprintf("http://vneid.city-identity.svc.cluster.local:%d/info", servicePort("city-identity/vneid")))
		Expect(out).To(HavePrefix("ok "), "portal -> vneid by DNS name: %s", out)
	})

	It("blocks a consumer that the provider does not admit (ConsentMissing)", func() {
		ns := "city-e2e-snoop"
		createNamespace(ns)
		DeferCleanup(deleteNamespace, ns)
		ps := &platformv1alpha1.PublicService{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "snoop"},
			Spec: platformv1alpha1.PublicServiceSpec{
				Profile:  platformv1alpha1.ProfileCustom,
				Image:    "smartcity/city-service:0.1.0",
				Consumes: []platformv1alpha1.ServiceReference{{Service: "vneid", Namespace: "city-identity"}},
				Env:      []platformv1alpha1.EnvVar{{Name: "SERVICE_NAME", Value: "snoop"}},
			},
		}
		Expect(k8s.Create(ctx, ps)).To(Succeed())
		Eventually(func(g Gomega) {
			got := &platformv1alpha1.PublicService{}
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(ps), got)).To(Succeed())
			c := meta.FindStatusCondition(got.Status.Conditions, platformv1alpha1.ConditionDependenciesSatisfied)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(platformv1alpha1.ReasonConsentMissing))
		}).Should(Succeed())
		src := ns + "/snoop"
		pod := runningPod(src)
		vneid := "city-identity/vneid"
		vneidPod := runningPod(vneid)
		check([]*flow{podFlow("no consent", src, vneid, pod.Name, vneidPod.Status.PodIP, servicePort(vneid), vneidPod.Status.PodIP)})
	})

	It("shows a foreign allow-all policy opening a flow that really connects, and the audit flags it", func() {
		ns := "city-e2e-outsider"
		createNamespace(ns)
		DeferCleanup(deleteNamespace, ns)
		pod := clientPod(ns, "outsider")
		src, vneid := ns+"/outsider", "city-identity/vneid"
		vneidPod := runningPod(vneid)
		outsiderFlow := func(name string, foreign bool) *flow {
			f := podFlow(name, src, vneid, pod.Name, vneidPod.Status.PodIP, servicePort(vneid), vneidPod.Status.PodIP)
			f.ForeignPolicy = foreign
			return f
		}
		check([]*flow{outsiderFlow("foreign: before", false)})

		np := &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: "city-identity", Name: "e2e-foreign-allow-all"},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress:     []networkingv1.NetworkPolicyIngressRule{{}},
			},
		}
		Expect(k8s.Create(ctx, np)).To(Succeed())
		DeferCleanup(func() { _ = client.IgnoreNotFound(k8s.Delete(ctx, np)) })
		check([]*flow{outsiderFlow("foreign: allow-all", true)})

		By("the live audit flags the flow TooOpen")
		r, err := audit.Analyze(liveModel(), auditOpts)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Violations).To(ContainElement(SatisfyAll(
			HaveField("Kind", audit.TooOpen), HaveField("To", vneid))), "violations: %v", r.Violations)

		By("deleting the foreign policy closes the flow again")
		// The operator must not have adopted or changed it: it is still there until we delete it.
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(np), &networkingv1.NetworkPolicy{})).To(Succeed())
		Expect(k8s.Delete(ctx, np)).To(Succeed())
		check([]*flow{outsiderFlow("foreign: deleted", false)})
	})
})

// clientPod starts a bare pod of the city-service image (which carries /probe) in namespace ns,
// labelled app=name, and returns it once it runs with an address.
func clientPod(ns, name string) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: "app", Image: "smartcity/city-service:0.1.0", ImagePullPolicy: corev1.PullNever,
				SecurityContext: restricted(),
			}},
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   new(true),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			TerminationGracePeriodSeconds: new(int64(1)),
		},
	}
	Expect(k8s.Create(ctx, pod)).To(Succeed())
	Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(pod), pod)).To(Succeed())
		g.Expect(pod.Status.PodIP).NotTo(BeEmpty())
		g.Expect(pod.Status.Phase).To(Equal(corev1.PodRunning))
	}).Should(Succeed())
	return pod
}

// podFlow is a flow probed from a pod's own network namespace (kubectl exec into its app
// container, whose image carries /probe) to an address and port, with a control probe from the
// node to the target pod on the same port, or on its service port when nothing listens on port.
func podFlow(c, src, dst, pod, dstIP string, port int32, controlIP string) *flow {
	controlPort := port
	if port == undeclaredPort {
		// Nothing listens on the undeclared port: the control says the target pod is up.
		controlPort = servicePort(dst)
	}
	return &flow{
		Case: c, From: src, To: dst, Port: port, explainFrom: src, explainTo: dst,
		probe:   func() string { return podExec(src, pod, "tcp", fmt.Sprintf("%s:%d", dstIP, port)) },
		control: func() string { return nodeExec("tcp", fmt.Sprintf("%s:%d", controlIP, controlPort)) },
	}
}

// check fills in intent and engine for the flows, then probes them in rounds (NetworkPolicy is
// applied asynchronously) until every probe agrees with the engine, at most `rounds` times,
// and records them in the table. It fails when a probe differs from the engine, or from the
// intent for a flow that no foreign policy opens.
func check(flows []*flow) {
	m := liveModel()
	for _, f := range flows {
		if f.Engine == notAudited {
			continue // Intent was set by the caller
		}
		f.Intent = intent(f)
		x, err := audit.Explain(m, auditOpts, f.explainFrom, f.explainTo, audit.PortRange{Protocol: corev1.ProtocolTCP, From: f.Port, To: f.Port})
		Expect(err).NotTo(HaveOccurred(), "explain %s -> %s:%d", f.explainFrom, f.explainTo, f.Port)
		f.Engine = map[bool]string{true: "allowed", false: "denied"}[x.Allowed]
	}
	// Rounds 5 s apart until every probe agrees, at most `rounds`; the last round is checked below.
	round := 0
	_ = wait.PollUntilContextTimeout(context.Background(), 5*time.Second, time.Duration(rounds)*time.Minute, true,
		func(context.Context) (bool, error) {
			round++
			bad := 0
			for _, f := range flows {
				f.Round = round
				f.Probe, f.Control = f.probe(), f.control()
				probes += 2
				if f.Result() == "MISMATCH" {
					bad++
				}
			}
			if bad > 0 && round < rounds {
				GinkgoWriter.Printf("round %d: %d flow(s) differ; probing again in 5s\n", round, bad)
			}
			return bad == 0 || round >= rounds, nil
		})
	table = append(table, flows...)
	for _, f := range flows {
		Expect(f.probeSays()).To(Equal(f.want()), "%s -> %s:%d: probe %s (control %s), engine %s", f.From, f.To, f.Port, f.Probe, f.Control, f.Engine)
		if !f.ForeignPolicy {
			Expect(f.probeSays()).To(Equal(f.Intent), "%s -> %s:%d: probe %s, intent %s", f.From, f.To, f.Port, f.Probe, f.Intent)
		} else {
			Expect(f.Engine).NotTo(Equal(f.Intent), "the foreign policy should make %s -> %s differ from the intent", f.From, f.To)
		}
	}
}

// liveModel reads the cluster for the audit engine, as audit.ReadCluster does.
func liveModel() *audit.Model {
	m, err := audit.ReadCluster(ctx, k8s)
	Expect(err).NotTo(HaveOccurred())
	return m
}

// intent is what the PublicServices declare for a flow, after consent: a service consumes
// another that admits it, on its port; a zone admitted by a service's allowFrom, from an
// address inside its CIDRs and outside its except ranges, on the service's port; a service's
// egressTo a zone that admits its namespace, to an address inside the zone, on the declared ports.
func intent(f *flow) string {
	allowed := func() bool {
		src, srcIsSvc := publicService(f.explainFrom)
		dst, dstIsSvc := publicService(f.explainTo)
		switch {
		case srcIsSvc && dstIsSvc:
			if f.Port != servicePort(f.explainTo) {
				return false
			}
			consumes := slices.ContainsFunc(src.Spec.Consumes, func(r platformv1alpha1.ServiceReference) bool {
				return r.Service == dst.Name && or(r.Namespace, src.Namespace) == dst.Namespace
			})
			admits := slices.ContainsFunc(dst.Spec.AllowFrom, func(a platformv1alpha1.AllowSource) bool {
				return a.Service == src.Name && or(a.Namespace, dst.Namespace) == src.Namespace
			})
			return consumes && admits
		case dstIsSvc: // from an address
			if f.Port != servicePort(f.explainTo) {
				return false
			}
			return slices.ContainsFunc(dst.Spec.AllowFrom, func(a platformv1alpha1.AllowSource) bool {
				return a.Zone != "" && zoneHolds(a.Zone, f.explainFrom, dst.Namespace)
			})
		case srcIsSvc: // to an address
			return slices.ContainsFunc(src.Spec.EgressTo, func(e platformv1alpha1.ZoneEgress) bool {
				return slices.Contains(e.Ports, f.Port) && zoneHolds(e.Zone, f.explainTo, src.Namespace)
			})
		}
		return false
	}()
	return map[bool]string{true: "allowed", false: "denied"}[allowed]
}

// zoneHolds: the zone exists, admits the namespace, and the address is in its CIDRs and not in
// its except ranges.
func zoneHolds(zone, addr, namespace string) bool {
	z := &platformv1alpha1.NetworkZone{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: zone}, z); err != nil {
		return false
	}
	ns := &corev1.Namespace{}
	Expect(k8s.Get(ctx, client.ObjectKey{Name: namespace}, ns)).To(Succeed())
	sel, err := metav1.LabelSelectorAsSelector(z.Spec.AllowedNamespaces)
	Expect(err).NotTo(HaveOccurred())
	if z.Spec.AllowedNamespaces == nil || !sel.Matches(labels.Set(ns.Labels)) {
		return false
	}
	ip := netip.MustParseAddr(addr)
	in := func(cidrs []string) bool {
		return slices.ContainsFunc(cidrs, func(c string) bool { return netip.MustParsePrefix(c).Contains(ip) })
	}
	return in(z.Spec.CIDRs) && !in(z.Spec.Except)
}

// publicService returns the PublicService "namespace/name", if id names one.
func publicService(id string) (*platformv1alpha1.PublicService, bool) {
	ns, name, ok := strings.Cut(id, "/")
	if !ok {
		return nil, false
	}
	ps := &platformv1alpha1.PublicService{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, ps); err != nil {
		return nil, false
	}
	return ps, true
}

func servicePort(id string) int32 {
	ps, ok := publicService(id)
	if !ok || ps.Spec.Port == nil {
		return 8080
	}
	return *ps.Spec.Port
}

func checkinNodePort() int32 {
	svcs := &corev1.ServiceList{}
	Expect(k8s.List(ctx, svcs, client.InNamespace("city-health"))).To(Succeed())
	for _, s := range svcs.Items {
		if s.Spec.Type == corev1.ServiceTypeNodePort && len(s.Spec.Ports) > 0 && s.Spec.Ports[0].NodePort != 0 {
			return s.Spec.Ports[0].NodePort
		}
	}
	Fail("no NodePort Service in city-health (the operator runs with --zone-service-type=NodePort)")
	return 0
}

func runningPod(id string) corev1.Pod {
	ns, name := split(id)
	return readyPod(ns, client.MatchingLabels(render.SelectorLabels(name)), id)
}

// readyPod waits for a running, ready pod in ns with the labels and returns it; what names it in
// the failure.
func readyPod(ns string, sel client.MatchingLabels, what string) corev1.Pod {
	var pod corev1.Pod
	Eventually(func(g Gomega) {
		pods := &corev1.PodList{}
		g.Expect(k8s.List(ctx, pods, client.InNamespace(ns), sel)).To(Succeed())
		i := slices.IndexFunc(pods.Items, func(p corev1.Pod) bool {
			return p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil && p.Status.PodIP != "" &&
				slices.ContainsFunc(p.Status.ContainerStatuses, func(c corev1.ContainerStatus) bool { return c.Ready })
		})
		g.Expect(i).To(BeNumerically(">=", 0), "no ready pod of %s", what)
		pod = pods.Items[i]
	}).Should(Succeed())
	return pod
}

// createNamespace creates a namespace that enforces Pod Security "restricted", as the samples'
// do, with more labels if given, waiting while one of an earlier run is still terminating.
func createNamespace(name string, more ...map[string]string) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name,
		Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}}}
	for _, m := range more {
		maps.Copy(ns.Labels, m)
	}
	Eventually(func() error { return k8s.Create(ctx, ns.DeepCopy()) }).Should(Succeed())
}

func deleteNamespace(name string) {
	_ = k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
}

func restricted() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: new(false), RunAsNonRoot: new(true), RunAsUser: new(int64(65532)),
		Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// podExec runs the probe in the pod's app container and returns its result word.
func podExec(id, pod string, args ...string) string {
	return word(podExecLine(id, pod, args...))
}

func podExecLine(id, pod string, args ...string) string {
	ns, _ := split(id)
	out, _ := run("kubectl", append([]string{"--kubeconfig", kubeconfig, "-n", ns, "exec", pod, "-c", "app", "--", "/probe"},
		append(args, "--timeout", probeTimeout)...)...)
	return strings.TrimSpace(out)
}

// nodeExec runs the probe in the node container (the host network, which NetworkPolicy admits).
func nodeExec(args ...string) string {
	out, _ := run("docker", append([]string{"exec", nodeName, nodeProbe}, append(args, "--timeout", probeTimeout)...)...)
	return word(out)
}

// dockerProbe runs the standalone probe image as a client container with a fixed address on a
// zone network.
func dockerProbe(network, ip string, args ...string) string {
	out, _ := run("docker", append([]string{"run", "--rm", "--network", network, "--ip", ip, probeImage},
		append(args, "--timeout", probeTimeout)...)...)
	return word(out)
}

func docker(args ...string) {
	out, err := run("docker", args...)
	Expect(err).NotTo(HaveOccurred(), "docker %s: %s", strings.Join(args, " "), out)
}

// run runs a command and returns its stdout (stderr on failure is appended for messages).
func run(name string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil && stdout.Len() == 0 {
		return stderr.String(), err
	}
	return stdout.String(), err
}

func word(out string) string {
	f := strings.Fields(out)
	if len(f) == 0 {
		return "no-output"
	}
	return f[0]
}

func split(id string) (string, string) {
	ns, name, _ := strings.Cut(id, "/")
	return ns, name
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
