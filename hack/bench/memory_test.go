package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
)

func TestMemoryLimit(t *testing.T) {
	write := func(t *testing.T, manifest string) string {
		t.Helper()
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(managerManifest)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, managerManifest), []byte(manifest), 0o600); err != nil {
			t.Fatal(err)
		}
		return root
	}
	const namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: system\n"
	deployment := func(limits string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: controller-manager\nspec:\n  template:\n    spec:\n      containers:\n" +
			"      - name: sidecar\n        resources:\n          limits:\n            memory: 1Gi\n" +
			"      - name: manager\n        resources:\n" + limits
	}

	root := write(t, namespace+"---\n"+deployment("          limits:\n            memory: 192Mi\n")+
		"        env:\n        - name: GOGC\n          value: \"50\"\n"+
		"        - name: POD_NAME\n          valueFrom:\n            fieldRef:\n              fieldPath: metadata.name\n")
	c, err := readManagerContainer(root)
	if err != nil {
		t.Fatal(err)
	}
	q := c.memoryLimit
	if want := []string{"GOGC=50"}; !slices.Equal(c.env, want) {
		t.Errorf("environment %q, want %q (literal values only)", c.env, want)
	}
	if want := resource.MustParse("192Mi"); q.Cmp(want) != 0 {
		t.Errorf("memory limit %s, want the manager container's 192Mi", q.String())
	}
	if got, want := goMemLimit(q), "181193932"; got != want { // 0.9 × 192 MiB, in bytes
		t.Errorf("GOMEMLIMIT %s, want %s", got, want)
	}

	root = write(t, namespace+"---\n"+deployment("          requests:\n            memory: 64Mi\n"))
	if _, err := readManagerContainer(root); err == nil || !strings.Contains(err.Error(), "no memory limit") {
		t.Errorf("a manager without a memory limit: error %v, want one that says so", err)
	}

	// The shipped manifest has one.
	if _, err := readManagerContainer(filepath.Join("..", "..")); err != nil {
		t.Errorf("%s: %v", managerManifest, err)
	}
}

func TestReadProcMemory(t *testing.T) {
	status := "Name:\tmanager\nVmPeak:\t 2116712 kB\nVmHWM:\t  179104 kB\nVmRSS:\t  172904 kB\n" +
		"RssAnon:\t  126544 kB\nRssFile:\t   46360 kB\nRssShmem:\t       0 kB\nThreads:\t12\n"
	got, err := readProcMemory(strings.NewReader(status))
	if err != nil {
		t.Fatal(err)
	}
	want := procMemory{RSS: 172904.0 / 1024, Peak: 179104.0 / 1024, Anon: 126544.0 / 1024, File: 46360.0 / 1024}
	if got != want {
		t.Errorf("readProcMemory = %+v, want %+v", got, want)
	}
	if _, err := readProcMemory(strings.NewReader("Name:\tmanager\nVmRSS:\t 1 kB\nVmHWM:\t 2 kB\n")); err == nil {
		t.Error("a status without RssAnon: no error")
	}
}
