package netpol

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/np-guard/models/pkg/netset"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Workload is a set of pods that share one template: what the engine selects and connects.
type Workload struct {
	// ID names the workload in results ("namespace/name[Kind]").
	ID        string
	Namespace string
	// Labels are the labels of the pods.
	Labels map[string]string
	// Ports are the container ports of the pods; named ports in rules resolve to them.
	Ports []corev1.ContainerPort
}

// Peer is one end of a connection: a workload (by its index in the engine's workloads) or,
// when Block is set, a set of addresses outside the cluster.
type Peer struct {
	Workload int
	Block    *netset.IPBlock
}

// WorkloadPeer is the peer of the i-th workload.
func WorkloadPeer(i int) Peer { return Peer{Workload: i} }

// BlockPeer is the peer of a set of addresses.
func BlockPeer(b *netset.IPBlock) Peer { return Peer{Block: b} }

// Engine answers which connections the NetworkPolicies allow between workloads and addresses.
// It is built once (New) and read by any number of goroutines.
type Engine struct {
	workloads []Workload
	policies  []policy
	// ingress and egress are, per workload, what its own policies say about each direction.
	ingress, egress []side
	// srcBlocks split the address space where ingress rules tell addresses apart, dstBlocks
	// where egress rules do; each list covers every IPv4 address once.
	srcBlocks, dstBlocks []*netset.IPBlock
}

// policy is one NetworkPolicy with its rules resolved.
type policy struct {
	name             string // namespace/name
	ingress, egress  []rule
	isolatesIngress  bool
	isolatesEgress   bool
	selectedWorkload bitset
}

// rule is one ingress or egress rule with its peers resolved against the workloads.
type rule struct {
	// any is a rule without peers: every pod and every address.
	any bool
	// pods are the workloads its pod and namespace selectors match.
	pods bitset
	// block holds the addresses of its ipBlock peers (nil when it has none); blocks are those
	// of each peer, whose boundaries split the address space.
	block  *netset.IPBlock
	blocks []*netset.IPBlock
	// allPorts is a rule without ports; otherwise ports holds its numbered ports and named
	// its named ones, which resolve against the destination's container ports.
	allPorts bool
	ports    Ports
	named    []namedPort
}

type namedPort struct {
	name     string
	protocol corev1.Protocol
}

// side is what a workload's own policies say about one direction.
type side struct {
	// policies select the workload for this direction, which isolates it when there is one.
	policies []int
	rules    []*rule
	// peers are the workloads at least one rule matches; anyPeer when a rule has no peers.
	peers   bitset
	anyPeer bool
}

func (s *side) isolated() bool { return len(s.policies) > 0 }

// New indexes the policies and workloads. namespaces holds the labels of every namespace
// (with kubernetes.io/metadata.name); a workload's namespace that it does not hold has only
// that label. It fails on a policy the API server would refuse (a selector that does not
// parse, an invalid ipBlock, a rule peer that is empty or mixes ipBlock with selectors).
func New(namespaces map[string]map[string]string, policies []networkingv1.NetworkPolicy, workloads []Workload) (*Engine, error) {
	idx := newIndex(namespaces, workloads)
	e := &Engine{workloads: workloads, ingress: make([]side, len(workloads)), egress: make([]side, len(workloads))}
	var srcBlocks, dstBlocks []*netset.IPBlock
	for i := range policies {
		np := &policies[i]
		p, err := idx.policy(np)
		if err != nil {
			return nil, fmt.Errorf("NetworkPolicy %s/%s: %w", np.Namespace, np.Name, err)
		}
		e.policies = append(e.policies, p)
		for _, r := range p.ingress {
			for _, b := range r.blocks {
				srcBlocks = append(srcBlocks, b.Split()...)
			}
		}
		for _, r := range p.egress {
			for _, b := range r.blocks {
				dstBlocks = append(dstBlocks, b.Split()...)
			}
		}
	}
	for pi := range e.policies {
		p := &e.policies[pi]
		p.selectedWorkload.each(func(w int) {
			if p.isolatesIngress {
				e.ingress[w].add(pi, p.ingress, len(workloads))
			}
			if p.isolatesEgress {
				e.egress[w].add(pi, p.egress, len(workloads))
			}
		})
	}
	e.srcBlocks = disjoint(srcBlocks)
	e.dstBlocks = disjoint(dstBlocks)
	return e, nil
}

func (s *side) add(pi int, rules []rule, n int) {
	s.policies = append(s.policies, pi)
	if s.peers == nil {
		s.peers = newBitset(n)
	}
	for i := range rules {
		r := &rules[i]
		s.rules = append(s.rules, r)
		if r.any {
			s.anyPeer = true
		} else {
			s.peers.or(r.pods)
		}
	}
}

// disjoint splits the whole address space at every boundary of the blocks, as
// netpol-analyzer does: the result holds every address once, and each of its blocks lies
// inside or outside each of the given ones.
func disjoint(blocks []*netset.IPBlock) []*netset.IPBlock {
	out := netset.DisjointIPBlocks(blocks, []*netset.IPBlock{netset.GetCidrAll()})
	slices.SortFunc(out, func(a, b *netset.IPBlock) int { return a.Compare(b) })
	return out
}

// Workloads returns the workloads the engine was built with.
func (e *Engine) Workloads() []Workload { return e.workloads }

// SourceBlocks are the address blocks that ingress rules tell apart: every address of one
// block gets the same answer as a source. DestinationBlocks are those of egress rules.
func (e *Engine) SourceBlocks() []*netset.IPBlock { return e.srcBlocks }

// DestinationBlocks are the address blocks that egress rules tell apart.
func (e *Engine) DestinationBlocks() []*netset.IPBlock { return e.dstBlocks }

// Allowed returns the connections allowed from src to dst: what the egress policies of src
// allow towards dst and the ingress policies of dst allow from src. A workload that no policy
// selects for a direction is open in that direction; addresses have no policies. For a block,
// the answer holds when the block lies within one of SourceBlocks (or DestinationBlocks).
func (e *Engine) Allowed(src, dst Peer) Ports {
	if src.Block != nil && dst.Block != nil {
		return nil
	}
	eg := AllPorts()
	if src.Block == nil {
		eg = e.allowedBy(&e.egress[src.Workload], dst, dst)
		if eg.Empty() {
			return nil
		}
	}
	in := AllPorts()
	if dst.Block == nil {
		in = e.allowedBy(&e.ingress[dst.Workload], src, dst)
	}
	return eg.Intersect(in)
}

// MayConnect reports whether anything at all may be allowed between two workloads; it is
// cheap and never wrong when it says false.
func (e *Engine) MayConnect(src, dst int) bool {
	eg, in := &e.egress[src], &e.ingress[dst]
	return (!eg.isolated() || eg.anyPeer || eg.peers.has(dst)) && (!in.isolated() || in.anyPeer || in.peers.has(src))
}

// allowedBy returns what one side's policies allow with the peer other; dst is the
// destination of the connection, whose container ports resolve named ports.
func (e *Engine) allowedBy(s *side, other, dst Peer) Ports {
	if !s.isolated() {
		return AllPorts()
	}
	if other.Block == nil && !s.anyPeer && !s.peers.has(other.Workload) {
		return nil
	}
	var out Ports
	for _, r := range s.rules {
		if r.matches(other) {
			out = out.Union(e.rulePorts(r, dst))
		}
	}
	return out
}

// Isolated reports whether a policy selects the i-th workload for a direction.
func (e *Engine) Isolated(i int, dir networkingv1.PolicyType) bool {
	return e.sideOf(i, dir).isolated()
}

// Selecting returns the names ("namespace/name") of the policies that select the i-th
// workload for a direction, in the order they were given.
func (e *Engine) Selecting(i int, dir networkingv1.PolicyType) []string {
	s := e.sideOf(i, dir)
	out := make([]string, 0, len(s.policies))
	for _, pi := range s.policies {
		out = append(out, e.policies[pi].name)
	}
	return out
}

// AllowedByPolicy returns what the rules of one policy (by name) allow for a direction of
// the connection from src to dst: for Ingress, from src into dst; for Egress, from src to
// dst. It says nothing about whether the policy selects the workload.
func (e *Engine) AllowedByPolicy(name string, dir networkingv1.PolicyType, src, dst Peer) Ports {
	other := dst
	if dir == networkingv1.PolicyTypeIngress {
		other = src
	}
	var out Ports
	for i := range e.policies {
		p := &e.policies[i]
		if p.name != name {
			continue
		}
		rules := p.egress
		if dir == networkingv1.PolicyTypeIngress {
			rules = p.ingress
		}
		for j := range rules {
			if rules[j].matches(other) {
				out = out.Union(e.rulePorts(&rules[j], dst))
			}
		}
	}
	return out
}

func (e *Engine) sideOf(i int, dir networkingv1.PolicyType) *side {
	if dir == networkingv1.PolicyTypeIngress {
		return &e.ingress[i]
	}
	return &e.egress[i]
}

// matches reports whether a rule's peers include a peer: a workload by its selectors, a block
// when it lies within the rule's ipBlocks.
func (r *rule) matches(p Peer) bool {
	switch {
	case r.any:
		return true
	case p.Block != nil:
		return r.block != nil && p.Block.IsSubset(r.block)
	default:
		return r.pods != nil && r.pods.has(p.Workload)
	}
}

// rulePorts returns the ports a rule allows towards dst. A named port resolves to the
// destination's container port of that name when its protocol is the rule's (TCP when
// unset, on both sides); addresses have no named ports.
func (e *Engine) rulePorts(r *rule, dst Peer) Ports {
	if r.allPorts {
		return AllPorts()
	}
	if len(r.named) == 0 || dst.Block != nil {
		return r.ports
	}
	out := r.ports
	for _, n := range r.named {
		for _, cp := range e.workloads[dst.Workload].Ports {
			if cp.Name != n.name {
				continue
			}
			if cmp.Or(cp.Protocol, corev1.ProtocolTCP) == n.protocol {
				out = out.Union(PortsOf(n.protocol, cp.ContainerPort))
			}
			break
		}
	}
	return out
}

// index groups workloads by namespace and label identity (workloads of one namespace with the
// same labels are selected alike), and remembers what each selector matched.
type index struct {
	n          int
	namespaces map[string]labels.Set
	// identities are, per namespace, the distinct label sets with their workloads.
	identities map[string][]identity
	nsNames    []string
	nsCache    map[string][]string
	podCache   map[string]bitset
}

type identity struct {
	labels    labels.Set
	workloads []int
}

func newIndex(namespaces map[string]map[string]string, workloads []Workload) *index {
	idx := &index{n: len(workloads), namespaces: map[string]labels.Set{}, identities: map[string][]identity{},
		nsCache: map[string][]string{}, podCache: map[string]bitset{}}
	for ns, l := range namespaces {
		idx.namespaces[ns] = labels.Set(l)
	}
	byKey := map[string]int{} // namespace + labels → position in identities[namespace]
	for i, w := range workloads {
		if _, ok := idx.namespaces[w.Namespace]; !ok {
			idx.namespaces[w.Namespace] = labels.Set{corev1.LabelMetadataName: w.Namespace}
		}
		key := w.Namespace + "\x00" + labels.Set(w.Labels).String()
		pos, ok := byKey[key]
		if !ok {
			pos = len(idx.identities[w.Namespace])
			byKey[key] = pos
			idx.identities[w.Namespace] = append(idx.identities[w.Namespace], identity{labels: labels.Set(maps.Clone(w.Labels))})
		}
		idx.identities[w.Namespace][pos].workloads = append(idx.identities[w.Namespace][pos].workloads, i)
	}
	idx.nsNames = slices.Sorted(maps.Keys(idx.identities))
	return idx
}

// selectNamespaces returns the namespaces holding workloads whose labels a selector matches.
func (idx *index) selectNamespaces(sel *metav1.LabelSelector) ([]string, error) {
	s, key, err := compileSelector(sel)
	if err != nil {
		return nil, err
	}
	if out, ok := idx.nsCache[key]; ok {
		return out, nil
	}
	var out []string
	for _, ns := range idx.nsNames {
		if s.Matches(idx.namespaces[ns]) {
			out = append(out, ns)
		}
	}
	idx.nsCache[key] = out
	return out, nil
}

// selectPods returns the workloads of a namespace whose labels a selector matches (every one
// for a nil selector). The result is shared: do not modify it.
func (idx *index) selectPods(ns string, sel *metav1.LabelSelector) (bitset, error) {
	s, canonical := labels.Everything(), ""
	if sel != nil {
		var err error
		if s, canonical, err = compileSelector(sel); err != nil {
			return nil, err
		}
	}
	key := ns + "\x00" + canonical
	if out, ok := idx.podCache[key]; ok {
		return out, nil
	}
	out := newBitset(idx.n)
	for _, id := range idx.identities[ns] {
		if s.Matches(id.labels) {
			for _, w := range id.workloads {
				out.set(w)
			}
		}
	}
	idx.podCache[key] = out
	return out, nil
}

// policy resolves a NetworkPolicy: the workloads it selects, its directions and its rules.
func (idx *index) policy(np *networkingv1.NetworkPolicy) (policy, error) {
	p := policy{name: np.Namespace + "/" + np.Name}
	types := np.Spec.PolicyTypes
	if len(types) == 0 {
		// The API server's default: Ingress, and Egress when there are egress rules.
		types = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(np.Spec.Egress) > 0 {
			types = append(types, networkingv1.PolicyTypeEgress)
		}
	}
	p.isolatesIngress = slices.Contains(types, networkingv1.PolicyTypeIngress)
	p.isolatesEgress = slices.Contains(types, networkingv1.PolicyTypeEgress)
	selected, err := idx.selectPods(np.Namespace, &np.Spec.PodSelector)
	if err != nil {
		return p, fmt.Errorf("podSelector: %w", err)
	}
	p.selectedWorkload = selected
	p.ingress = make([]rule, 0, len(np.Spec.Ingress))
	p.egress = make([]rule, 0, len(np.Spec.Egress))
	for i, r := range np.Spec.Ingress {
		rr, err := idx.rule(np.Namespace, r.From, r.Ports)
		if err != nil {
			return p, fmt.Errorf("ingress rule %d: %w", i, err)
		}
		p.ingress = append(p.ingress, rr)
	}
	for i, r := range np.Spec.Egress {
		rr, err := idx.rule(np.Namespace, r.To, r.Ports)
		if err != nil {
			return p, fmt.Errorf("egress rule %d: %w", i, err)
		}
		p.egress = append(p.egress, rr)
	}
	return p, nil
}

// rule resolves the peers and ports of a rule of a policy of namespace ns.
func (idx *index) rule(ns string, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) (rule, error) {
	r := rule{any: len(peers) == 0, allPorts: len(ports) == 0}
	for _, peer := range peers {
		switch {
		case peer.IPBlock != nil && (peer.PodSelector != nil || peer.NamespaceSelector != nil):
			return r, fmt.Errorf("a peer has an ipBlock and a selector")
		case peer.IPBlock != nil:
			b, err := ipBlock(peer.IPBlock)
			if err != nil {
				return r, err
			}
			if r.block == nil {
				r.block = netset.NewIPBlock()
			}
			r.block = r.block.Union(b)
			r.blocks = append(r.blocks, b)
		case peer.PodSelector == nil && peer.NamespaceSelector == nil:
			return r, fmt.Errorf("a peer has neither an ipBlock nor a selector")
		default:
			if r.pods == nil {
				r.pods = newBitset(idx.n)
			}
			if err := idx.addPeerPods(r.pods, ns, peer); err != nil {
				return r, err
			}
		}
	}
	for _, p := range ports {
		if err := r.addPort(p); err != nil {
			return r, err
		}
	}
	return r, nil
}

// addPeerPods adds the workloads a selector peer matches: podSelector within the policy's
// namespace, or within the namespaces namespaceSelector matches.
func (idx *index) addPeerPods(out bitset, ns string, peer networkingv1.NetworkPolicyPeer) error {
	namespaces := []string{ns}
	if peer.NamespaceSelector != nil {
		var err error
		if namespaces, err = idx.selectNamespaces(peer.NamespaceSelector); err != nil {
			return fmt.Errorf("namespaceSelector: %w", err)
		}
	}
	for _, n := range namespaces {
		pods, err := idx.selectPods(n, peer.PodSelector)
		if err != nil {
			return fmt.Errorf("podSelector: %w", err)
		}
		out.or(pods)
	}
	return nil
}

func ipBlock(b *networkingv1.IPBlock) (*netset.IPBlock, error) {
	out, err := netset.IPBlockFromCidr(b.CIDR)
	if err != nil {
		return nil, fmt.Errorf("ipBlock %s: %w", b.CIDR, err)
	}
	if out, err = out.ExceptCidrs(b.Except...); err != nil {
		return nil, fmt.Errorf("ipBlock %s: %w", b.CIDR, err)
	}
	return out, nil
}

// addPort adds one port of a rule: every port of the protocol without a port, a range with
// endPort, or a named port.
func (r *rule) addPort(p networkingv1.NetworkPolicyPort) error {
	proto := corev1.ProtocolTCP
	if p.Protocol != nil {
		proto = *p.Protocol
	}
	if protocolRank(proto) == len(protocols) {
		return fmt.Errorf("unknown protocol %q", proto)
	}
	switch {
	case p.Port == nil:
		r.ports = r.ports.Union(Ports{{Protocol: proto, From: minPort, To: maxPort}})
	case p.Port.Type == intstr.String:
		if p.EndPort != nil {
			return fmt.Errorf("named port %q with endPort", p.Port.StrVal)
		}
		r.named = append(r.named, namedPort{name: p.Port.StrVal, protocol: proto})
	default:
		to := p.Port.IntVal
		if p.EndPort != nil {
			to = *p.EndPort
		}
		if p.Port.IntVal < minPort || to > maxPort || to < p.Port.IntVal {
			return fmt.Errorf("invalid port range %d-%d", p.Port.IntVal, to)
		}
		r.ports = r.ports.Union(Ports{{Protocol: proto, From: p.Port.IntVal, To: to}})
	}
	return nil
}
