package audit

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/np-guard/netpol-analyzer/pkg/netpol/connlist"

	"github.com/smartcity-io/smartcity-operator/internal/netpol"
)

// connectivitySeeds are the seeds of the generated topologies of the cross-check.
const connectivitySeeds = 60

// TestConnectivityAgreesWithConnlist runs Connectivity and netpol-analyzer's connlist (with its
// own manifest parser) on generated topologies that exercise every NetworkPolicy feature and on
// a generated city of 200 services, and compares every (source, destination) pair: the
// workloads with each other, the workloads with the address blocks the policies tell apart.
func TestConnectivityAgreesWithConnlist(t *testing.T) {
	total := 0
	for seed := range uint64(connectivitySeeds) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			total += crossCheckConnectivity(t, randomTopology(seed))
		})
	}
	t.Run("city=200", func(t *testing.T) {
		total += crossCheckConnectivity(t, cityModel(t, 200))
	})
	t.Logf("%d (source, destination) pairs agree with connlist", total)
	if total == 0 {
		t.Fatal("nothing was compared")
	}
}

// crossCheckConnectivity compares Connectivity with connlist on one Model and returns the
// number of (source, destination) pairs it compared.
func crossCheckConnectivity(t *testing.T, m *Model) int {
	t.Helper()
	ours, err := Connectivity(m)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeManifests(t, dir, m)
	ca := connlist.NewConnlistAnalyzer(connlist.WithLogger(silent{}), connlist.WithMuteErrsAndWarns(), connlist.WithOutputFormat("json"))
	conns, _, err := ca.ConnlistFromDirPath(dir)
	if err != nil {
		t.Fatalf("connlist: %v", err)
	}
	out, err := ca.ConnectionsListToString(conns)
	if err != nil {
		t.Fatalf("connlist: %v", err)
	}
	var theirs []struct{ Src, Dst, Conn string }
	if err := json.Unmarshal([]byte(out), &theirs); err != nil {
		t.Fatalf("connlist's JSON: %v", err)
	}
	got := map[[2]string]string{}
	for _, c := range ours {
		got[[2]string{c.Src, c.Dst}] = c.Ports.String()
	}
	want := map[[2]string]string{}
	for _, c := range theirs {
		want[[2]string{c.Src, c.Dst}] = connlistPorts(t, c.Conn).String()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("connections differ from connlist's (-connlist +ours):\n%s", diff)
	}
	pairs := comparedPairs(t, m)
	t.Logf("%d pairs compared, %d connections allowed", pairs, len(got))
	if pairs == 0 {
		t.Error("nothing was compared")
	}
	return pairs
}

// comparedPairs counts the pairs Connectivity considers: every ordered pair of distinct
// workloads, and every workload with every address block of its direction.
func comparedPairs(t *testing.T, m *Model) int {
	t.Helper()
	model := m.DeepCopy()
	model.sort()
	e, err := newEngine(model.NamespaceLabels(), model.NetworkPolicies, model.Workloads())
	if err != nil {
		t.Fatal(err)
	}
	n := len(e.Workloads())
	return n*(n-1) + n*(len(e.SourceBlocks())+len(e.DestinationBlocks()))
}

// connlistPorts reads a connection as connlist writes it: "All Connections", or
// "SCTP 8000-8100,9000,TCP 443".
func connlistPorts(t *testing.T, conn string) netpol.Ports {
	t.Helper()
	if conn == "All Connections" {
		return netpol.AllPorts()
	}
	ps, err := netpol.ParsePorts(conn)
	if err != nil {
		t.Fatalf("connlist's connection %q: %v", conn, err)
	}
	return ps
}

// silent is a netpol-analyzer logger that drops everything (its warnings about named ports
// without a match are expected in generated topologies).
type silent struct{}

func (silent) Debugf(string, ...any)        {}
func (silent) Infof(string, ...any)         {}
func (silent) Warnf(string, ...any)         {}
func (silent) Errorf(error, string, ...any) {}
