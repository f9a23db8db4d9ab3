package audit

import (
	"fmt"
	"testing"

	"github.com/smartcity-io/smartcity-operator/internal/citygen"
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
