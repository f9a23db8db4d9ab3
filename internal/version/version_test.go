package version

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolve(t *testing.T) {
	vcs := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/smartcity-io/smartcity-operator", Version: "(devel)"},
		Settings: []debug.BuildSetting{
			{Key: "GOOS", Value: "linux"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0935f07aa1b2c3d4e5f60718293a4b5c6d7e8f90"},
			{Key: "vcs.time", Value: "2026-11-29T00:45:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	cases := []struct {
		name string
		ld   linkerFlags
		bi   *debug.BuildInfo
		want Info
	}{{
		name: "linker flags win over build info",
		ld:   linkerFlags{version: "v0.2.0", commit: "1111111111111111111111111111111111111111", date: "2026-12-01T10:00:00Z"},
		bi:   vcs,
		want: Info{Version: "v0.2.0", Commit: "1111111111111111111111111111111111111111", Date: "2026-12-01T10:00:00Z",
			GoVersion: "go1.26.8", Platform: "linux/arm64"},
	}, {
		name: "build info with VCS stamping (go build -buildvcs=true)",
		bi:   vcs,
		want: Info{Version: "(devel)", Commit: "0935f07aa1b2c3d4e5f60718293a4b5c6d7e8f90", Date: "2026-11-29T00:45:00Z",
			Modified: true, GoVersion: "go1.26.8", Platform: "linux/arm64"},
	}, {
		name: "go install module@version, no VCS (-buildvcs=false)",
		bi: &debug.BuildInfo{GoVersion: "go1.26.8",
			Main: debug.Module{Path: "github.com/smartcity-io/smartcity-operator", Version: "v0.2.0"}},
		want: Info{Version: "v0.2.0", Commit: Unknown, Date: Unknown, GoVersion: "go1.26.8", Platform: "linux/arm64"},
	}, {
		name: "only a version from the linker: the rest from build info",
		ld:   linkerFlags{version: "v0.3.0-rc.1"},
		bi:   vcs,
		want: Info{Version: "v0.3.0-rc.1", Commit: "0935f07aa1b2c3d4e5f60718293a4b5c6d7e8f90", Date: "2026-11-29T00:45:00Z",
			Modified: true, GoVersion: "go1.26.8", Platform: "linux/arm64"},
	}, {
		name: "no build info at all",
		want: Info{Version: Unknown, Commit: Unknown, Date: Unknown, GoVersion: "go1.25.0", Platform: "linux/arm64"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := resolve(tc.ld, tc.bi, "go1.25.0", "linux/arm64")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("resolve() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestString(t *testing.T) {
	cases := []struct {
		info Info
		want string
	}{
		{Info{Version: "v0.2.0", Commit: "0935f07aa1b2c3d4e5f60718293a4b5c6d7e8f90", Date: "2026-11-29T00:45:00Z", GoVersion: "go1.26.8", Platform: "linux/amd64"},
			"v0.2.0 (commit 0935f07aa1b2, 2026-11-29T00:45:00Z, go1.26.8, linux/amd64)"},
		{Info{Version: "(devel)", Commit: "0935f07", Date: Unknown, Modified: true, GoVersion: "go1.26.8", Platform: "darwin/arm64"},
			"(devel) (commit 0935f07, modified, unknown, go1.26.8, darwin/arm64)"},
	}
	for _, tc := range cases {
		if got := tc.info.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

// TestGet checks the running test binary: linked without -X flags, so the values come from its
// build info (no VCS stamping in test binaries), and never empty.
func TestGet(t *testing.T) {
	got := Get()
	if got.GoVersion != runtime.Version() {
		t.Errorf("GoVersion = %q, want %q", got.GoVersion, runtime.Version())
	}
	if want := runtime.GOOS + "/" + runtime.GOARCH; got.Platform != want {
		t.Errorf("Platform = %q, want %q", got.Platform, want)
	}
	for name, v := range map[string]string{"Version": got.Version, "Commit": got.Commit, "Date": got.Date} {
		if strings.TrimSpace(v) == "" {
			t.Errorf("%s is empty, want a value or %q", name, Unknown)
		}
	}
}
