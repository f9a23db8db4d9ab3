package audit

import (
	"cmp"
	"fmt"
	"slices"
	"testing"

	"github.com/smartcity-io/smartcity-operator/internal/citygen"
	"github.com/smartcity-io/smartcity-operator/internal/intent"
	"github.com/smartcity-io/smartcity-operator/internal/render"
)

// cityModel generates a city of n services and renders it as `kubectl city audit -f` does.
func cityModel(tb testing.TB, n int) *Model {
	tb.Helper()
	city, err := citygen.Generate(citygen.Options{Services: n, Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	m := &Model{}
	for _, obj := range city.Objects() {
		m.Add(obj)
	}
	rendered, err := Rendered(m, Options{}.Render)
	if err != nil {
		tb.Fatal(err)
	}
	return rendered
}

// BenchmarkWholeCityAudit measures Analyze on a rendered generated city: the work of
// `kubectl city audit -f` after reading the files.
func BenchmarkWholeCityAudit(b *testing.B) {
	for _, n := range []int{200, 1700} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			m := cityModel(b, n)
			b.ResetTimer()
			for b.Loop() {
				if _, err := Analyze(m, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// verifiedNamespaces lists the namespaces the connectivity controller reads to verify si
// (controllers.flowNamespaces): its own, the DNS and gateway namespaces, and those of the
// services its flows and its spec name.
func verifiedNamespaces(si serviceIntent) []string {
	opts := render.Options{}.WithDefaults()
	ns := []string{si.key.Namespace, opts.DNSNamespace, opts.IngressControllerNamespace}
	for _, p := range append(slices.Clone(si.flows.IngressServices), si.flows.EgressServices...) {
		ns = append(ns, p.Namespace)
	}
	for _, u := range si.flows.Unadmitted {
		ns = append(ns, u.Namespace)
	}
	for _, c := range si.spec.Consumes {
		ns = append(ns, cmp.Or(c.Namespace, si.key.Namespace))
	}
	for _, a := range si.spec.AllowFrom {
		if a.Namespace != "" {
			ns = append(ns, a.Namespace)
		}
	}
	slices.Sort(ns)
	return slices.Compact(ns)
}

// BenchmarkVerifyService measures what the connectivity controller does to verify one
// service of a running city of 1,700 services: ReadNamespaces from the manager's cache (without
// deep copies), then Analyze restricted to the service. The services are the city's hub (the
// identity service a few hundred services consume, whose verification reads their namespaces)
// and a service that consumes it.
func BenchmarkVerifyService(b *testing.B) {
	m := runningCity(b, 1700)
	c := newCacheReader(m.objects()...)
	services := resolveAll(m)
	hub := slices.MaxFunc(services, func(x, y serviceIntent) int {
		return cmp.Compare(len(x.flows.IngressServices), len(y.flows.IngressServices))
	})
	var consumer serviceIntent
	for _, si := range services {
		if slices.ContainsFunc(si.flows.EgressServices, func(p intent.ServicePeer) bool { return p.Key() == hub.key.String() }) {
			consumer = si
			break
		}
	}
	for _, tc := range []struct {
		name string
		si   serviceIntent
	}{{"hub", hub}, {"consumer", consumer}} {
		b.Run("service="+tc.name, func(b *testing.B) {
			namespaces := verifiedNamespaces(tc.si)
			b.ReportAllocs()
			for b.Loop() {
				model, err := ReadNamespaces(b.Context(), c, namespaces...)
				if err != nil {
					b.Fatal(err)
				}
				r, err := Analyze(model, Options{Service: tc.si.key.String()})
				if err != nil {
					b.Fatal(err)
				}
				if len(r.Services) != 1 {
					b.Fatalf("the report has %d services, want 1", len(r.Services))
				}
			}
		})
	}
}
