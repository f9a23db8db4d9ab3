package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	manifest := flag.String("manifest", "", "The krew plugin manifest, e.g. bin/release/krew/city.yaml.")
	dir := flag.String("dir", "", "The folder holding the release's archives (default: the manifest's folder's parent).")
	checksums := flag.String("checksums", "", "The release's checksum file (default: <dir>/checksums.txt).")
	platforms := flag.String("platforms", "darwin/amd64,darwin/arm64,linux/amd64,linux/arm64,windows/amd64,windows/arm64",
		"The os/arch pairs the manifest must cover, each exactly once.")
	flag.Parse()
	if *manifest == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: krewcheck -manifest FILE [-dir DIR] [-checksums FILE] [-platforms os/arch,...]")
		os.Exit(2)
	}
	if *dir == "" {
		*dir = filepath.Dir(filepath.Dir(*manifest))
	}
	if *checksums == "" {
		*checksums = filepath.Join(*dir, "checksums.txt")
	}
	plugin, err := readManifest(*manifest)
	if err != nil {
		fmt.Fprintf(os.Stderr, "krewcheck: %v\n", err)
		os.Exit(1)
	}
	sums, err := readChecksums(*checksums)
	if err != nil {
		fmt.Fprintf(os.Stderr, "krewcheck: %v\n", err)
		os.Exit(1)
	}
	if errs := check(plugin, *dir, sums, strings.Split(*platforms, ",")); len(errs) > 0 {
		fmt.Fprintf(os.Stderr, "krewcheck: %s does not match the release in %s:\n", *manifest, *dir)
		for _, e := range errs {
			fmt.Fprintf(os.Stderr, "  - %v\n", e)
		}
		os.Exit(1)
	}
	fmt.Printf("krewcheck: %s (plugin %s %s): %d platforms, each archive present, its sha256 matching the manifest and %s, "+
		"with %s and a LICENSE inside\n",
		*manifest, plugin.Name, plugin.Spec.Version, len(plugin.Spec.Platforms), filepath.Base(*checksums), plugin.Spec.Platforms[0].Bin)
}
