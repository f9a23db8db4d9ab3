package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/np-guard/netpol-analyzer/pkg/netpol/connlist"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
	"github.com/smartcity-io/smartcity-operator/internal/audit/format"
	"github.com/smartcity-io/smartcity-operator/internal/citygen"
	"github.com/smartcity-io/smartcity-operator/internal/netpol"
)

// connectivitySeeds are the seeds of the generated topologies of the cross-check.
const connectivitySeeds = 60

// TestConnectivityAgreesWithConnlist runs `kubectl city connectivity` and netpol-analyzer's
// connlist (with its own manifest parser) on the same manifests: 60 seeded topologies that
// exercise every NetworkPolicy feature, and a generated city of 200 services rendered as the
// operator renders it. Every (source, destination) pair must have the same connections, and
// every output format must be connlist's, byte for byte.
func TestConnectivityAgreesWithConnlist(t *testing.T) {
	pairs := 0
	for seed := range uint64(connectivitySeeds) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			pairs += crossCheckConnectivity(t, randomTopology(seed))
		})
	}
	t.Run("city=200", func(t *testing.T) {
		pairs += crossCheckConnectivity(t, renderedCity(t, 200))
	})
	t.Logf("%d (source, destination) pairs compared with connlist", pairs)
	if pairs == 0 {
		t.Fatal("nothing was compared")
	}
}

// crossCheckConnectivity writes a Model's namespaces, policies and workloads to a folder, runs
// both on it, and returns the number of (source, destination) pairs compared.
func crossCheckConnectivity(t *testing.T, m *audit.Model) int {
	t.Helper()
	dir := t.TempDir()
	writeManifests(t, filepath.Join(dir, "objects.yaml"), m)

	// The analyzer that parsed the folder writes DOT (which lists every workload it parsed,
	// connected or not); the other formats need only the connections.
	parsed := connlist.NewConnlistAnalyzer(connlist.WithLogger(silent{}), connlist.WithMuteErrsAndWarns(), connlist.WithOutputFormat(string(format.ConnlistDOT)))
	conns, _, err := parsed.ConnlistFromDirPath(dir)
	if err != nil {
		t.Fatalf("connlist: %v", err)
	}
	for _, f := range format.ConnlistFormats {
		ca := parsed
		if f != format.ConnlistDOT {
			ca = connlist.NewConnlistAnalyzer(connlist.WithOutputFormat(string(f)))
		}
		theirs, err := ca.ConnectionsListToString(conns)
		if err != nil {
			t.Fatalf("connlist -o %s: %v", f, err)
		}
		code, ours, errOut := runCLI(t, "", "connectivity", "-f", dir, "-o", string(f))
		if code != exitOK {
			t.Fatalf("connectivity -o %s: exit code %d: %s", f, code, errOut)
		}
		if f == format.ConnlistJSON {
			comparePairs(t, theirs, ours)
		}
		if ours != theirs && ours != theirs+"\n" {
			t.Errorf("connectivity -o %s differs from connlist's (-connlist +ours):\n%s", f, cmp.Diff(theirs, ours))
		}
	}
	l, err := audit.Connectivity(m)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d pairs compared, %d connections allowed", l.Pairs, len(l.Connections))
	if l.Pairs == 0 {
		t.Error("nothing was compared")
	}
	return l.Pairs
}

// comparePairs compares two JSON connection lists pair by pair, by the ports they allow, to
// say which pairs differ when the outputs do.
func comparePairs(t *testing.T, theirs, ours string) {
	t.Helper()
	read := func(who, s string) map[[2]string]string {
		var rows []struct{ Src, Dst, Conn string }
		if err := json.Unmarshal([]byte(s), &rows); err != nil {
			t.Fatalf("%s's JSON: %v", who, err)
		}
		out := map[[2]string]string{}
		for _, r := range rows {
			ps := netpol.AllPorts()
			if r.Conn != "All Connections" {
				var err error
				if ps, err = netpol.ParsePorts(r.Conn); err != nil {
					t.Fatalf("%s's connection %q: %v", who, r.Conn, err)
				}
			}
			out[[2]string{r.Src, r.Dst}] = ps.String()
		}
		return out
	}
	if diff := cmp.Diff(read("connlist", theirs), read("our", ours)); diff != "" {
		t.Errorf("connections differ from connlist's (-connlist +ours):\n%s", diff)
	}
}

// renderedCity generates a city and renders it as `kubectl city -f` does.
func renderedCity(t *testing.T, services int) *audit.Model {
	t.Helper()
	city, err := citygen.Generate(citygen.Options{Services: services, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m := &audit.Model{}
	for _, obj := range city.Objects() {
		m.Add(obj)
	}
	rendered, err := audit.Rendered(m, audit.Options{}.Render)
	if err != nil {
		t.Fatal(err)
	}
	return rendered
}

// writeManifests writes the objects connlist reads (namespaces, policies, workloads) to a file.
func writeManifests(t *testing.T, path string, m *audit.Model) {
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
	for _, obj := range objs {
		gvk, err := apiutil.GVKForObject(obj, audit.Scheme)
		if err != nil {
			t.Fatal(err)
		}
		obj.GetObjectKind().SetGroupVersionKind(gvk)
	}
	var b strings.Builder
	if err := citygen.WriteYAML(&b, objs...); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// silent is a netpol-analyzer logger that drops everything (its warnings about named ports
// without a match are expected in generated topologies).
type silent struct{}

func (silent) Debugf(string, ...any)        {}
func (silent) Infof(string, ...any)         {}
func (silent) Warnf(string, ...any)         {}
func (silent) Errorf(error, string, ...any) {}
