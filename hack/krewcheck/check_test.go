package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/krew/pkg/index"
)

var realHash = regexp.MustCompile(`[0-9a-f]{64}`)

var released = []string{"linux/amd64", "windows/arm64"}

// fakeRelease writes a release with one archive per released platform into a new folder and
// returns the folder, a manifest that matches it, and its checksums.
func fakeRelease(t *testing.T, contents map[string]map[string]string) (string, index.Plugin, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	p := index.Plugin{
		TypeMeta:   metav1.TypeMeta{APIVersion: "krew.googlecontainertools.github.com/v1alpha2", Kind: "Plugin"},
		ObjectMeta: metav1.ObjectMeta{Name: "city"},
		Spec:       index.PluginSpec{Version: "v0.0.1", ShortDescription: "test"},
	}
	sums := map[string]string{}
	for _, osArch := range released {
		goos, goarch, _ := strings.Cut(osArch, "/")
		bin, name := "kubectl-city", "kubectl-city_0.0.1_"+goos+"_"+goarch+".tar.gz"
		if goos == "windows" {
			bin, name = "kubectl-city.exe", strings.TrimSuffix(name, ".tar.gz")+".zip"
		}
		files := contents[osArch]
		if files == nil {
			files = map[string]string{bin: "binary", "LICENSE": "Apache-2.0"}
		}
		file := filepath.Join(dir, name)
		writeArchive(t, file, files)
		sum, err := sha256File(file)
		if err != nil {
			t.Fatal(err)
		}
		sums[name] = sum
		p.Spec.Platforms = append(p.Spec.Platforms, index.Platform{
			URI:      "https://github.com/smartcity-io/smartcity-operator/releases/download/v0.0.1/" + name,
			Sha256:   sum,
			Bin:      bin,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"os": goos, "arch": goarch}},
		})
	}
	return dir, p, sums
}

func writeArchive(t *testing.T, file string, files map[string]string) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if strings.HasSuffix(file, ".zip") {
		w := zip.NewWriter(f)
		for name, body := range files {
			fw, err := w.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fw.Write([]byte(body)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
}

const zeros = "0000000000000000000000000000000000000000000000000000000000000000"

func TestCheck(t *testing.T) {
	cases := []struct {
		name     string
		contents map[string]map[string]string
		change   func(p *index.Plugin, sums map[string]string)
		want     []string
	}{{
		name: "a manifest that matches its release",
	}, {
		name:   "wrong sha256 in the manifest",
		change: func(p *index.Plugin, _ map[string]string) { p.Spec.Platforms[0].Sha256 = zeros },
		want:   []string{"spec.platforms[0] (linux/amd64): sha256 " + zeros + ", but kubectl-city_0.0.1_linux_amd64.tar.gz has SHA"},
	}, {
		name:   "checksum file disagrees",
		change: func(_ *index.Plugin, sums map[string]string) { sums["kubectl-city_0.0.1_windows_arm64.zip"] = zeros },
		want:   []string{"spec.platforms[1] (windows/arm64): the checksum file says " + zeros + " for kubectl-city_0.0.1_windows_arm64.zip, but it has SHA"},
	}, {
		name:   "archive missing from the checksum file",
		change: func(_ *index.Plugin, sums map[string]string) { delete(sums, "kubectl-city_0.0.1_linux_amd64.tar.gz") },
		want:   []string{"spec.platforms[0] (linux/amd64): kubectl-city_0.0.1_linux_amd64.tar.gz is not in the checksum file"},
	}, {
		name: "uri names an archive the release does not have",
		change: func(p *index.Plugin, _ map[string]string) {
			p.Spec.Platforms[0].URI = strings.Replace(p.Spec.Platforms[0].URI, "0.0.1_linux", "0.0.2_linux", 1)
		},
		want: []string{"spec.platforms[0] (linux/amd64): uri https://github.com/smartcity-io/smartcity-operator/releases/download/v0.0.1/" +
			"kubectl-city_0.0.2_linux_amd64.tar.gz names archive kubectl-city_0.0.2_linux_amd64.tar.gz, which the release does not have"},
	}, {
		name:   "uri is not https",
		change: func(p *index.Plugin, _ map[string]string) { p.Spec.Platforms[1].URI = "file:///tmp/kubectl-city.zip" },
		want:   []string{`spec.platforms[1] (windows/arm64): uri "file:///tmp/kubectl-city.zip" is not an https URL`},
	}, {
		name:     "archive without the binary or a LICENSE",
		contents: map[string]map[string]string{"windows/arm64": {"README.md": "readme"}},
		want: []string{
			`spec.platforms[1] (windows/arm64): bin "kubectl-city.exe" is not in kubectl-city_0.0.1_windows_arm64.zip (it holds README.md)`,
			"spec.platforms[1] (windows/arm64): kubectl-city_0.0.1_windows_arm64.zip has no LICENSE file at its root (krew requires one)",
		},
	}, {
		name: "a released platform is missing and another one is twice",
		change: func(p *index.Plugin, _ map[string]string) {
			p.Spec.Platforms[1].Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"os": "linux", "arch": "amd64"}}
		},
		want: []string{"no platform selects windows/arm64", "2 platforms select linux/amd64"},
	}, {
		name: "a platform that was not released",
		change: func(p *index.Plugin, _ map[string]string) {
			p.Spec.Platforms[1].Selector.MatchLabels["arch"] = "386"
		},
		want: []string{"no platform selects windows/arm64", "platform windows/386 is not one of the released linux/amd64, windows/arm64"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, p, sums := fakeRelease(t, tc.contents)
			if tc.change != nil {
				tc.change(&p, sums)
			}
			var got []string
			for _, err := range check(p, dir, sums, released) {
				got = append(got, err.Error())
			}
			// The archives' real hashes vary with the archive writers: they read SHA.
			for i := range got {
				got[i] = realHash.ReplaceAllStringFunc(got[i], func(h string) string {
					if h == zeros {
						return h
					}
					return "SHA"
				})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("check() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadManifestAndChecksums(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "city.yaml")
	const good = `# This file was generated by GoReleaser. DO NOT EDIT.
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: city
spec:
  version: v0.0.1
  shortDescription: test
  platforms:
    - bin: kubectl-city
      uri: https://example.com/kubectl-city_0.0.1_linux_amd64.tar.gz
      sha256: 0000000000000000000000000000000000000000000000000000000000000000
      selector:
        matchLabels: {os: linux, arch: amd64}
`
	if err := os.WriteFile(manifest, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := readManifest(manifest)
	if err != nil || p.Name != "city" || len(p.Spec.Platforms) != 1 || p.Spec.Platforms[0].Bin != "kubectl-city" {
		t.Errorf("readManifest = %+v, %v", p, err)
	}
	if err := os.WriteFile(manifest, []byte(good+"  unknownField: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readManifest(manifest); err == nil || !strings.Contains(err.Error(), "unknownField") {
		t.Errorf("readManifest with an unknown field: error %v, want one naming unknownField", err)
	}

	sumsFile := filepath.Join(dir, "checksums.txt")
	if err := os.WriteFile(sumsFile, []byte("abc  a.tar.gz\ndef *b.zip\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sums, err := readChecksums(sumsFile)
	if diff := cmp.Diff(map[string]string{"a.tar.gz": "abc", "b.zip": "def"}, sums); diff != "" || err != nil {
		t.Errorf("readChecksums: %v, mismatch (-want +got):\n%s", err, diff)
	}
	if err := os.WriteFile(sumsFile, []byte("abc a.tar.gz extra\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readChecksums(sumsFile); err == nil || !strings.Contains(err.Error(), "checksums.txt:1") {
		t.Errorf("readChecksums of a bad line: error %v, want one naming checksums.txt:1", err)
	}
}
