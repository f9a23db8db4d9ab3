package main

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/krew/pkg/index"
	"sigs.k8s.io/yaml"
)

// readManifest reads a krew plugin manifest into krew's own type, rejecting unknown fields.
func readManifest(file string) (index.Plugin, error) {
	var p index.Plugin
	b, err := os.ReadFile(file)
	if err != nil {
		return p, fmt.Errorf("failed to read the krew manifest: %w", err)
	}
	if err := yaml.UnmarshalStrict(b, &p); err != nil {
		return p, fmt.Errorf("failed to parse the krew manifest %s: %w", file, err)
	}
	if len(p.Spec.Platforms) == 0 {
		return p, fmt.Errorf("the krew manifest %s has no platforms", file)
	}
	return p, nil
}

// readChecksums reads a sha256sum-style file ("<hex>  <name>" per line) into name → hex.
func readChecksums(file string) (map[string]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("failed to read the checksums: %w", err)
	}
	defer func() { _ = f.Close() }()
	sums := map[string]string{}
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		fields := strings.Fields(s.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want \"<sha256>  <file>\", got %q", file, n, s.Text())
		}
		sums[strings.TrimPrefix(fields[1], "*")] = fields[0]
	}
	return sums, s.Err()
}

// check compares the manifest with the release's files in dir and returns every mismatch.
func check(p index.Plugin, dir string, sums map[string]string, wantPlatforms []string) []error {
	var errs []error
	seen := map[string]int{}
	for i, pl := range p.Spec.Platforms {
		where := fmt.Sprintf("spec.platforms[%d]", i)
		if pl.Selector == nil {
			errs = append(errs, fmt.Errorf("%s: no selector", where))
			continue
		}
		osArch := pl.Selector.MatchLabels["os"] + "/" + pl.Selector.MatchLabels["arch"]
		where += " (" + osArch + ")"
		seen[osArch]++
		errs = append(errs, checkArchive(where, pl, dir, sums)...)
	}
	for _, want := range wantPlatforms {
		if seen[want] == 0 {
			errs = append(errs, fmt.Errorf("no platform selects %s", want))
		}
	}
	for _, got := range sortedKeys(seen) {
		switch {
		case !slices.Contains(wantPlatforms, got):
			errs = append(errs, fmt.Errorf("platform %s is not one of the released %s", got, strings.Join(wantPlatforms, ", ")))
		case seen[got] > 1:
			errs = append(errs, fmt.Errorf("%d platforms select %s", seen[got], got))
		}
	}
	return errs
}

// checkArchive checks one platform: its URI names an archive in dir whose sha256 is the
// manifest's and the checksum file's, and that holds the binary and a LICENSE at its root.
func checkArchive(where string, pl index.Platform, dir string, sums map[string]string) []error {
	u, err := url.Parse(pl.URI)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return []error{fmt.Errorf("%s: uri %q is not an https URL", where, pl.URI)}
	}
	name := path.Base(u.Path)
	file := filepath.Join(dir, name)
	got, err := sha256File(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return []error{fmt.Errorf("%s: uri %s names archive %s, which the release does not have", where, pl.URI, name)}
	case err != nil:
		return []error{fmt.Errorf("%s: failed to read %s: %w", where, name, err)}
	}
	var errs []error
	if got != pl.Sha256 {
		errs = append(errs, fmt.Errorf("%s: sha256 %s, but %s has %s", where, pl.Sha256, name, got))
	}
	switch want, ok := sums[name]; {
	case !ok:
		errs = append(errs, fmt.Errorf("%s: %s is not in the checksum file", where, name))
	case want != got:
		errs = append(errs, fmt.Errorf("%s: the checksum file says %s for %s, but it has %s", where, want, name, got))
	}
	files, err := archiveFiles(file)
	if err != nil {
		return append(errs, fmt.Errorf("%s: %w", where, err))
	}
	if !slices.Contains(files, pl.Bin) {
		errs = append(errs, fmt.Errorf("%s: bin %q is not in %s (it holds %s)", where, pl.Bin, name, strings.Join(files, ", ")))
	}
	if !slices.ContainsFunc(files, func(f string) bool { return strings.EqualFold(strings.TrimSuffix(f, path.Ext(f)), "LICENSE") }) {
		errs = append(errs, fmt.Errorf("%s: %s has no LICENSE file at its root (krew requires one)", where, name))
	}
	return errs
}

func sha256File(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// archiveFiles lists the regular files of a .tar.gz or .zip archive.
func archiveFiles(file string) ([]string, error) {
	var names []string
	switch {
	case strings.HasSuffix(file, ".zip"):
		r, err := zip.OpenReader(file)
		if err != nil {
			return nil, fmt.Errorf("failed to open %s: %w", filepath.Base(file), err)
		}
		defer func() { _ = r.Close() }()
		for _, f := range r.File {
			if !f.FileInfo().IsDir() {
				names = append(names, f.Name)
			}
		}
	case strings.HasSuffix(file, ".tar.gz"), strings.HasSuffix(file, ".tgz"):
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer func() { _ = f.Close() }()
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("failed to open %s: %w", filepath.Base(file), err)
		}
		tr := tar.NewReader(gz)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("failed to read %s: %w", filepath.Base(file), err)
			}
			if h.Typeflag == tar.TypeReg {
				names = append(names, h.Name)
			}
		}
	default:
		return nil, fmt.Errorf("%s is neither .tar.gz nor .zip", filepath.Base(file))
	}
	return names, nil
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
