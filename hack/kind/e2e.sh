#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# e2e.sh: `make test-e2e-kind`. Real connectivity probes on a kind cluster of its own.
#
#   1. Docker (docker.sh up); a machine that cannot run it fails here, naming the opt-out KIND=0.
#   2. The cluster KIND_CLUSTER_NAME (default smartcity-kind-e2e, API port KIND_API_PORT=16444,
#      never the demo's smartcity-kind/16443): created when absent, reused when it runs.
#   3. The images (images.sh load), the operator in-cluster and the sample city (deploy.sh).
#   4. go test -tags e2e ./test/e2e-kind/: for every flow (every ordered pair of sample
#      services on the service port and on an undeclared one; each zone from an address inside
#      and one outside its CIDR, on Docker networks with the zones' CIDRs attached to the node;
#      a consumer without consent; a foreign allow-all policy) the intent, the audit engine's
#      verdict on the live cluster and the probe's result, in one table.
#   5. Moves the operator from install.yaml to the Helm chart (deploy.sh chart: make undeploy, helm
#      install): every PublicService stays Ready, no pod of the sample city is replaced or restarted.
#   6. Deletes the sample city (its pods fill the single node's cpu), then runs the portable e2e
#      cases: go test -tags e2e ./test/e2e/ -ginkgo.label-filter='!local-only' with
#      E2E_OPERATOR=incluster (the operator's Deployment, now the chart's, is the operator under
#      test; its replicas are restored afterwards) and E2E_IMAGE=the city-service image loaded in
#      the node.
#   7. Deletes the cluster if this run created it, unless E2E_KEEP_CLUSTER=1.
#
# Environment: KIND_CLUSTER_NAME, KIND_API_PORT, KIND_IMAGES (offline|stock), E2E_KEEP_CLUSTER=1,
# E2E_KIND_FLAGS (more go test / Ginkgo flags for test/e2e-kind), E2E_KIND_PORTABLE_FLAGS (for
# test/e2e), E2E_TIMEOUT (go test -timeout, default 20m).
set -euo pipefail
export KIND_CLUSTER_NAME="${KIND_CLUSTER_NAME:-smartcity-kind-e2e}"
export KIND_API_PORT="${KIND_API_PORT:-16444}"
# shellcheck source=hack/kind/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NODE="${KIND_CLUSTER_NAME}-control-plane"
NODE_PROBE=/usr/local/bin/smartcity-probe
CREATED=""
TESTING=""

docker_or_die() {
  if ! "${KIND_DIR}/docker.sh" up; then
    die "the kind stage needs Docker, and Docker cannot run on this machine (see the error above)" \
      "install and start Docker (Debian: apt-get install docker.io), or skip the kind stage" \
      "explicitly with KIND=0:   KIND=0 make test   (the summary then says the stage was skipped)"
  fi
}

cluster() {
  use_docker
  if cluster_exists; then
    info "cluster ${KIND_CLUSTER_NAME} exists: reusing it (and keeping it)"
  else
    CREATED=1
  fi
  "${KIND_DIR}/cluster.sh" up
}

node_probe() {
  local tmp
  tmp="$(mktemp)"
  (cd "${ROOT}" && CGO_ENABLED=0 GOWORK=off go build -trimpath -buildvcs=false -ldflags "-s -w" -o "${tmp}" ./cmd/probe)
  docker cp "${tmp}" "${NODE}:${NODE_PROBE}" >/dev/null
  rm -f "${tmp}"
  ok "probe copied into ${NODE} (${NODE_PROBE}, for the control probes)"
}

gotest() {
  TESTING=1
  # shellcheck source=/dev/null
  source "${IMAGES_ENV}"
  local color=()
  [[ -t 1 ]] || color=(-ginkgo.no-color)
  local log
  log="$(mktemp)"
  # shellcheck disable=SC2086 # E2E_KIND_FLAGS is a list of flags
  (cd "${ROOT}" && KUBECONFIG="${KIND_KUBECONFIG}" E2E_KIND_PROBE_IMAGE="${PROBE_IMAGE}" \
    E2E_KIND_SERVICE_IMAGE="${CITY_SERVICE_IMAGE}" E2E_KIND_NODE_PROBE="${NODE_PROBE}" \
    go test -v -tags e2e -count=1 -timeout "${E2E_TIMEOUT:-20m}" ./test/e2e-kind/ "${color[@]}" ${E2E_KIND_FLAGS:-}) | tee "${log}"
  # A suite that ran nothing must not pass (a wrong build tag gives "no test files" and exit 0).
  if ! grep -q -- '^--- PASS: TestKind' "${log}"; then
    rm -f "${log}"
    die "the kind suite (TestKind in test/e2e-kind) did not run and pass"
  fi
  rm -f "${log}"
}

# free_node: the sample city asks for nearly all of the single node's cpu; the portable cases
# need room for their own pods. Deletes its PublicServices and namespaces and waits until their
# pods have gone.
SAMPLE_NAMESPACES=(city-portal city-identity city-health)
free_node() {
  local ns deadline=$((SECONDS + 300))
  for ns in "${SAMPLE_NAMESPACES[@]}"; do
    kc -n "${ns}" delete publicservices --all --wait=false >/dev/null 2>&1 || true
  done
  kc delete namespace "${SAMPLE_NAMESPACES[@]}" --ignore-not-found --wait=false >/dev/null
  while ((SECONDS < deadline)); do
    if ! kc get namespace "${SAMPLE_NAMESPACES[@]}" --ignore-not-found --no-headers 2>/dev/null | grep -q .; then
      ok "sample city deleted (namespaces ${SAMPLE_NAMESPACES[*]} and their pods gone)"
      return 0
    fi
    sleep 2
  done
  kc get pods -A -o wide >&2 || true
  die "the sample city's namespaces (${SAMPLE_NAMESPACES[*]}) were not deleted within 300s"
}

# portable: the e2e cases that run on any cluster (test/e2e, label filter !local-only), with the
# operator's Deployment as the operator under test (E2E_OPERATOR=incluster: it scales it, kills
# its pods, and runs two replicas for the leader handover). The Deployment gets its replicas back
# afterwards.
OPERATOR_NAMESPACE=smartcity-system
OPERATOR_DEPLOYMENT=smartcity-controller-manager
OPERATOR_REPLICAS=""
restore_operator() {
  [[ -n "${OPERATOR_REPLICAS}" ]] || return 0
  kc -n "${OPERATOR_NAMESPACE}" scale "deploy/${OPERATOR_DEPLOYMENT}" --replicas="${OPERATOR_REPLICAS}" >/dev/null &&
    kc -n "${OPERATOR_NAMESPACE}" rollout status "deploy/${OPERATOR_DEPLOYMENT}" --timeout=180s >/dev/null
}
portable() {
  TESTING=1
  # shellcheck source=/dev/null
  source "${IMAGES_ENV}"
  OPERATOR_REPLICAS="$(kc -n "${OPERATOR_NAMESPACE}" get "deploy/${OPERATOR_DEPLOYMENT}" -o jsonpath='{.spec.replicas}')"
  local color=()
  [[ -t 1 ]] || color=(-ginkgo.no-color)
  local log artifacts rc=0
  log="$(mktemp)"
  artifacts="$(mktemp -d)"
  # shellcheck disable=SC2086 # E2E_KIND_PORTABLE_FLAGS is a list of flags
  (cd "${ROOT}" && KUBECONFIG="${KIND_KUBECONFIG}" E2E_OPERATOR=incluster E2E_NODE_EXEC="docker exec" \
    E2E_OPERATOR_NAMESPACE="${OPERATOR_NAMESPACE}" E2E_IMAGE="${CITY_SERVICE_IMAGE}" E2E_ARTIFACTS="${artifacts}" \
    go test -v -tags e2e -count=1 -timeout "${E2E_TIMEOUT:-20m}" ./test/e2e/ -ginkgo.v "${color[@]}" \
    -ginkgo.label-filter='!local-only' ${E2E_KIND_PORTABLE_FLAGS:-}) | tee "${log}" || rc=1
  restore_operator || { warn "could not scale ${OPERATOR_DEPLOYMENT} back to ${OPERATOR_REPLICAS}"; rc=1; }
  OPERATOR_REPLICAS=""
  if [[ ${rc} -ne 0 ]] || ! grep -q -- '^--- PASS: TestE2E' "${log}"; then
    rm -f "${log}"
    die "the portable e2e cases (TestE2E in test/e2e, !local-only, in-cluster operator) did not run and pass"
  fi
  grep -E '^Ran [0-9]+ of [0-9]+ Specs' "${log}" || true
  rm -rf "${log}" "${artifacts}"
}

# finish: on failure, what the operator and the pods were doing; then the cluster goes away if
# this run created it (E2E_KEEP_CLUSTER=1 keeps it).
finish() {
  local rc=$?
  trap - EXIT
  if [[ ${rc} -ne 0 && -n "${TESTING}" ]]; then
    echo "---- kubectl get pods -A; operator log (last 40 lines) ----" >&2
    kc get pods -A -o wide >&2 2>/dev/null || true
    kc -n smartcity-system logs deploy/smartcity-controller-manager --tail=40 >&2 2>/dev/null || true
  fi
  restore_operator >/dev/null 2>&1 || true
  # What the test attaches (zone networks, servers) carries the label; remove any leftover.
  if [[ -n "${DOCKER_MODE:-}" ]]; then
    docker ps -aq --filter "label=io.smartcity.kind=${KIND_CLUSTER_NAME}" 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1 || true
  fi
  if [[ -n "${CREATED}" && "${E2E_KEEP_CLUSTER:-}" != 1 ]]; then
    "${KIND_DIR}/cluster.sh" down || rc=1
  elif [[ -n "${CREATED}" ]]; then
    info "E2E_KEEP_CLUSTER=1: keeping cluster ${KIND_CLUSTER_NAME}; delete it with: make kind-down KIND_CLUSTER_NAME=${KIND_CLUSTER_NAME}"
  fi
  exit "${rc}"
}

trap finish EXIT
phase "docker" docker_or_die
phase "kind cluster ${KIND_CLUSTER_NAME} (API port ${KIND_API_PORT})" cluster
phase "images" "${KIND_DIR}/images.sh" load
phase "operator and sample city" "${KIND_DIR}/deploy.sh" all
phase "control probe in the node" node_probe
phase "go test -tags e2e ./test/e2e-kind/" gotest
phase "install.yaml -> Helm chart, the city stays Ready" "${KIND_DIR}/deploy.sh" chart
phase "free the node: delete the sample city" free_node
phase "go test -tags e2e ./test/e2e/ (!local-only, in-cluster operator)" portable
phase_summary "test-e2e-kind timings"
