package main

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/smartcity-io/smartcity-operator/internal/citygen"
)

// BenchmarkAuditFiles measures `kubectl city audit -f` and `kubectl city connectivity -f` on a
// generated city written to files: reading, rendering, analysing and writing the report.
func BenchmarkAuditFiles(b *testing.B) {
	for _, n := range []int{200, 1700} {
		city, err := citygen.Generate(citygen.Options{Services: n, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		dir := b.TempDir()
		if err := city.WriteDir(dir); err != nil {
			b.Fatal(err)
		}
		for _, command := range []string{"audit", "connectivity"} {
			b.Run(fmt.Sprintf("%s/services=%d", command, n), func(b *testing.B) {
				for b.Loop() {
					if code := run([]string{command, "-f", dir, "-o", "json"}, strings.NewReader(""), io.Discard, io.Discard); code == exitError {
						b.Fatalf("%s -f: exit code %d", command, code)
					}
				}
			})
		}
	}
}
