package testutil

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// update is set by `make golden` (go test -update) in the packages the Makefile lists in
// GOLDEN_PKGS; every test binary that imports this package accepts it.
var update = flag.Bool("update", false, "rewrite the golden files instead of comparing with them")

// Golden compares got with the golden file at path, line by line, or with -update writes got
// to it (creating its folder).
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("failed to read the golden file (run `make golden` to create it): %v", err)
	}
	// Diff lines, not bytes, so the report reads like a unified diff.
	if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); diff != "" {
		t.Errorf("%s is stale (-want +got):\n%s\nIf the change is intended, run `make golden` and review the diff.", path, diff)
	}
}
