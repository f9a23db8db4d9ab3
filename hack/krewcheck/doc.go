// Command krewcheck checks the krew plugin manifest that goreleaser writes for a release against
// the release's own files, offline: every platform's URI names an archive that exists, its sha256
// is that archive's (and checksums.txt's), the archive holds the plugin binary and a LICENSE, and
// the platforms are exactly the ones released. make release-snapshot runs it after krew's own
// structural validation (validate-krew-manifest -skip-install, from the same tools module).
package main
