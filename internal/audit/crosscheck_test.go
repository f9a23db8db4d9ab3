package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/np-guard/models/pkg/netset"
	"github.com/np-guard/netpol-analyzer/pkg/netpol/connlist"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/yaml"

	platformv1alpha1 "github.com/smartcity-io/smartcity-operator/api/v1alpha1"
	"github.com/smartcity-io/smartcity-operator/internal/netpol"
)

// TestAgreesWithAnalyzerConnlist checks the audit's wiring of netpol-analyzer against the
// analyzer used on its own: the rendered manifests are written to a folder, which
// netpol-analyzer's connlist reads with its own manifest parser (its own pods from the
// Deployments, its own IP blocks); for every ordered pair of PublicServices and for every zone
// and service in both directions, the audit and connlist must give the same verdict.
func TestAgreesWithAnalyzerConnlist(t *testing.T) {
	for _, tp := range topologies {
		t.Run(tp.name, func(t *testing.T) {
			rendered := renderedTopology(t, tp)
			r, err := Analyze(rendered, Options{})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			writeManifests(t, dir, rendered)
			conns, _, err := connlist.NewConnlistAnalyzer(connlist.WithMuteErrsAndWarns()).ConnlistFromDirPath(dir)
			if err != nil {
				t.Fatalf("connlist: %v", err)
			}
			checked := crossCheck(t, rendered, r, conns)
			if checked == 0 {
				t.Fatal("nothing was compared")
			}
			t.Logf("%d verdicts agree with connlist", checked)
		})
	}
}

// crossCheck compares the report with connlist's connections and returns how many verdicts
// it compared.
func crossCheck(t *testing.T, m *Model, r *Report, conns []connlist.Peer2PeerConnection) int {
	t.Helper()
	flows := map[[2]string]Flow{}
	for _, f := range r.Flows {
		flows[[2]string{f.From, f.To}] = f
	}
	var services, zones []Peer
	for _, p := range r.Peers {
		switch {
		case p.Kind == PeerService && !p.Virtual:
			services = append(services, p)
		case p.Kind == PeerZone:
			zones = append(zones, p)
		}
	}
	// Ports to ask about: each service's port, and every port declared towards a zone.
	egressPorts := netpol.PortsOf(corev1.ProtocolTCP, 443)
	for _, f := range r.Flows {
		if strings.HasPrefix(f.To, ZonePrefix) {
			egressPorts = egressPorts.Union(f.Declared)
		}
	}
	servicePort := func(p Peer) Ports {
		for i := range m.PublicServices {
			if s := &m.PublicServices[i]; s.Namespace == p.Namespace && s.Name == p.Name {
				return netpol.PortsOf(corev1.ProtocolTCP, *s.Effective().Port)
			}
		}
		t.Fatalf("no PublicService for peer %s", p.ID)
		return nil
	}

	// connlist's verdict between two workloads, and the addresses it allows to or from one.
	allows := func(c connlist.Peer2PeerConnection, ps Ports) bool {
		set := connlist.GetConnectionSetFromP2PConnection(c)
		for _, pr := range ps {
			for port := pr.From; port <= pr.To; port++ {
				if !set.Contains(fmt.Sprint(port), string(pr.Protocol)) {
					return false
				}
			}
		}
		return true
	}
	between := func(src, dst string, ps Ports) bool {
		for _, c := range conns {
			if c.Src().String() == src && c.Dst().String() == dst && allows(c, ps) {
				return true
			}
		}
		return false
	}
	addresses := func(workload string, ps Ports, ingress bool) *netset.IPBlock {
		out := netset.NewIPBlock()
		for _, c := range conns {
			ip, w := c.Src(), c.Dst()
			if !ingress {
				ip, w = c.Dst(), c.Src()
			}
			if !ip.IsPeerIPType() || w.String() != workload || !allows(c, ps) {
				continue
			}
			b, ok := ip.(interface{ GetPeerIPBlock() *netset.IPBlock })
			if !ok {
				t.Fatalf("connlist IP peer %s has no address block", ip.String())
			}
			out = out.Union(b.GetPeerIPBlock())
		}
		return out
	}

	checked := 0
	for _, a := range services {
		for _, b := range services {
			if a.ID == b.ID {
				continue
			}
			ps := servicePort(b)
			ours := flows[[2]string{a.ID, b.ID}].Allowed.Contains(ps)
			theirs := between(a.Workload, b.Workload, ps)
			if ours != theirs {
				t.Errorf("%s -> %s on %s: audit says allowed=%t, connlist says %t", a.ID, b.ID, ps, ours, theirs)
			}
			checked++
		}
	}
	for _, z := range zones {
		zone, _ := zoneBlock(zoneFromPeer(z))
		for _, s := range services {
			for _, dir := range []struct {
				ingress bool
				ps      Ports
				key     [2]string
			}{
				{true, servicePort(s), [2]string{z.ID, s.ID}},
				{false, egressPorts, [2]string{s.ID, z.ID}},
			} {
				for _, pr := range dir.ps {
					ps := Ports{pr}
					f := flows[dir.key]
					reached := addresses(s.Workload, ps, dir.ingress)
					if got, want := f.Allowed.Contains(ps), zone.IsSubset(reached); got != want {
						t.Errorf("%s -> %s on %s: audit says allowed for the whole zone=%t, connlist says %t", dir.key[0], dir.key[1], ps, got, want)
					}
					if got, want := f.Allowed.Union(f.Partly).Contains(ps), zone.Overlap(reached); got != want {
						t.Errorf("%s -> %s on %s: audit says allowed for part of the zone=%t, connlist says %t", dir.key[0], dir.key[1], ps, got, want)
					}
					checked++
				}
			}
		}
	}
	return checked
}

func zoneFromPeer(p Peer) *platformv1alpha1.NetworkZone {
	z := &platformv1alpha1.NetworkZone{}
	z.Name, z.Spec.CIDRs, z.Spec.Except = p.Name, p.CIDRs, p.Except
	return z
}

// writeManifests writes the objects netpol-analyzer reads (namespaces, policies, workloads)
// to a folder, one file per kind.
func writeManifests(t *testing.T, dir string, m *Model) {
	t.Helper()
	objs := make([]runtime.Object, 0, len(m.Namespaces)+len(m.NetworkPolicies)+len(m.Deployments)+len(m.StatefulSets)+len(m.DaemonSets)+len(m.Pods))
	for i := range m.Namespaces {
		objs = append(objs, &m.Namespaces[i])
	}
	for i := range m.NetworkPolicies {
		objs = append(objs, &m.NetworkPolicies[i])
	}
	for i := range m.Deployments {
		objs = append(objs, &m.Deployments[i])
	}
	for i := range m.StatefulSets {
		objs = append(objs, &m.StatefulSets[i])
	}
	for i := range m.DaemonSets {
		objs = append(objs, &m.DaemonSets[i])
	}
	for i := range m.Pods {
		objs = append(objs, &m.Pods[i])
	}
	for i, obj := range objs {
		gvk, err := apiutil.GVKForObject(obj, Scheme)
		if err != nil {
			t.Fatal(err)
		}
		obj.GetObjectKind().SetGroupVersionKind(gvk)
		data, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%03d-%s.yaml", i, gvk.Kind)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
