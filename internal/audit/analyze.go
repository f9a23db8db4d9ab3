package audit

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/np-guard/models/pkg/netset"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
	"github.com/smartcity-io/smartcity-operator/internal/netpol"
	"github.com/smartcity-io/smartcity-operator/internal/render"
)

// Options are the settings of an audit.
type Options struct {
	// Render are the operator's settings (its command-line flags), with the same defaults: they
	// say which namespace the gateway or ingress controller runs in, where the cluster DNS
	// is, and shape what offline audits render.
	Render render.Options
	// Service, when set ("namespace/name"), restricts the report to that service: its flows,
	// its summary and its violations, the same as in the whole report (the connectivity
	// controller verifies one service at a time).
	Service string
}

// AuditFiles audits manifest files and folders offline: it reads them (ReadFiles), adds what
// the operator would render for their PublicServices (Rendered) and analyzes the result.
func AuditFiles(paths []string, recursive bool, opts Options) (*Report, error) {
	m, err := ReadFiles(paths, recursive, nil)
	if err != nil {
		return nil, err
	}
	rendered, err := Rendered(m, opts.Render)
	if err != nil {
		return nil, err
	}
	r, err := Analyze(rendered, opts)
	if err != nil {
		return nil, err
	}
	r.Source = "files " + strings.Join(paths, ", ")
	return r, nil
}

// node is a peer with what the analysis needs to compute its flows.
type node struct {
	Peer
	// workload stands for the peer's pods (in-cluster peers); index is its index in the engine.
	workload *Workload
	index    int
	// block holds the peer's addresses (zones and {external}).
	block *netset.IPBlock
	// service is the PublicService of a Service peer.
	service *serviceIntent
}

var kindRank = map[PeerKind]int{PeerService: 0, PeerZone: 1, PeerGateway: 2, PeerDNS: 3, PeerWorkload: 4, PeerAnyPod: 5, PeerExternal: 6}

func compareNodes(a, b *node) int {
	return cmp.Or(cmp.Compare(kindRank[a.Kind], kindRank[b.Kind]), cmp.Compare(a.ID, b.ID))
}

// analysis holds what Analyze and Explain share.
type analysis struct {
	opts  render.Options
	model *Model
	// workloads are the model's (Model.Workloads), computed once.
	workloads []Workload
	services  []serviceIntent
	nodes     []*node
	byID      map[string]*node
	nsLabels  map[string]map[string]string
	managed   map[string]bool
	engine    *engine
	declared  map[[2]string]Ports
	notes     []string
	// only is Options.Service: the one service the report is about, or "" for all.
	only string
}

// Analyze computes the effective connectivity of a Model (internal/netpol) and compares it
// with the intent of its PublicServices. It does not render anything: give it a live Model, or
// a Model from files after Rendered (AuditFiles does both). m is not modified.
func Analyze(m *Model, opts Options) (*Report, error) {
	a, err := newAnalysis(m, opts)
	if err != nil {
		return nil, err
	}
	return a.report()
}

func newAnalysis(m *Model, opts Options) (*analysis, error) {
	// The analysis never modifies an object (TestAnalyzeLeavesTheModelAlone), but it reads the
	// lists in order: a Model that is not sorted is sorted in a copy of its lists. Models from
	// ReadCluster, ReadNamespaces and Rendered are sorted already, and used as they are.
	model := m
	if !m.sorted() {
		model = m.clone()
		model.sort()
	}
	workloads := model.Workloads()
	nsLabels := model.namespaceLabels(workloads)
	a := &analysis{
		opts:      opts.Render.WithDefaults(),
		only:      opts.Service,
		model:     model,
		workloads: workloads,
		services:  resolveWith(model, nsLabels),
		byID:      map[string]*node{},
		nsLabels:  nsLabels,
		managed:   map[string]bool{},
		declared:  map[[2]string]Ports{},
		notes:     slices.Clone(model.Notes),
	}
	for _, si := range a.services {
		a.managed[si.key.Namespace] = true
	}
	a.buildNodes()
	var probed []Workload // the nodes' workloads, stand-ins included
	for _, n := range a.nodes {
		if n.workload != nil {
			probed = append(probed, *n.workload)
			if a.nsLabels[n.workload.Namespace] == nil {
				a.nsLabels[n.workload.Namespace] = map[string]string{corev1.LabelMetadataName: n.workload.Namespace}
			}
		}
	}
	e, err := newEngine(a.nsLabels, model.NetworkPolicies, probed)
	if err != nil {
		return nil, err
	}
	a.engine = e
	for _, n := range a.nodes {
		if n.workload != nil {
			n.index = e.index[n.workload.ID()]
		}
	}
	a.declare()
	return a, nil
}

func (a *analysis) add(n *node) {
	a.nodes = append(a.nodes, n)
	a.byID[n.ID] = n
}

// buildNodes decides who stands for what: the workload of each PublicService, the gateway and
// DNS pods (real ones when present, stand-ins otherwise), the other workloads, the zones, and
// the {any-pod} and {external} probes.
func (a *analysis) buildNodes() {
	workloads := a.workloads
	used := a.serviceNodes(workloads)
	a.roleNodes(workloads, used)
	anyPod := &Workload{Kind: kindPod, Namespace: anyPodNamespace, Name: AnyPodID, Virtual: true}
	a.add(&node{Peer: Peer{ID: AnyPodID, Kind: PeerAnyPod, Namespace: anyPodNamespace, Virtual: true,
		Description: "any other pod: no labels, in a namespace no policy names"}, workload: anyPod})
	a.zoneNodes()
	slices.SortFunc(a.nodes, compareNodes)
}

// serviceNodes adds a node per PublicService: the workload whose pods carry its selector
// labels (its Deployment first), or the pod template the operator renders. It returns the
// workloads it used.
func (a *analysis) serviceNodes(workloads []Workload) map[string]bool {
	used := map[string]bool{}
	for i := range a.services {
		si := &a.services[i]
		sel := labels.SelectorFromSet(render.SelectorLabels(si.key.Name))
		var chosen *Workload
		var others []string
		for j := range workloads {
			w := &workloads[j]
			if w.Namespace != si.key.Namespace || !sel.Matches(labels.Set(w.Labels)) || used[w.ID()] {
				continue
			}
			switch {
			case chosen == nil:
				chosen = w
			case w.Kind == kindDeployment && w.Name == si.key.Name && (chosen.Kind != kindDeployment || chosen.Name != si.key.Name):
				others, chosen = append(others, chosen.ID()), w
			default:
				others = append(others, w.ID())
			}
		}
		if chosen == nil {
			chosen = a.standInFor(si)
			a.notes = append(a.notes, fmt.Sprintf("PublicService %s has no workload yet: the audit uses the pod template the operator renders", si.key))
		} else {
			used[chosen.ID()] = true
		}
		if len(others) > 0 {
			slices.Sort(others)
			a.notes = append(a.notes, fmt.Sprintf("PublicService %s: %s also carry its pod labels (%s), so its policies apply to them too",
				si.key, strings.Join(others, ", "), labels.Set(render.SelectorLabels(si.key.Name))))
		}
		a.add(&node{
			Peer: Peer{ID: si.key.String(), Kind: PeerService, Namespace: si.key.Namespace, Name: si.key.Name, Workload: chosen.ID(),
				Virtual: chosen.Virtual, Description: fmt.Sprintf("PublicService (%s, %s)", si.spec.Profile, si.spec.Exposure.Mode)},
			workload: chosen,
			service:  si,
		})
	}
	return used
}

// roleNodes adds the gateway and DNS nodes, and a node per other workload.
func (a *analysis) roleNodes(workloads []Workload, used map[string]bool) {
	dnsSel := labels.SelectorFromSet(a.opts.DNSPodLabels)
	var dns, gateways, rest []*Workload
	for j := range workloads {
		w := &workloads[j]
		switch {
		case used[w.ID()]:
		case w.Namespace == a.opts.DNSNamespace && dnsSel.Matches(labels.Set(w.Labels)):
			dns = append(dns, w)
		case w.Namespace == a.opts.IngressControllerNamespace:
			gateways = append(gateways, w)
		default:
			rest = append(rest, w)
		}
	}
	// The first DNS workload and the first workload of the gateway's namespace stand for
	// {dns} and {gateway}, so that reports name them alike whether or not the pods exist
	// (a cluster, manifests); stand-in pods are made up when there are none.
	if len(dns) == 0 {
		dns = append(dns, &Workload{Kind: kindPod, Namespace: a.opts.DNSNamespace, Name: DNSID, Labels: maps.Clone(a.opts.DNSPodLabels), Virtual: true,
			Ports: []corev1.ContainerPort{
				{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
				{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
			}})
	}
	for i, w := range dns {
		p := Peer{ID: w.ID(), Kind: PeerDNS, Namespace: w.Namespace, Name: w.Name, Workload: w.ID(), Description: "cluster DNS"}
		if i == 0 {
			p.ID, p.Name, p.Description = DNSID, "", fmt.Sprintf("cluster DNS: pods labelled %s in namespace %s", labels.Set(a.opts.DNSPodLabels), w.Namespace)
		}
		if w.Virtual {
			p.Workload, p.Virtual = "", true
		}
		a.add(&node{Peer: p, workload: w})
	}
	if len(gateways) == 0 {
		gateways = append(gateways, &Workload{Kind: kindPod, Namespace: a.opts.IngressControllerNamespace, Name: GatewayID, Virtual: true})
	}
	for i, w := range gateways {
		p := Peer{ID: w.ID(), Kind: PeerGateway, Namespace: w.Namespace, Name: w.Name, Workload: w.ID(), Description: "in the gateway or ingress controller's namespace"}
		if i == 0 {
			p.ID, p.Name, p.Description = GatewayID, "", "gateway or ingress controller: the pods of namespace "+w.Namespace
		}
		if w.Virtual {
			p.Workload, p.Virtual = "", true
		}
		a.add(&node{Peer: p, workload: w})
	}
	for _, w := range rest {
		a.add(&node{Peer: Peer{ID: w.ID(), Kind: PeerWorkload, Namespace: w.Namespace, Name: w.Name, Workload: w.ID(), Description: w.Kind}, workload: w})
	}
}

// zoneNodes adds a node per NetworkZone and {external}, every address outside the zones.
func (a *analysis) zoneNodes() {
	zones := netset.NewIPBlock()
	for i := range a.model.NetworkZones {
		z := &a.model.NetworkZones[i]
		block, skipped := zoneBlock(z)
		if len(skipped) > 0 {
			a.notes = append(a.notes, fmt.Sprintf("NetworkZone %s: %s not audited (the audit handles IPv4 addresses only)", z.Name, strings.Join(skipped, ", ")))
		}
		if block.IsEmpty() {
			a.notes = append(a.notes, fmt.Sprintf("NetworkZone %s has no address the audit can check", z.Name))
			continue
		}
		zones = zones.Union(block)
		desc := z.Spec.Description
		if z.Spec.Provider != "" {
			desc = strings.TrimSpace(desc + " (provider " + z.Spec.Provider + ")")
		}
		a.add(&node{Peer: Peer{ID: ZonePrefix + z.Name, Kind: PeerZone, Name: z.Name, CIDRs: slices.Clone(z.Spec.CIDRs),
			Except: slices.Clone(z.Spec.Except), Description: desc}, block: block})
	}
	if outside := netset.GetCidrAll().Subtract(zones); !outside.IsEmpty() {
		a.add(&node{Peer: Peer{ID: ExternalID, Kind: PeerExternal, Virtual: true,
			Description: "every IPv4 address outside the NetworkZones (for example " + ExternalProbeAddress + ")"}, block: outside})
	}
}

// standInFor is the workload that stands for a PublicService whose pods do not exist yet: the
// pod template the operator renders.
func (a *analysis) standInFor(si *serviceIntent) *Workload {
	w := &Workload{Kind: "PublicService", Namespace: si.key.Namespace, Name: si.key.Name, Labels: render.Labels(si.svc), Virtual: true}
	w.Ports = []corev1.ContainerPort{{Name: render.PortName, ContainerPort: *si.spec.Port, Protocol: corev1.ProtocolTCP}}
	return w
}

// zoneBlock returns a zone's IPv4 addresses (cidrs without except), and the entries it skipped.
func zoneBlock(z *platformv1alpha1.NetworkZone) (*netset.IPBlock, []string) {
	block := netset.NewIPBlock()
	var skipped []string
	for _, c := range z.Spec.CIDRs {
		b, err := netset.IPBlockFromCidr(c)
		if err != nil {
			skipped = append(skipped, c)
			continue
		}
		block = block.Union(b)
	}
	for _, e := range z.Spec.Except {
		b, err := netset.IPBlockFromCidr(e)
		if err != nil {
			skipped = append(skipped, "except "+e)
			continue
		}
		block = block.Subtract(b)
	}
	return block, skipped
}

var dnsPorts = netpol.PortsOf(corev1.ProtocolUDP, 53).Union(netpol.PortsOf(corev1.ProtocolTCP, 53))

// declare records the flows the PublicServices declare, after consent: what their rendered
// policies are meant to allow.
func (a *analysis) declare() {
	add := func(from, to string, ps Ports) {
		if a.byID[from] == nil || a.byID[to] == nil || ps.Empty() {
			return
		}
		k := [2]string{from, to}
		a.declared[k] = a.declared[k].Union(ps)
	}
	for _, si := range a.services {
		self := si.key.String()
		for _, p := range si.flows.IngressServices {
			add(p.Key(), self, netpol.PortsOf(corev1.ProtocolTCP, p.Port))
		}
		for _, p := range si.flows.EgressServices {
			add(self, p.Key(), netpol.PortsOf(corev1.ProtocolTCP, p.Port))
		}
		for _, z := range si.flows.IngressZones {
			add(ZonePrefix+z.Name, self, netpol.PortsOf(corev1.ProtocolTCP, z.Ports...))
		}
		for _, z := range si.flows.EgressZones {
			add(self, ZonePrefix+z.Name, netpol.PortsOf(corev1.ProtocolTCP, z.Ports...))
		}
		for _, n := range a.nodes {
			switch {
			case n.Kind == PeerGateway && si.flows.IngressGateway:
				add(n.ID, self, netpol.PortsOf(corev1.ProtocolTCP, *si.spec.Port))
			case n.Kind == PeerDNS:
				add(self, n.ID, dnsPorts)
			}
		}
	}
}

// flow computes the effective connectivity from one node to another. For an address peer,
// full holds for all its addresses and some for at least one.
func (a *analysis) flow(from, to *node) (full, some Ports) {
	switch {
	case from.workload != nil && to.workload != nil:
		full = a.engine.workloadConns(from.index, to.index)
		return full, full
	case from.block != nil && to.workload != nil:
		return a.engine.reach(from.block, to.index, true)
	case from.workload != nil && to.block != nil:
		return a.engine.reach(to.block, from.index, false)
	}
	return nil, nil
}

// concerns reports whether the flow from one node to another belongs in the report: always,
// unless the report is restricted to one service that is neither end.
func (a *analysis) concerns(from, to *node) bool {
	return a.only == "" || from.ID == a.only || to.ID == a.only
}

func (a *analysis) report() (*Report, error) {
	r := &Report{ManagedNamespaces: slices.Sorted(maps.Keys(a.managed)), Peers: make([]Peer, 0, len(a.nodes)), Flows: []Flow{},
		Services: []ServiceSummary{}, Violations: []Violation{}}
	if r.ManagedNamespaces == nil {
		r.ManagedNamespaces = []string{}
	}
	for _, n := range a.nodes {
		r.Peers = append(r.Peers, n.Peer)
	}
	declared := make(map[[2]*node]Ports, len(a.declared))
	for k, ps := range a.declared {
		declared[[2]*node{a.byID[k[0]], a.byID[k[1]]}] = ps
	}
	for _, from := range a.nodes {
		for _, to := range a.nodes {
			if from == to || (from.Kind != PeerService && to.Kind != PeerService) || !a.concerns(from, to) {
				continue
			}
			full, some := a.flow(from, to)
			declared := declared[[2]*node{from, to}]
			if some.Empty() && declared.Empty() {
				continue
			}
			f := Flow{From: from.ID, To: to.ID, Allowed: full, Partly: some.Subtract(full), Declared: declared,
				Extra: some.Subtract(declared), Missing: declared.Subtract(full)}
			r.Flows = append(r.Flows, f)
			if !f.Extra.Empty() {
				r.Violations = append(r.Violations, a.tooOpen(f, from, to))
			}
			if !f.Missing.Empty() {
				r.Violations = append(r.Violations, a.tooClosed(f, from, to))
			}
		}
	}
	byService := map[string][]Flow{} // for the services summarized below
	for _, f := range r.Flows {
		if a.only == "" || f.From == a.only {
			byService[f.From] = append(byService[f.From], f)
		}
		if f.To != f.From && (a.only == "" || f.To == a.only) {
			byService[f.To] = append(byService[f.To], f)
		}
	}
	for _, si := range a.services {
		if a.only == "" || a.only == si.key.String() {
			r.Services = append(r.Services, summarize(si.key, a.byID[si.key.String()].Workload, byService[si.key.String()]))
		}
	}
	r.Violations = append(r.Violations, a.unisolated()...)
	r.Violations = append(r.Violations, a.oneSided()...)
	if a.only != "" {
		r.Violations = slices.DeleteFunc(r.Violations, func(v Violation) bool { return v.Service != a.only })
	}
	slices.SortStableFunc(r.Violations, func(x, y Violation) int {
		return cmp.Or(cmp.Compare(violationRank[x.Kind], violationRank[y.Kind]), cmp.Compare(x.Service, y.Service),
			cmp.Compare(x.Workload, y.Workload), cmp.Compare(x.From, y.From), cmp.Compare(x.To, y.To), cmp.Compare(x.Message, y.Message))
	})
	r.Notes = slices.Clone(a.notes)
	slices.Sort(r.Notes)
	r.Notes = slices.Compact(r.Notes)
	return r, nil
}

// concerned names the PublicService a flow's violation is about: the destination when it is
// one (its ingress), otherwise the source (its egress).
func concerned(from, to *node) string {
	if to.Kind == PeerService {
		return to.ID
	}
	return from.ID
}

func (a *analysis) tooOpen(f Flow, from, to *node) Violation {
	var msg string
	if f.Declared.Empty() {
		msg = fmt.Sprintf("%s can reach %s on %s, which no PublicService declares", from.ID, to.ID, f.Extra)
	} else {
		msg = fmt.Sprintf("%s can reach %s on %s, beyond the declared %s", from.ID, to.ID, f.Extra, f.Declared)
	}
	if !f.Allowed.Contains(f.Extra) {
		msg += " (from or to part of its addresses)"
	}
	return Violation{Kind: TooOpen, Service: concerned(from, to), From: from.ID, To: to.ID, Ports: f.Extra, Message: msg}
}

func (a *analysis) tooClosed(f Flow, from, to *node) Violation {
	var why string
	switch {
	case from.Kind == PeerService && to.Kind == PeerService:
		why = fmt.Sprintf("%s consumes %s and %s admits it", from.ID, to.ID, to.ID)
	case from.Kind == PeerGateway:
		why = fmt.Sprintf("%s is exposed publicly through the gateway or ingress controller", to.ID)
	case to.Kind == PeerDNS:
		why = "every service may query the cluster DNS"
	case from.Kind == PeerZone:
		why = fmt.Sprintf("%s admits the zone and the zone admits namespace %s", to.ID, to.Namespace)
	case to.Kind == PeerZone:
		why = fmt.Sprintf("%s declares egressTo the zone and the zone admits namespace %s", from.ID, from.Namespace)
	default:
		why = "it is declared"
	}
	msg := fmt.Sprintf("%s cannot reach %s on %s, although %s", from.ID, to.ID, f.Missing, why)
	if !f.Missing.Intersect(f.Partly).Empty() {
		msg = fmt.Sprintf("only part of the addresses can reach: %s", msg)
	}
	return Violation{Kind: TooClosed, Service: concerned(from, to), From: from.ID, To: to.ID, Ports: f.Missing, Message: msg}
}

// summarize compares one service's flows (those from or to it) with its intent.
func summarize(key types.NamespacedName, workload string, flows []Flow) ServiceSummary {
	s := ServiceSummary{Service: key.String(), Namespace: key.Namespace, Name: key.Name, Workload: workload,
		Ingress: []PeerPorts{}, Egress: []PeerPorts{}, IntendedIngress: []PeerPorts{}, IntendedEgress: []PeerPorts{}}
	id := key.String()
	for _, f := range flows {
		var peer string
		var eff, intended, extra, missing *[]PeerPorts
		switch id {
		case f.To:
			peer, eff, intended, extra, missing = f.From, &s.Ingress, &s.IntendedIngress, &s.ExtraIngress, &s.MissingIngress
		case f.From:
			peer, eff, intended, extra, missing = f.To, &s.Egress, &s.IntendedEgress, &s.ExtraEgress, &s.MissingEgress
		default:
			continue
		}
		if !f.Allowed.Empty() || !f.Partly.Empty() {
			*eff = append(*eff, PeerPorts{Peer: peer, Ports: f.Allowed, Partly: f.Partly})
		}
		if !f.Declared.Empty() {
			*intended = append(*intended, PeerPorts{Peer: peer, Ports: f.Declared})
		}
		if !f.Extra.Empty() {
			*extra = append(*extra, PeerPorts{Peer: peer, Ports: f.Extra})
		}
		if !f.Missing.Empty() {
			*missing = append(*missing, PeerPorts{Peer: peer, Ports: f.Missing})
		}
	}
	s.Verified = len(s.ExtraIngress)+len(s.MissingIngress)+len(s.ExtraEgress)+len(s.MissingEgress) == 0
	return s
}

// unisolated lists the workloads of managed namespaces that no NetworkPolicy selects for
// ingress or for egress.
func (a *analysis) unisolated() []Violation {
	var out []Violation
	for _, n := range a.nodes {
		w := n.workload
		if w == nil || w.Virtual || !a.managed[w.Namespace] {
			continue
		}
		in, eg := a.engine.Isolated(n.index, networkingv1.PolicyTypeIngress), a.engine.Isolated(n.index, networkingv1.PolicyTypeEgress)
		var msg string
		switch {
		case !in && !eg:
			msg = "no NetworkPolicy selects its pods for ingress or egress: anything can reach them and they can reach anything"
		case !in:
			msg = "no NetworkPolicy selects its pods for ingress: anything can reach them"
		case !eg:
			msg = "no NetworkPolicy selects its pods for egress: they can reach anything"
		default:
			continue
		}
		svc := ""
		if n.Kind == PeerService {
			svc = n.ID
		}
		out = append(out, Violation{Kind: Unisolated, Service: svc, Workload: w.ID(),
			Message: fmt.Sprintf("%s %s/%s in managed namespace %s: %s", w.Kind, w.Namespace, w.Name, w.Namespace, msg)})
	}
	return out
}

// oneSided lists declarations without their other side.
func (a *analysis) oneSided() []Violation {
	byKey := map[types.NamespacedName]*serviceIntent{}
	for i := range a.services {
		byKey[a.services[i].key] = &a.services[i]
	}
	var out []Violation
	for _, si := range a.services {
		self := si.key
		for _, c := range si.spec.Consumes {
			key := types.NamespacedName{Namespace: c.Namespace, Name: c.Service}
			provider, ok := byKey[key]
			switch {
			case !ok:
				out = append(out, Violation{Kind: OneSided, Service: self.String(), From: self.String(), To: key.String(),
					Message: fmt.Sprintf("%s consumes %s, which does not exist", self, key)})
			case !intent.Admits(provider.svc, self):
				out = append(out, Violation{Kind: OneSided, Service: self.String(), From: self.String(), To: key.String(),
					Message: fmt.Sprintf("%s consumes %s, but %s's allowFrom does not admit it (consent missing): its calls are denied", self, key, key)})
			}
		}
		for _, af := range si.spec.AllowFrom {
			if af.Service == "" {
				continue
			}
			key := types.NamespacedName{Namespace: af.Namespace, Name: af.Service}
			consumer, ok := byKey[key]
			switch {
			case !ok:
				out = append(out, Violation{Kind: OneSided, Service: self.String(), From: key.String(), To: self.String(),
					Message: fmt.Sprintf("%s admits %s in allowFrom, which does not exist", self, key)})
			case !intent.Consumes(consumer.svc, self):
				out = append(out, Violation{Kind: OneSided, Service: self.String(), From: key.String(), To: self.String(),
					Message: fmt.Sprintf("%s admits %s in allowFrom, but %s does not consume it", self, key, key)})
			}
		}
		for _, p := range si.flows.Problems {
			if p.Reason != platformv1alpha1.ReasonZoneNotFound && p.Reason != platformv1alpha1.ReasonZoneNotAllowed {
				continue // service problems are reported above, from both sides
			}
			out = append(out, Violation{Kind: OneSided, Service: self.String(), Message: fmt.Sprintf("%s: %s (%s)", self, p.Message, p.Reason)})
		}
	}
	return out
}
