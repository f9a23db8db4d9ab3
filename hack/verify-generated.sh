#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# verify-generated.sh CMD...
#
# Runs CMD (the generators: make manifests generate docs fmt tidy) and fails when it changed, added
# or removed any file that is tracked or would be (not gitignored). Comparing content before and
# after, rather than against HEAD, makes it work both in CI's clean clone and in a work tree with
# uncommitted edits. The regenerated files are left in place, ready to commit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

snapshot() {
  git ls-files -z --cached --others --exclude-standard |
    xargs -0 -r sha256sum -- 2>/dev/null | sort -k2 || true
}

[[ $# -gt 0 ]] || { echo "usage: $0 CMD..." >&2; exit 2; }
before="$(snapshot)"
"$@"
after="$(snapshot)"

if [[ "${before}" == "${after}" ]]; then
  echo "verify: generated files, docs, formatting and go.mod files are up to date"
  exit 0
fi

mapfile -t changed < <(diff <(printf '%s\n' "${before}") <(printf '%s\n' "${after}") |
  sed -n 's/^[<>] [0-9a-f]\{64\}  //p' | sort -u)
{
  echo
  echo "verify: FAILED: these files were stale and have been regenerated in your work tree:"
  printf '  %s\n' "${changed[@]}"
  echo
  git --no-pager diff --stat -- "${changed[@]}" 2>/dev/null || true
  git --no-pager diff -- "${changed[@]}" 2>/dev/null | head -n 120 || true
  echo
  echo "Run 'make manifests generate docs fmt tidy' (what this check just did), review the result"
  echo "with 'git status' and 'git diff', and commit it."
} >&2
exit 1
