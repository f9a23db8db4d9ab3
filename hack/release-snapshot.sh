#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# release-snapshot.sh
#
# make release-snapshot: a complete release, offline, in bin/release (goreleaser's dist; dist/ is
# make build-installer's): the manager and kubectl-city for linux, darwin and windows on amd64 and
# arm64 (CGO off), their archives with the LICENSE, checksums.txt and the krew manifest
# krew/city.yaml. Nothing is published, signed or pulled: --snapshot implies
# --skip=announce,publish,validate, and images, signatures and SBOMs (docker, sign, sbom) need
# registries, Sigstore and syft, so they are left to .github/workflows/release.yaml.
# Then the krew manifest is checked: krew's own structural validation (validate-krew-manifest
# -skip-install: no download, no kubectl krew) and hack/krewcheck (sha256 and URIs against the
# archives and checksums.txt). Prints each artifact with its size and the time taken.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"
# shellcheck source=hack/lib/log.sh
source hack/lib/log.sh

out=bin/release
manifest="${out}/krew/city.yaml"
goreleaser() { go tool -modfile="${ROOT}/hack/goreleaser/go.mod" goreleaser "$@"; }

start=${SECONDS}
# goreleaser reads the commit and its date only when `git ls-remote --get-url` names a remote (a
# local lookup, nothing is contacted); a clone made with `git clone` has one. For a work tree
# without a remote (git worktree, git init), name the project's for this run only, through git's
# environment configuration: without it every binary would say commit "none".
if ! git ls-remote --get-url >/dev/null 2>&1; then
  info "no git remote: using https://github.com/smartcity-io/smartcity-operator.git for this run (nothing is fetched)"
  export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url
  export GIT_CONFIG_VALUE_0=https://github.com/smartcity-io/smartcity-operator.git
fi
step "Building goreleaser (hack/goreleaser; the first build takes a few minutes, then Go's cache has it)"
goreleaser --version | sed -n 's/^GitVersion: */    goreleaser /p'

step "goreleaser release --snapshot into ${out}: 12 binaries, 12 archives, checksums, krew manifest"
# GORELEASER_CURRENT_TAG is left alone: a clone without tags is released as v0.0.0 (snapshot
# version 0.0.1-snapshot+<commit>), a tagged one as its next patch.
goreleaser release --snapshot --clean --skip=docker,sign,sbom --timeout=60m ||
  die "goreleaser failed (see its output above)" \
    "It needs only the Go module proxy; .goreleaser.yaml is checked with: go tool -modfile=hack/goreleaser/go.mod goreleaser check"
[[ -f "${manifest}" ]] || die "goreleaser wrote no krew manifest at ${manifest}"

step "krew's validation of ${manifest} (validate-krew-manifest -skip-install, sigs.k8s.io/krew $(
  awk '$1 == "sigs.k8s.io/krew" { print $2 }' hack/krewcheck/go.mod))"
go tool -modfile="${ROOT}/hack/krewcheck/go.mod" validate-krew-manifest -manifest "${manifest}" -skip-install 2>&1 |
  sed 's/^/    /' || die "krew rejects ${manifest}"

step "The krew manifest against the archives and checksums.txt (hack/krewcheck)"
(cd hack/krewcheck && go run . -manifest "${ROOT}/${manifest}") || die "the krew manifest does not match the release"

step "Artifacts in ${out}"
files=()
for f in "${out}"/*.tar.gz "${out}"/*.zip "${out}/checksums.txt" "${manifest}"; do
  [[ -f "${f}" ]] && files+=("${f#"${out}"/}")
done
for f in "${files[@]}"; do
  printf '    %-52s %8s\n' "${f}" "$(du -h --apparent-size "${out}/${f}" | cut -f1)"
done
archives=$(printf '%s\n' "${files[@]}" | grep -cE '\.(tar\.gz|zip)$')
[[ "${archives}" -eq 12 ]] || die "expected 12 archives (2 binaries x 3 OS x 2 architectures), found ${archives}"
ok "release snapshot $(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' "${out}/metadata.json") in ${out}: ${archives} archives," \
  "checksums, krew manifest checked; $(fmt_secs $((SECONDS - start)))"
