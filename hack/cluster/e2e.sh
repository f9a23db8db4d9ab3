#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# e2e.sh: runs the e2e suite (test/e2e, build tag e2e). `make test-e2e` calls it.
#
# By default on a local cluster of its own, CLUSTER_NAME (smartcity-e2e from make): started here
# unless it already runs, and deleted at the end only when it was started here. With
# E2E_KUBECONFIG=<file> it runs on that cluster instead and starts nothing.
#
# Settings (environment):
#   E2E_KUBECONFIG    any cluster (default: the local cluster's bin/cluster/<name>/kubeconfig)
#   E2E_OPERATOR      how the suite runs the operator: local (a process of this machine; default)
#   E2E_IMAGE         the image of the PublicServices the suite creates (default: the samples')
#   E2E_KEEP_CLUSTER  1: keep a cluster started here, to look at it after a failure
#   E2E_FLAGS         more go test / Ginkgo flags, e.g. -ginkgo.label-filter='!local-only'
#   E2E_TIMEOUT       go test -timeout (default 40m)
set -euo pipefail
# shellcheck source=hack/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "${ROOT}"

started=""
operator_bin=""
cleanup() {
  local rc=$?
  [[ -n "${operator_bin}" ]] && rm -f "${operator_bin}"
  if [[ -n "${started}" ]]; then
    if [[ "${E2E_KEEP_CLUSTER:-}" == 1 ]]; then
      info "E2E_KEEP_CLUSTER=1: cluster '${CLUSTER_NAME}' keeps running; export KUBECONFIG=${CLUSTER_KUBECONFIG}"
      info "delete it with: make cluster-down CLUSTER_NAME=${CLUSTER_NAME}"
    else
      "$(dirname "${BASH_SOURCE[0]}")/cluster.sh" down || rc=1
    fi
  fi
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -n "${E2E_KUBECONFIG:-}" ]]; then
  [[ -f "${E2E_KUBECONFIG}" ]] || die "E2E_KUBECONFIG=${E2E_KUBECONFIG}: no such file"
  kubeconfig="$(readlink -f "${E2E_KUBECONFIG}")"
  step "Running the e2e suite on the cluster of ${kubeconfig}"
else
  if "$(dirname "${BASH_SOURCE[0]}")/cluster.sh" running; then
    step "Cluster '${CLUSTER_NAME}' already runs: using it (and leaving it running)"
    "$(dirname "${BASH_SOURCE[0]}")/cluster.sh" up >/dev/null
  else
    started=1
    "$(dirname "${BASH_SOURCE[0]}")/cluster.sh" up
  fi
  kubeconfig="${CLUSTER_KUBECONFIG}"
fi

step "Building the operator for the suite"
operator_bin="${STATE_DIR}/e2e-manager"
[[ -n "${E2E_KUBECONFIG:-}" ]] && operator_bin="${LOCALBIN}/e2e-manager"
mkdir -p "$(dirname "${operator_bin}")"
go build -o "${operator_bin}" . || die "go build of the operator failed (see above)"

step "go test -tags e2e ./test/e2e/"
artifacts="$(mktemp -d "${TMPDIR:-/tmp}/smartcity-e2e.XXXXXX")"
color=""
[[ -t 1 ]] || color="-ginkgo.no-color"
# shellcheck disable=SC2086 # E2E_FLAGS is a list of flags
KUBECONFIG="${kubeconfig}" \
  E2E_OPERATOR="${E2E_OPERATOR:-local}" \
  E2E_OPERATOR_BINARY="${operator_bin}" \
  E2E_ARTIFACTS="${artifacts}" \
  go test -v -tags e2e -count=1 -timeout "${E2E_TIMEOUT:-40m}" ./test/e2e/ \
  -ginkgo.v ${color} ${E2E_FLAGS:-} || {
  rc=$?
  echo "e2e: FAILED; the operator logs are in ${artifacts}" >&2
  exit "${rc}"
}
rm -rf "${artifacts}"
