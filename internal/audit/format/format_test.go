package format

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/smartcity-io/smartcity-operator/internal/audit"
	"github.com/smartcity-io/smartcity-operator/internal/testutil"
)

// The audit's reference topologies (internal/audit/testdata/topologies): the sample city, and
// the sample city with each folder applied on top. Paths are relative to internal/audit, where
// the test reads them from, so that reports name the files as before the formats moved here.
var topologies = map[string][]string{
	"sample-city":              {sampleCity},
	"deny-all":                 {sampleCity, topology("deny-all")},
	"foreign-allow-all":        {sampleCity, topology("foreign-allow-all")},
	"consumer-without-consent": {sampleCity, topology("consumer-without-consent")},
	"name-conflict":            {sampleCity, topology("name-conflict")},
	"unisolated-workload":      {sampleCity, topology("unisolated-workload")},
}

const sampleCity = "../../config/samples"

func topology(name string) string { return filepath.Join("testdata", "topologies", name) }

var goldenFormats = map[Format]string{FormatTable: "txt", FormatJSON: "json", FormatMarkdown: "md", FormatMermaid: "mmd", FormatDOT: "dot"}

// TestGolden writes each topology's report in every text format and compares it with
// testdata/golden/<topology>.<ext> (make golden rewrites them).
func TestGolden(t *testing.T) {
	goldenDir, err := filepath.Abs(filepath.Join("testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir("..") // reports name the files as read from internal/audit
	for name, paths := range topologies {
		t.Run(name, func(t *testing.T) {
			r, err := audit.AuditFiles(paths, false, audit.Options{})
			if err != nil {
				t.Fatalf("AuditFiles(%v): %v", paths, err)
			}
			for f, ext := range goldenFormats {
				var buf bytes.Buffer
				if err := Write(&buf, r, f); err != nil {
					t.Fatalf("Write(%s): %v", f, err)
				}
				testutil.Golden(t, filepath.Join(goldenDir, name+"."+ext), buf.Bytes())
			}
		})
	}
}

func TestWriteRefusesSVG(t *testing.T) {
	if err := Write(&bytes.Buffer{}, &audit.Report{}, FormatSVG); err == nil {
		t.Error("Write(svg) succeeded: SVG is drawn by internal/audit/svg")
	}
}
