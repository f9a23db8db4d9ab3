package main

import (
	"bytes"
	"encoding/json"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smartcity-io/smartcity-operator/internal/version"
)

func TestPrintVersion(t *testing.T) {
	info := version.Info{Version: "v0.2.0", Commit: "0935f07aa1b2c3d4e5f60718293a4b5c6d7e8f90", Date: "2026-11-29T00:45:00Z",
		GoVersion: "go1.26.8", Platform: "linux/amd64"}
	cases := []struct {
		name, output string
		info         version.Info
		want         string
	}{{
		name: "text", output: "text", info: info,
		want: `Version:    v0.2.0
Commit:     0935f07aa1b2c3d4e5f60718293a4b5c6d7e8f90
Date:       2026-11-29T00:45:00Z
Go version: go1.26.8
Platform:   linux/amd64
`,
	}, {
		name: "text, modified work tree", output: "text",
		info: version.Info{Version: "(devel)", Commit: "0935f07", Date: "unknown", Modified: true, GoVersion: "go1.26.8", Platform: "windows/arm64"},
		want: `Version:    (devel)
Commit:     0935f07 (modified work tree)
Date:       unknown
Go version: go1.26.8
Platform:   windows/arm64
`,
	}, {
		name: "json", output: "json", info: info,
		want: `{
  "version": "v0.2.0",
  "commit": "0935f07aa1b2c3d4e5f60718293a4b5c6d7e8f90",
  "date": "2026-11-29T00:45:00Z",
  "goVersion": "go1.26.8",
  "platform": "linux/amd64"
}
`,
	}, {
		name: "yaml", output: "yaml", info: info,
		want: `commit: 0935f07aa1b2c3d4e5f60718293a4b5c6d7e8f90
date: "2026-11-29T00:45:00Z"
goVersion: go1.26.8
platform: linux/amd64
version: v0.2.0
`,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := printVersion(&out, tc.info, tc.output); err != nil {
				t.Fatalf("printVersion: %v", err)
			}
			if diff := cmp.Diff(tc.want, out.String()); diff != "" {
				t.Errorf("output mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestVersionCommand runs the subcommand as a user does: the JSON it prints is this binary's
// build information.
func TestVersionCommand(t *testing.T) {
	code, out, errOut := runCLI(t, "", "version", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	var got version.Info
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("version -o json printed invalid JSON: %v\n%s", err, out)
	}
	if diff := cmp.Diff(version.Get(), got); diff != "" {
		t.Errorf("version -o json mismatch (-want +got):\n%s", diff)
	}
	if got.GoVersion != runtime.Version() {
		t.Errorf("goVersion = %q, want %q", got.GoVersion, runtime.Version())
	}

	code, out, errOut = runCLI(t, "", "version", "-o", "xml")
	if code != exitError || errOut != "error: --output must be text, json or yaml, not \"xml\"\n" {
		t.Errorf("version -o xml: exit code %d, stdout %q, stderr %q", code, out, errOut)
	}
}
