package audit

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/np-guard/models/pkg/netset"
	"github.com/np-guard/netpol-analyzer/pkg/netpol/eval"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// engine answers "which connections does the NetworkPolicy semantics allow from A to B" with
// netpol-analyzer's policy engine (eval.PolicyEngine). Every workload enters the analyzer as
// one pod carrying its template's labels and container ports; addresses outside the cluster
// are the analyzer's own IP-block peers, which split the address space at every ipBlock and
// except of every policy, so that one answer holds for every address of a block.
//
// Connections are computed with AllAllowedConnectionsBetweenWorkloadPeers, never with
// CheckIfAllowed: the latter keeps a debug cache that writes a file into the working directory.
type engine struct {
	pe *eval.PolicyEngine
	// peers are the analyzer's workload peers by Workload.ID().
	peers map[string]eval.Peer
	// srcBlocks are the address blocks of ingress rules (as sources), dstBlocks those of
	// egress rules (as destinations); each list covers the whole IPv4 space.
	srcBlocks, dstBlocks []ipBlock
	log                  *noteLogger
}

// ipBlock is one of the analyzer's IP-block peers with its addresses.
type ipBlock struct {
	peer  eval.Peer
	block *netset.IPBlock
}

// ownedPodSuffix separates a workload's name from its kind in the name of the pod that stands
// for it in the analyzer; "@" never appears in a real pod name.
const ownedPodSuffix = "@"

// newEngine builds the analyzer's view of the world from namespaces (with their labels),
// NetworkPolicies and workloads.
func newEngine(namespaces map[string]map[string]string, policies []networkingv1.NetworkPolicy, workloads []Workload) (*engine, error) {
	log := &noteLogger{}
	pe, err := eval.NewPolicyEngineWithOptionsList(eval.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("failed to create the policy engine: %w", err)
	}
	names := make([]string, 0, len(namespaces))
	for ns := range namespaces {
		names = append(names, ns)
	}
	slices.Sort(names)
	for _, ns := range names {
		obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: namespaces[ns]}}
		if err := pe.InsertObject(obj); err != nil {
			return nil, fmt.Errorf("failed to add Namespace %s to the policy engine: %w", ns, err)
		}
	}
	for i := range policies {
		np := policies[i].DeepCopy() // the analyzer may default the namespace in place
		if err := pe.InsertObject(np); err != nil {
			return nil, fmt.Errorf("failed to add NetworkPolicy %s/%s to the policy engine: %w", np.Namespace, np.Name, err)
		}
	}
	for _, w := range workloads {
		if _, ok := namespaces[w.Namespace]; !ok {
			return nil, fmt.Errorf("workload %s is in namespace %s, which the audit does not know", w.ID(), w.Namespace)
		}
		if err := pe.InsertObject(standInPod(w)); err != nil {
			return nil, fmt.Errorf("failed to add workload %s to the policy engine: %w", w.ID(), err)
		}
	}
	e := &engine{pe: pe, peers: map[string]eval.Peer{}, log: log}
	if len(workloads) > 0 {
		peers, err := pe.GetWorkloadPeersList()
		if err != nil {
			return nil, fmt.Errorf("failed to list the policy engine's workloads: %w", err)
		}
		for _, p := range peers {
			e.peers[p.String()] = p
		}
		for _, w := range workloads {
			if _, ok := e.peers[w.ID()]; !ok {
				return nil, fmt.Errorf("the policy engine does not know workload %s", w.ID())
			}
		}
	}
	src, dst, _, err := pe.GetIPBlockPeersLists()
	if err != nil {
		return nil, fmt.Errorf("failed to list the address blocks of the policies: %w", err)
	}
	if e.srcBlocks, err = ipBlocks(src); err != nil {
		return nil, err
	}
	if e.dstBlocks, err = ipBlocks(dst); err != nil {
		return nil, err
	}
	return e, nil
}

// standInPod is the pod that represents a workload in the analyzer: the template's labels and
// container ports, owned (for every kind but Pod) by a controller of the workload's kind and
// name, so that the analyzer names it like the workload. The addresses are placeholders, as
// the analyzer's own manifest parser uses.
func standInPod(w Workload) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: w.Name, Namespace: w.Namespace, Labels: w.Labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "workload", Ports: w.Ports}}},
		Status:     corev1.PodStatus{HostIP: "127.0.0.1", PodIPs: []corev1.PodIP{{IP: "127.0.0.1"}}},
	}
	if w.Kind != kindPod {
		pod.Name = w.Name + ownedPodSuffix + w.Kind
		pod.OwnerReferences = []metav1.OwnerReference{{Kind: w.Kind, Name: w.Name, Controller: new(true)}}
	}
	return pod
}

func ipBlocks(peers []eval.Peer) ([]ipBlock, error) {
	out := make([]ipBlock, 0, len(peers))
	for _, p := range peers {
		b, ok := p.(interface{ GetPeerIPBlock() *netset.IPBlock })
		if !ok || b.GetPeerIPBlock() == nil {
			return nil, fmt.Errorf("the policy engine returned %s as an address block", p.String())
		}
		out = append(out, ipBlock{peer: p, block: b.GetPeerIPBlock()})
	}
	slices.SortFunc(out, func(a, b ipBlock) int { return a.block.Compare(b.block) })
	return out, nil
}

// conns returns the connections the policies allow from src to dst (two workload peers, or a
// workload and an IP-block peer).
func (e *engine) conns(src, dst eval.Peer) (Ports, error) {
	cs, err := e.pe.AllAllowedConnectionsBetweenWorkloadPeers(src, dst)
	if err != nil {
		return nil, fmt.Errorf("failed to compute the connections from %s to %s: %w", src.String(), dst.String(), err)
	}
	if cs.IsAllConnections() {
		return AllPorts(), nil
	}
	var out Ports
	for proto, ranges := range cs.ProtocolsAndPortsMap(false) {
		for _, r := range ranges {
			out = append(out, PortRange{Protocol: proto, From: int32(r.Start()), To: int32(r.End())})
		}
	}
	return out.canonical(), nil
}

// workloadConns returns the connections allowed between two workloads.
func (e *engine) workloadConns(src, dst Workload) (Ports, error) {
	return e.conns(e.peers[src.ID()], e.peers[dst.ID()])
}

// reach returns the connections allowed between a set of addresses and a workload: from the
// addresses when ingress, to them otherwise. full holds for every address of the set, some
// for at least one; blocked lists the addresses for which nothing at all is allowed.
func (e *engine) reach(addrs *netset.IPBlock, w Workload, ingress bool) (full, some Ports, err error) {
	blocks := e.dstBlocks
	if ingress {
		blocks = e.srcBlocks
	}
	first := true
	for _, b := range blocks {
		if !b.block.Overlap(addrs) {
			continue
		}
		var ps Ports
		if ingress {
			ps, err = e.conns(b.peer, e.peers[w.ID()])
		} else {
			ps, err = e.conns(e.peers[w.ID()], b.peer)
		}
		if err != nil {
			return nil, nil, err
		}
		some = some.Union(ps)
		if first {
			full, first = ps, false
		} else {
			full = full.Intersect(ps)
		}
	}
	return full, some, nil
}

// blocksIn returns the parts of addrs that lie in different address blocks of the analyzer
// (for the given direction): within one part, every address gets the same answer.
func (e *engine) blocksIn(addrs *netset.IPBlock, ingress bool) []ipBlock {
	blocks := e.dstBlocks
	if ingress {
		blocks = e.srcBlocks
	}
	var out []ipBlock
	for _, b := range blocks {
		if part := b.block.Intersect(addrs); !part.IsEmpty() {
			out = append(out, ipBlock{peer: b.peer, block: part})
		}
	}
	return out
}

// effectivePolicyTypes returns the directions a NetworkPolicy isolates, with the API
// server's default when policyTypes is empty: Ingress, and Egress when it has egress rules.
func effectivePolicyTypes(np *networkingv1.NetworkPolicy) []networkingv1.PolicyType {
	if len(np.Spec.PolicyTypes) > 0 {
		return np.Spec.PolicyTypes
	}
	out := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	if len(np.Spec.Egress) > 0 {
		out = append(out, networkingv1.PolicyTypeEgress)
	}
	return out
}

// selects reports whether a NetworkPolicy selects a workload's pods for a direction, which
// isolates them in that direction. A selector that does not parse selects nothing.
func selects(np *networkingv1.NetworkPolicy, w Workload, dir networkingv1.PolicyType) bool {
	if np.Namespace != w.Namespace || !slices.Contains(effectivePolicyTypes(np), dir) {
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	if err != nil {
		return false
	}
	return sel.Matches(labels.Set(w.Labels))
}

// directional returns a copy of a NetworkPolicy that isolates only one direction, with only
// that direction's rules: alone in a policy engine, it answers what the policy says about
// that direction and leaves the other one open.
func directional(np *networkingv1.NetworkPolicy, dir networkingv1.PolicyType) *networkingv1.NetworkPolicy {
	out := np.DeepCopy()
	out.Spec.PolicyTypes = []networkingv1.PolicyType{dir}
	if dir == networkingv1.PolicyTypeIngress {
		out.Spec.Egress = nil
	} else {
		out.Spec.Ingress = nil
	}
	return out
}

// noteLogger collects what the analyzer logs, so that the audit reports it as notes instead of
// printing it.
type noteLogger struct {
	mu    sync.Mutex
	notes []string
}

func (l *noteLogger) add(level, format string, o ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.notes = append(l.notes, "netpol-analyzer "+level+": "+strings.TrimSpace(fmt.Sprintf(format, o...)))
}

func (l *noteLogger) Debugf(string, ...any) {}
func (l *noteLogger) Infof(string, ...any)  {}
func (l *noteLogger) Warnf(format string, o ...any) {
	l.add("warning", format, o...)
}
func (l *noteLogger) Errorf(err error, format string, o ...any) {
	l.add("error", format+": %v", append(o, err)...)
}

// warnings returns the collected messages, sorted and without duplicates.
func (l *noteLogger) warnings() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.notes)
	slices.SortFunc(out, cmp.Compare[string])
	return slices.Compact(out)
}
