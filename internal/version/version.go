package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set at link time, for example
//
//	go build -ldflags "-X github.com/smartcity-io/smartcity-operator/internal/version.version=v0.2.0 \
//	  -X github.com/smartcity-io/smartcity-operator/internal/version.commit=$(git rev-parse HEAD)"
//
// goreleaser (.goreleaser.yaml) and make build set all three; date is the commit's time. Left empty, Get falls back to the
// build info Go records in every binary.
var (
	version = ""
	commit  = ""
	date    = ""
)

// Unknown stands for a value neither the linker flags nor the build info provide.
const Unknown = "unknown"

// Info describes a build.
type Info struct {
	// Version is the release (v0.2.0), a snapshot version, or Go's "(devel)" for a plain go build.
	Version string `json:"version"`
	// Commit is the git commit the binary was built from, or "unknown".
	Commit string `json:"commit"`
	// Date is the time of that commit (RFC 3339), so that rebuilding a commit gives the same
	// binary, or "unknown".
	Date string `json:"date"`
	// Modified is true when the work tree had uncommitted changes (known from build info only).
	Modified bool `json:"modified,omitempty"`
	// GoVersion is the Go toolchain that built the binary, e.g. go1.26.8.
	GoVersion string `json:"goVersion"`
	// Platform is GOOS/GOARCH, e.g. linux/amd64.
	Platform string `json:"platform"`
}

// Get returns this binary's build information.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(linkerFlags{version: version, commit: commit, date: date}, bi, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
}

// linkerFlags are the values set with -ldflags -X.
type linkerFlags struct{ version, commit, date string }

// resolve prefers what the linker set, then the build info (nil when the binary has none),
// then Unknown.
func resolve(ld linkerFlags, bi *debug.BuildInfo, goVersion, platform string) Info {
	info := Info{Version: ld.version, Commit: ld.commit, Date: ld.date, GoVersion: goVersion, Platform: platform}
	if bi != nil {
		if info.Version == "" && bi.Main.Version != "" {
			info.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		// With -buildvcs=false (or outside a git work tree) these settings are absent.
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.Commit == "" {
					info.Commit = s.Value
				}
			case "vcs.time":
				if info.Date == "" {
					info.Date = s.Value
				}
			case "vcs.modified":
				if ld.commit == "" {
					info.Modified = s.Value == "true"
				}
			}
		}
	}
	for _, v := range []*string{&info.Version, &info.Commit, &info.Date, &info.GoVersion} {
		if strings.TrimSpace(*v) == "" {
			*v = Unknown
		}
	}
	return info
}

// String is the one-line form, as the manager's --version prints it after its name:
// "v0.2.0 (commit 0a1b2c3d4e5f, 2026-11-29T01:02:03Z, go1.26.8, linux/amd64)".
func (i Info) String() string {
	c := i.Commit
	if len(c) > 12 && c != Unknown {
		c = c[:12]
	}
	if i.Modified {
		c += ", modified"
	}
	return fmt.Sprintf("%s (commit %s, %s, %s, %s)", i.Version, c, i.Date, i.GoVersion, i.Platform)
}
