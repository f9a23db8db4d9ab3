#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# test-stages.sh [STAGE...]
#
# Runs the test stages in order (all of them, or the ones named), each under a banner with its
# elapsed time, stops at the first failing stage, and ends with a summary table. `make test` and
# .ci/run call this. Each stage is a make target; a new stage is one line in STAGES. A stage may
# name an opt-out variable: KIND=0 skips the kind stage (make test-e2e-kind), and the banner and the
# summary say so; nothing is ever skipped silently (a machine without Docker fails the stage).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# name | command [| opt-out variable: VAR=0 skips the stage, loudly, and the summary says so]
STAGES=(
  "verify|make verify"
  "unit|make test-unit"
  "envtest|make test-envtest"
  "e2e|make test-e2e"
  "bench|make bench-smoke"
  "kind|make test-e2e-kind|KIND"
)

fmt_secs() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

selected=()
if [[ $# -gt 0 ]]; then
  for want in "$@"; do
    found=""
    for s in "${STAGES[@]}"; do [[ "${s%%|*}" == "${want}" ]] && selected+=("${s}") && found=1; done
    [[ -n "${found}" ]] || { echo "test-stages: unknown stage '${want}'" >&2; exit 2; }
  done
else
  selected=("${STAGES[@]}")
fi

logdir="$(mktemp -d)"
trap 'rm -rf "${logdir}"' EXIT

names=() results=() times=() skipped_optout=()
total_start=${SECONDS}
failed=""
n=${#selected[@]}
i=0
for s in "${selected[@]}"; do
  i=$((i + 1))
  name="${s%%|*}" cmd="${s#*|}" optout=""
  if [[ "${cmd}" == *"|"* ]]; then optout="${cmd#*|}" cmd="${cmd%%|*}"; fi
  names+=("${name}")
  if [[ -n "${failed}" ]]; then
    results+=("skipped") times+=("-")
    continue
  fi
  if [[ -n "${optout}" && "${!optout:-}" == 0 ]]; then
    results+=("SKIPPED(${optout}=0)") times+=("-")
    skipped_optout+=("${name} (${optout}=0)")
    echo
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    echo "!!! stage ${i}/${n}: ${name} SKIPPED because ${optout}=0 is set: ${cmd} did not run"
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    continue
  fi
  echo
  echo "=================================================================="
  echo "==> stage ${i}/${n}: ${name}  (${cmd})"
  echo "=================================================================="
  start=${SECONDS}
  rc=0
  bash -c "${cmd}" 2>&1 | tee "${logdir}/${name}.log" || rc=$?
  elapsed=$((SECONDS - start))
  times+=("$(fmt_secs "${elapsed}")")
  if [[ ${rc} -eq 0 ]]; then
    results+=("passed")
    echo "<== stage ${name} passed in $(fmt_secs "${elapsed}")"
  else
    results+=("FAILED")
    failed="${name}"
    echo "<== stage ${name} FAILED (exit ${rc}) after $(fmt_secs "${elapsed}")"
  fi
done

# go test packages, counted from the stages' output ("ok  pkg", "FAIL  pkg").
pkg_ok=$(cat "${logdir}"/*.log 2>/dev/null | grep -cE '^ok[[:space:]]' || true)
pkg_fail=$(cat "${logdir}"/*.log 2>/dev/null | grep -cE '^FAIL[[:space:]]+[^[:space:]]+' || true)

echo
echo "=================================================================="
printf '%-10s %-16s %s\n' STAGE RESULT TIME
for j in "${!names[@]}"; do
  printf '%-10s %-16s %s\n' "${names[$j]}" "${results[$j]}" "${times[$j]}"
done
printf '%-10s %-16s %s\n' total "$([[ -z ${failed} ]] && echo passed || echo FAILED)" "$(fmt_secs $((SECONDS - total_start)))"
echo "=================================================================="
echo "packages: ${pkg_ok} passed, ${pkg_fail} failed"
if [[ ${#skipped_optout[@]} -gt 0 ]]; then
  echo "WARNING: NOT TESTED, skipped on request: ${skipped_optout[*]}"
fi
[[ -z "${failed}" ]] || exit 1
