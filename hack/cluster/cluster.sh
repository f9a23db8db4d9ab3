#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# cluster.sh up|down|status|check|running
#
# A local Kubernetes cluster without containers: etcd, kube-apiserver, kube-controller-manager and
# kube-scheduler v1.37.2 run as local processes (kwokctl --runtime binary), and kwok's controller
# plays CLUSTER_NODES fake nodes, one per zone, that run pods without running anything. Every
# binary is built from pinned modules by hack/ensure-bins.sh. Everything listens on 127.0.0.1.
#
#   up       build what is missing, start the cluster (or reuse it when it already runs)
#   down     stop the cluster and the demo operator, and delete their files
#   status   what runs, where its kubeconfig is
#   check    the controllers and admission we rely on are active
#   running  exit 0 when the cluster is up
#
# Settings (environment): CLUSTER_NAME (smartcity), CLUSTER_NODES (3), CLUSTER_APISERVER_PORT
# (empty: a free port), each node's allocatable CLUSTER_NODE_PODS (1500), CLUSTER_NODE_CPU (500)
# and CLUSTER_NODE_MEMORY (1Ti), the extra Service range CLUSTER_SERVICE_CIDR (10.96.0.0/16) and
# CLUSTER_AUDIT_POLICY (a file: the API server writes an audit log). The kubeconfig is
# bin/cluster/<CLUSTER_NAME>/kubeconfig.
set -euo pipefail
# shellcheck source=hack/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ZONES=(zone-a zone-b zone-c)
# kube-controller-manager controllers the operator and its tests depend on.
REQUIRED_CONTROLLERS=(deployment-controller replicaset-controller garbage-collector-controller
  namespace-controller horizontal-pod-autoscaler-controller disruption-controller)

kwokctl_() { kwokctl --name "${CLUSTER_NAME}" "$@"; }

# The kwokctl configuration every cluster in bin/cluster/.kwok shares: local binaries only (no
# downloads), loopback only, and kubectl v1.37.2.
write_kwok_config() {
  local b
  for b in kube-apiserver kube-controller-manager kube-scheduler etcd kwok kubectl; do
    [[ -x "${LOCALBIN}/${b}" ]] || die "${LOCALBIN}/${b} is missing" "run: hack/ensure-bins.sh cluster"
  done
  # Resolved paths into the binary cache, so a running cluster does not depend on this clone's
  # bin/ links.
  write_atomic "${KWOK_DIR}/kwok.yaml" <<EOF
# Written by hack/cluster/cluster.sh on every 'up'; edits are overwritten.
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  bindAddress: 127.0.0.1
  kubeVersion: v1.37.2
  kubeApiserverBinary: $(readlink -f "${LOCALBIN}/kube-apiserver")
  kubeControllerManagerBinary: $(readlink -f "${LOCALBIN}/kube-controller-manager")
  kubeSchedulerBinary: $(readlink -f "${LOCALBIN}/kube-scheduler")
  etcdBinary: $(readlink -f "${LOCALBIN}/etcd")
  kwokControllerBinary: $(readlink -f "${LOCALBIN}/kwok")
  kubectlBinary: $(readlink -f "${LOCALBIN}/kubectl")
EOF
}

exists() { [[ -f "${KWOK_CLUSTER_DIR}/kwok.yaml" ]]; }

# component_pids: "name pid" of every component with a pid file.
component_pids() {
  local f
  for f in "${KWOK_CLUSTER_DIR}"/pids/*.pid; do
    [[ -f "${f}" ]] || continue
    printf '%s %s\n' "$(basename "${f}" .pid)" "$(cat "${f}")"
  done
}

# all_components_alive: every component has a live process.
all_components_alive() {
  local name pid n=0
  while read -r name pid; do
    alive "${pid}" || return 1
    n=$((n + 1))
  done < <(component_pids)
  ((n >= 5))
}

served() {
  kubectl --kubeconfig "${KWOK_CLUSTER_DIR}/kubeconfig.yaml" get --raw /readyz >/dev/null 2>&1
}

running() { exists && all_components_alive && served; }

# component_ports NAME: the host ports of a component, from the cluster's kwok.yaml.
component_ports() {
  awk -v want="$1" '
    /^- / { name = "" }
    /^  name: / { name = $2 }
    /^    port: / && name == want { print $2 }
  ' "${KWOK_CLUSTER_DIR}/kwok.yaml"
}

# diagnose: explains why components did not start (a port taken, most of the time).
diagnose() {
  local log name pid port
  for log in "${KWOK_CLUSTER_DIR}"/logs/*.log; do
    [[ -f "${log}" ]] || continue
    name="$(basename "${log}" .log)"
    port="$(grep -oE '127\.0\.0\.1:[0-9]+: bind: address already in use' "${log}" | head -1 | sed -E 's/.*:([0-9]+): bind.*/\1/')" || true
    if [[ -n "${port}" ]]; then
      warn "${name}: port ${port} is already in use by another program"
    fi
  done
  while read -r name pid; do
    if ! alive "${pid}"; then
      warn "${name} is not running; the end of ${KWOK_CLUSTER_DIR}/logs/${name}.log:"
      tail -n 8 "${KWOK_CLUSTER_DIR}/logs/${name}.log" 2>/dev/null | sed 's/^/      /' >&2 || true
    fi
  done < <(component_pids)
}

# check_ports_free: before (re)starting a stopped cluster, its recorded ports must be free.
check_ports_free() {
  local name port taken=()
  for name in etcd kube-apiserver kube-controller-manager kube-scheduler kwok-controller; do
    for port in $(component_ports "${name}"); do
      if port_in_use "${port}"; then taken+=("port ${port} (${name})"); fi
    done
  done
  if ((${#taken[@]} > 0)); then
    die "cluster '${CLUSTER_NAME}' cannot restart: ${taken[*]} taken by another program." \
      "Stop that program, or recreate the cluster on free ports:" \
      "  make cluster-down cluster-up CLUSTER_NAME=${CLUSTER_NAME}"
  fi
}

# stop_components: kills the cluster's processes (those of its pid files whose command line
# names this cluster's directory, never anything else) and waits for them to exit.
stop_components() {
  local name pid pids=()
  while read -r name pid; do
    if alive "${pid}" && tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -qF "${KWOK_CLUSTER_DIR}/"; then
      pids+=("${pid}")
    fi
  done < <(component_pids)
  ((${#pids[@]} > 0)) || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  if ! wait_gone 30 "${pids[@]}"; then
    kill -KILL "${pids[@]}" 2>/dev/null || true
    wait_gone 10 "${pids[@]}" || warn "processes ${pids[*]} did not exit"
  fi
}

write_kubeconfig() {
  kwokctl_ get kubeconfig 2>>"${STATE_DIR}/kwokctl.log" | write_atomic "${CLUSTER_KUBECONFIG}" ||
    die "could not write ${CLUSTER_KUBECONFIG} (see ${STATE_DIR}/kwokctl.log)"
  chmod 600 "${CLUSTER_KUBECONFIG}"
}

wait_served() {
  local deadline=$((SECONDS + $1))
  until k get --raw /readyz >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

ensure_nodes() {
  kwokctl_ scale node --replicas "${CLUSTER_NODES}" \
    --param ".allocatable.pods=\"${CLUSTER_NODE_PODS}\"" \
    --param ".allocatable.cpu=\"${CLUSTER_NODE_CPU}\"" \
    --param ".allocatable.memory=\"${CLUSTER_NODE_MEMORY}\"" >>"${STATE_DIR}/kwokctl.log" 2>&1 ||
    die "kwokctl scale node failed (see ${STATE_DIR}/kwokctl.log)"
  local i=0 node have want="${CLUSTER_NODE_PODS}/${CLUSTER_NODE_CPU}/${CLUSTER_NODE_MEMORY}"
  local sizes="{\"pods\":\"${CLUSTER_NODE_PODS}\",\"cpu\":\"${CLUSTER_NODE_CPU}\",\"memory\":\"${CLUSTER_NODE_MEMORY}\"}"
  while read -r node have; do
    k label --overwrite "node/${node}" \
      "topology.kubernetes.io/zone=${ZONES[$((i % ${#ZONES[@]}))]}" \
      topology.kubernetes.io/region=hanoi >/dev/null
    # Nodes of a cluster created with other sizes get these.
    if [[ "${have}" != "${want}" ]]; then
      k patch "node/${node}" --subresource=status --type=merge \
        -p "{\"status\":{\"allocatable\":${sizes},\"capacity\":${sizes}}}" >/dev/null
    fi
    i=$((i + 1))
  done < <(k get nodes -l type=kwok --sort-by=.metadata.name \
    -o jsonpath='{range .items[*]}{.metadata.name} {.status.allocatable.pods}/{.status.allocatable.cpu}/{.status.allocatable.memory}{"\n"}{end}')
  # Retried: kubectl wait fails at once on a node that has no status.conditions yet.
  local deadline=$((SECONDS + 120))
  until k wait --for=condition=Ready nodes --all --timeout=10s >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "the kwok nodes did not become Ready (see ${KWOK_CLUSTER_DIR}/logs/kwok-controller.log)"
    sleep 1
  done
}

# ensure_service_cidr: room for thousands of Services (kwokctl's own range holds 254).
ensure_service_cidr() {
  k apply --server-side -f - >/dev/null <<EOF ||
apiVersion: networking.k8s.io/v1
kind: ServiceCIDR
metadata:
  name: smartcity-services
spec:
  cidrs: [${CLUSTER_SERVICE_CIDR}]
EOF
    die "could not apply the ServiceCIDR ${CLUSTER_SERVICE_CIDR}"
  # kubectl wait fails at once while the new object has no status.conditions yet: retry.
  local deadline=$((SECONDS + 60))
  until k wait --for=condition=Ready servicecidr/smartcity-services --timeout=10s >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "the ServiceCIDR ${CLUSTER_SERVICE_CIDR} is not Ready after 60 s"
    sleep 1
  done
}

# check: kube-controller-manager runs the controllers we need, and the API server enforces Pod
# Security admission.
check() {
  local port missing=() health="" deadline=$((SECONDS + 90)) c
  port="$(component_ports kube-controller-manager | head -1)"
  [[ -n "${port}" ]] || die "no kube-controller-manager port in ${KWOK_CLUSTER_DIR}/kwok.yaml"
  while ((SECONDS < deadline)); do
    # /healthz is readable without credentials (--authorization-always-allow-paths); with
    # ?verbose it lists one check per started controller.
    health="$(curl -sk --max-time 5 "https://127.0.0.1:${port}/healthz?verbose" 2>/dev/null)" || true
    missing=()
    for c in "${REQUIRED_CONTROLLERS[@]}"; do
      grep -q "^\[+\]${c} ok" <<<"${health}" || missing+=("${c}")
    done
    ((${#missing[@]} == 0)) && break
    sleep 1
  done
  ((${#missing[@]} == 0)) ||
    die "kube-controller-manager does not run: ${missing[*]}" "see ${KWOK_CLUSTER_DIR}/logs/kube-controller-manager.log"
  ok "kube-controller-manager runs ${REQUIRED_CONTROLLERS[*]}"

  # A namespace of its own each time: an earlier check's may still be terminating.
  local ns="smartcity-check-${RANDOM}${RANDOM}" out
  k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
  labels:
    pod-security.kubernetes.io/enforce: restricted
EOF
  out="$(k -n "${ns}" run psa-probe --image=registry.example/probe:1 --restart=Never --dry-run=server 2>&1)" || true
  k delete namespace "${ns}" --wait=false >/dev/null 2>&1 || true
  grep -q 'violates PodSecurity "restricted' <<<"${out}" ||
    die "the API server did not reject a root pod in a namespace labelled pod-security.kubernetes.io/enforce=restricted" \
      "it answered: ${out}"
  ok "kube-apiserver enforces Pod Security admission (restricted)"
}

up() {
  local start=${SECONDS}
  mkdir -p "${STATE_DIR}"
  : >"${STATE_DIR}/kwokctl.log"
  step "Cluster binaries (built once into the cache, then linked into bin/)"
  local rc=0
  "${ROOT}/hack/ensure-bins.sh" cluster 2>&1 | { grep -v '^cached: ' || true; } || rc=$?
  ((rc == 0)) || die "building the cluster binaries failed (exit ${rc}; see above)"
  ok "kube-apiserver, kube-controller-manager, kube-scheduler, kubectl v1.37.2, etcd v3.7.3, kwok v0.8.0"
  write_kwok_config
  start=${SECONDS}

  if running; then
    step "Cluster '${CLUSTER_NAME}' is already running: reusing it"
    write_kubeconfig
    ensure_nodes
    ensure_service_cidr
    summary
    return
  fi

  local fresh=""
  if exists; then
    step "Cluster '${CLUSTER_NAME}' exists but is stopped: restarting it"
    stop_components
    # Pid files of dead (or zombie) processes would make kwokctl skip those components.
    local name pid
    while read -r name pid; do alive "${pid}" || rm -f "${KWOK_CLUSTER_DIR}/pids/${name}.pid"; done < <(component_pids)
    check_ports_free
  else
    step "Creating cluster '${CLUSTER_NAME}' (kwokctl --runtime binary)"
    fresh=1
    if [[ -n "${CLUSTER_APISERVER_PORT}" ]] && port_in_use "${CLUSTER_APISERVER_PORT}"; then
      die "CLUSTER_APISERVER_PORT ${CLUSTER_APISERVER_PORT} is already in use by another program" \
        "pick another port, or leave CLUSTER_APISERVER_PORT empty for a free one"
    fi
  fi

  local args=(create cluster --kubeconfig= --timeout 3m)
  [[ -n "${CLUSTER_APISERVER_PORT}" ]] && args+=(--kube-apiserver-port "${CLUSTER_APISERVER_PORT}")
  if [[ -n "${CLUSTER_AUDIT_POLICY}" && -n "${fresh}" ]]; then
    [[ -f "${CLUSTER_AUDIT_POLICY}" ]] || die "CLUSTER_AUDIT_POLICY=${CLUSTER_AUDIT_POLICY}: no such file"
    args+=(--kube-audit-policy "$(readlink -f "${CLUSTER_AUDIT_POLICY}")")
  fi
  local hint=("kwokctl log: ${STATE_DIR}/kwokctl.log; component logs: ${KWOK_CLUSTER_DIR}/logs/"
    "to start over: make cluster-down cluster-up CLUSTER_NAME=${CLUSTER_NAME}")
  if ! kwokctl_ "${args[@]}" >>"${STATE_DIR}/kwokctl.log" 2>&1; then
    diagnose
    die "kwokctl could not start cluster '${CLUSTER_NAME}'." "${hint[@]}"
  fi
  write_kubeconfig
  if ! wait_served 120 || ! all_components_alive; then
    diagnose
    die "cluster '${CLUSTER_NAME}' is not ready after 2 minutes." "${hint[@]}"
  fi
  ok "control plane up: $(k config view -o jsonpath='{.clusters[0].cluster.server}')"
  ensure_nodes
  ok "${CLUSTER_NODES} kwok nodes Ready across 3 zones, each for ${CLUSTER_NODE_PODS} pods, ${CLUSTER_NODE_CPU} CPU, ${CLUSTER_NODE_MEMORY}"
  ensure_service_cidr
  ok "Services from ${CLUSTER_SERVICE_CIDR} too (ServiceCIDR smartcity-services)"
  check
  [[ -n "${fresh}" ]] && info "created in $(fmt_secs $((SECONDS - start)))"
  summary
}

summary() {
  info "kubeconfig: ${CLUSTER_KUBECONFIG}"
  info "use it:     export KUBECONFIG=${CLUSTER_KUBECONFIG}"
  info "stop it:    make cluster-down${CLUSTER_NAME:+ CLUSTER_NAME=${CLUSTER_NAME}}"
}

down() {
  "$(dirname "${BASH_SOURCE[0]}")/operator.sh" stop
  if exists; then
    step "Deleting cluster '${CLUSTER_NAME}'"
    mkdir -p "${STATE_DIR}"
    local name pid pids=()
    while read -r name pid; do pids+=("${pid}"); done < <(component_pids)
    # kwokctl stops the components and deletes bin/cluster/.kwok/clusters/<name>. It removes the
    # cluster's context from --kubeconfig; give it ours, which is deleted below anyway.
    if ! kwokctl_ delete cluster --kubeconfig "${CLUSTER_KUBECONFIG}" >>"${STATE_DIR}/kwokctl.log" 2>&1; then
      warn "kwokctl delete cluster failed; stopping the processes directly"
    fi
    if ((${#pids[@]} > 0)) && ! wait_gone 30 "${pids[@]}"; then
      # Whatever kwokctl left: only processes started from this cluster's directory.
      for pid in "${pids[@]}"; do
        if alive "${pid}" && tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -qF "${KWOK_CLUSTER_DIR}/"; then
          kill -KILL "${pid}" 2>/dev/null || true
        fi
      done
    fi
    rm -rf "${KWOK_CLUSTER_DIR}"
    ok "deleted"
  else
    step "Cluster '${CLUSTER_NAME}' does not exist"
  fi
  rm -rf "${STATE_DIR}"
  # The shared kwokctl directory goes with the last cluster.
  if [[ -d "${KWOK_DIR}" ]] && [[ -z "$(ls -A "${KWOK_DIR}/clusters" 2>/dev/null)" ]]; then
    rm -rf "${KWOK_DIR}"
  fi
  rmdir "${CLUSTER_ROOT}" 2>/dev/null || true
}

status() {
  if ! exists; then
    echo "cluster '${CLUSTER_NAME}': not created (make cluster-up)"
    return 3
  fi
  if running; then
    echo "cluster '${CLUSTER_NAME}': running"
  else
    echo "cluster '${CLUSTER_NAME}': stopped (make cluster-up restarts it)"
  fi
  local name pid
  while read -r name pid; do
    printf '  %-24s pid %-8s %s\n' "${name}" "${pid}" "$(alive "${pid}" && echo running || echo stopped)"
  done < <(component_pids)
  printf '  %-24s %s\n' kubeconfig "${CLUSTER_KUBECONFIG}"
  "$(dirname "${BASH_SOURCE[0]}")/operator.sh" status || true
  if running; then k get nodes -L topology.kubernetes.io/zone; fi
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
check) running || die "cluster '${CLUSTER_NAME}' is not running"; check ;;
running) running ;;
*)
  sed -n '5,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
