#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# cluster.sh up|down|status
#
# A real single-node kind cluster (KIND_CLUSTER_NAME, default smartcity-kind) with real pods and
# NetworkPolicy enforced, with its own Docker network, API port (KIND_API_PORT, 16443) and
# kubeconfig (bin/kind-cluster/<name>/kubeconfig; ~/.kube/config is never read or written).
#
#   up      Docker (docker.sh), the binaries, the node image, the cluster, the policy enforcer;
#           waits until the node and every kube-system pod are Ready. Idempotent.
#   down    deletes the cluster, its Docker networks and the private Docker daemon.
#   status  what runs.
#
# KIND_IMAGES=offline builds everything here (node image, control-plane images, kube-router),
# with nothing pulled; KIND_IMAGES=stock uses kind's published node image and its kindnet CNI
# (NetworkPolicy included). Unset, stock is chosen only when that node image is present or a
# registry answers; the choice is printed.
set -euo pipefail
# shellcheck source=hack/kind/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WAIT_TIMEOUT="${KIND_WAIT_TIMEOUT:-600}"
# kind names its network "kind" unless told otherwise.
export KIND_EXPERIMENTAL_DOCKER_NETWORK="${KIND_NETWORK}"

choose_images() {
  local recorded=""
  if cluster_exists && [[ -s "${STATE_DIR}/images-mode" ]]; then recorded="$(cat "${STATE_DIR}/images-mode")"; fi
  if [[ -n "${recorded}" && -n "${KIND_IMAGES}" && "${KIND_IMAGES}" != "${recorded}" ]]; then
    die "cluster ${KIND_CLUSTER_NAME} was created with KIND_IMAGES=${recorded}, not ${KIND_IMAGES}" "delete it first: make kind-down"
  fi
  case "${KIND_IMAGES}" in
  offline | stock) info "KIND_IMAGES=${KIND_IMAGES} (set by you)" ;;
  "")
    if [[ -n "${recorded}" ]]; then
      KIND_IMAGES="${recorded}"
      info "KIND_IMAGES=${KIND_IMAGES} (as when cluster ${KIND_CLUSTER_NAME} was created)"
    elif docker image inspect "${STOCK_NODE_IMAGE}" >/dev/null 2>&1; then
      KIND_IMAGES=stock
      info "KIND_IMAGES=stock (kind's node image ${STOCK_NODE_IMAGE%%@*} is present)"
    elif timeout 5 bash -c '</dev/tcp/registry-1.docker.io/443' 2>/dev/null; then
      KIND_IMAGES=stock
      info "KIND_IMAGES=stock (a registry is reachable: kind's node image will be pulled)"
    else
      KIND_IMAGES=offline
      info "KIND_IMAGES=offline (no registry reachable: the node image is built here; KIND_IMAGES=stock to override)"
    fi
    ;;
  *) die "KIND_IMAGES must be offline or stock, not '${KIND_IMAGES}'" ;;
  esac
  export KIND_IMAGES
  mkdir -p "${STATE_DIR}"
  echo "${KIND_IMAGES}" >"${STATE_DIR}/images-mode"
}

bins() {
  if [[ "${KIND_IMAGES}" == offline ]]; then
    "${ROOT}/hack/ensure-bins.sh" kind
  else
    "${ROOT}/hack/ensure-bins.sh" kind kubectl
  fi
}

node_image() {
  if [[ "${KIND_IMAGES}" == stock ]]; then
    NODE_IMAGE="${STOCK_NODE_IMAGE}"
  else
    NODE_IMAGE="$("${KIND_DIR}/node-image.sh")"
  fi
  echo "${NODE_IMAGE}" >"${STATE_DIR}/node-image"
  ok "node image: ${NODE_IMAGE}"
}

api_ready() { kc get --raw /readyz >/dev/null 2>&1; }

create() {
  if cluster_exists; then
    local node="${KIND_CLUSTER_NAME}-control-plane"
    if [[ "$(docker inspect -f '{{.State.Running}}' "${node}" 2>/dev/null)" != true ]]; then
      info "starting the stopped node container ${node}"
      docker start "${node}" >/dev/null
    fi
    kind get kubeconfig --name "${KIND_CLUSTER_NAME}" >"${KIND_KUBECONFIG}.tmp" && mv -f "${KIND_KUBECONFIG}.tmp" "${KIND_KUBECONFIG}"
    local i
    for ((i = 0; i < 60; i++)); do
      api_ready && break
      sleep 2
    done
    api_ready || die "cluster ${KIND_CLUSTER_NAME} exists but its API server does not answer" \
      "delete it with: make kind-down"
    ok "cluster ${KIND_CLUSTER_NAME} already exists; reusing it"
    return
  fi
  if timeout 2 bash -c "</dev/tcp/127.0.0.1/${KIND_API_PORT}" 2>/dev/null; then
    die "port ${KIND_API_PORT} on 127.0.0.1 is in use" "pick another with KIND_API_PORT=<port>"
  fi
  local cfg="${STATE_DIR}/kind-config.yaml" disable_cni=true
  [[ "${KIND_IMAGES}" == stock ]] && disable_cni=false
  sed -e "s#@API_PORT@#${KIND_API_PORT}#" -e "s#@NODE_IMAGE@#${NODE_IMAGE}#" -e "s#@DISABLE_DEFAULT_CNI@#${disable_cni}#" \
    "${KIND_DIR}/kind-config.yaml" >"${cfg}"
  info "kind create cluster --name ${KIND_CLUSTER_NAME} (network ${KIND_NETWORK}, API 127.0.0.1:${KIND_API_PORT})"
  if ! kind create cluster --name "${KIND_CLUSTER_NAME}" --config "${cfg}" --kubeconfig "${KIND_KUBECONFIG}" \
    --wait 0s --retain; then
    local logs="${STATE_DIR}/logs"
    rm -rf "${logs}"
    kind export logs "${logs}" --name "${KIND_CLUSTER_NAME}" >/dev/null 2>&1 || true
    kind delete cluster --name "${KIND_CLUSTER_NAME}" --kubeconfig "${KIND_KUBECONFIG}" >/dev/null 2>&1 || true
    die "kind create cluster failed; the node's logs are in ${logs}" \
      "kubelet: ${logs}/${KIND_CLUSTER_NAME}-control-plane/kubelet.log, containerd: .../containerd.log"
  fi
}

policy_enforcer() {
  if [[ "${KIND_IMAGES}" == stock ]]; then
    info "kindnet (kind's default CNI) enforces NetworkPolicy"
    return
  fi
  local image="smartcity-kind/kube-router:${KUBE_ROUTER_VERSION}-${NODE_IMAGE##*-}"
  sed "s#KUBE_ROUTER_IMAGE#${image}#" "${KIND_DIR}/kube-router.yaml" | kc apply --server-side -f - >/dev/null
  ok "kube-router (firewall only) applied: ${image}"
}

# all_ready "R/N...": R equals N, and N > 0.
all_ready() {
  local counts="${1%%;*}"
  [[ "${counts%%/*}" == "${counts#*/}" && "${counts#*/}" -gt 0 ]]
}

# workloads: the kube-system workloads that must be ready, beyond the static control plane.
workloads() {
  if [[ "${KIND_IMAGES}" == stock ]]; then
    echo deployment/coredns daemonset/kube-proxy daemonset/kindnet
  else
    echo deployment/coredns daemonset/kube-proxy daemonset/kube-router
  fi
}

# workloads_ready: "R/N" of the workloads above that exist and have all their pods ready.
workloads_ready() {
  local w n=0 r=0 got
  for w in $(workloads); do
    n=$((n + 1))
    if [[ "${w}" == deployment/* ]]; then
      got="$(kc -n kube-system get "${w}" -o jsonpath='{.status.readyReplicas}/{.spec.replicas}' 2>/dev/null || true)"
    else
      got="$(kc -n kube-system get "${w}" -o jsonpath='{.status.numberReady}/{.status.desiredNumberScheduled}' 2>/dev/null || true)"
    fi
    all_ready "${got:-0/0}" && r=$((r + 1))
  done
  echo "${r}/${n}"
}

# wait_ready: the node Ready, coredns, kube-proxy and the policy enforcer ready, and every
# kube-system pod Ready, with a progress line when the picture changes.
wait_ready() {
  local deadline=$((SECONDS + WAIT_TIMEOUT)) last="" line nodes pods wl
  while ((SECONDS < deadline)); do
    nodes="$(kc get nodes --no-headers 2>/dev/null | awk '{ n++; if ($2 == "Ready") r++ } END { printf "%d/%d", r, n }')"
    wl="$(workloads_ready)"
    pods="$(kc get pods -n kube-system --no-headers 2>/dev/null | awk '
      { n++; split($2, c, "/"); if (c[1] == c[2] && $3 == "Running") r++; else w = w " " $1 "(" $3 ")" }
      END { printf "%d/%d%s", r, n, (w == "" ? "" : "; waiting:" w) }')"
    line="nodes Ready ${nodes}, workloads ready ${wl} ($(workloads | tr ' ' ',')), kube-system pods Ready ${pods}"
    [[ "${line}" != "${last}" ]] && info "[$(fmt_secs $((SECONDS - ${WAIT_START:-0})))] ${line}"
    last="${line}"
    if all_ready "${nodes}" && all_ready "${wl}" && all_ready "${pods}"; then
      ok "cluster ${KIND_CLUSTER_NAME} is Ready"
      return 0
    fi
    sleep 3
  done
  kc get pods -A -o wide >&2 || true
  kc get events -A --sort-by=.lastTimestamp 2>/dev/null | tail -n 20 >&2 || true
  die "the cluster was not Ready within ${WAIT_TIMEOUT}s (KIND_WAIT_TIMEOUT)" \
    "kubelet's log: docker exec ${KIND_CLUSTER_NAME}-control-plane journalctl -u kubelet --no-pager | tail"
}

up() {
  local t0=${SECONDS}
  phase "docker" "${KIND_DIR}/docker.sh" up
  use_docker
  phase "choose images" choose_images
  phase "binaries (hack/ensure-bins.sh kind)" bins
  phase "node image (${KIND_IMAGES})" node_image
  phase "create cluster ${KIND_CLUSTER_NAME}" create
  phase "NetworkPolicy enforcer" policy_enforcer
  WAIT_START=${SECONDS}
  phase "wait until Ready" wait_ready
  phase_summary "kind-up timings"
  cat <<EOF

cluster ${KIND_CLUSTER_NAME} is up ($(fmt_secs $((SECONDS - t0)))): images ${KIND_IMAGES}, Docker ${DOCKER_MODE}
  export KUBECONFIG=${KIND_KUBECONFIG}${DOCKER_HOST:+
  export DOCKER_HOST=${DOCKER_HOST}   # for docker and kind commands}
  kubectl get pods -A
EOF
}

delete_cluster() {
  if cluster_exists; then
    kind delete cluster --name "${KIND_CLUSTER_NAME}" --kubeconfig "${KIND_KUBECONFIG}"
  else
    info "no cluster ${KIND_CLUSTER_NAME}"
  fi
  rm -rf "${STATE_DIR}"
}

delete_networks() {
  local net
  # The zone networks the tests attach (label io.smartcity.kind=<cluster>), then kind's network
  # when no other node uses it.
  for net in $(docker network ls --format '{{.Name}}' --filter "label=io.smartcity.kind=${KIND_CLUSTER_NAME}" 2>/dev/null); do
    docker network rm "${net}" >/dev/null && info "removed network ${net}"
  done
  if docker network inspect "${KIND_NETWORK}" >/dev/null 2>&1; then
    if [[ -z "$(docker network inspect -f '{{range .Containers}}{{.Name}} {{end}}' "${KIND_NETWORK}")" ]]; then
      docker network rm "${KIND_NETWORK}" >/dev/null && info "removed network ${KIND_NETWORK}"
    else
      warn "network ${KIND_NETWORK} is still used by other containers; kept"
    fi
  fi
}

down() {
  use_docker
  if [[ "${DOCKER_MODE}" == private ]] && ! [[ -S "${PRIVATE_DOCKER_SOCK}" ]]; then
    rm -rf "${STATE_DIR}"
    ok "nothing to delete: the private Docker daemon is not running"
    return
  fi
  phase "delete cluster ${KIND_CLUSTER_NAME}" delete_cluster
  phase "delete networks" delete_networks
  if [[ "${DOCKER_MODE}" == private ]]; then
    # The private daemon is shared by every kind cluster of this machine (other clones, CI):
    # stop it only when no container is left on it.
    local others
    others="$(docker ps -aq | wc -l)"
    if [[ "${others}" -eq 0 ]]; then
      phase "stop the private Docker daemon" "${KIND_DIR}/docker.sh" down
    else
      info "the private Docker daemon keeps running: ${others} container(s) of other kind clusters use it"
    fi
  fi
  phase_summary "kind-down timings"
}

status() {
  use_docker
  "${KIND_DIR}/docker.sh" status
  if cluster_exists; then
    echo "cluster ${KIND_CLUSTER_NAME}: kubeconfig ${KIND_KUBECONFIG}"
    kc get nodes -o wide 2>/dev/null || true
  else
    echo "cluster ${KIND_CLUSTER_NAME}: not created"
  fi
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
*)
  echo "usage: $0 up|down|status" >&2
  exit 2
  ;;
esac
