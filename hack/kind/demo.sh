#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# demo.sh [all|check]
#
#   all    (make demo-kind) everything from nothing: the kind cluster (cluster.sh up), the images
#          (images.sh load), the operator and the sample city (deploy.sh), then `check`.
#   check  real connectivity between the sample services. For every ordered pair of them, the
#          probe runs in the source pod's own network namespace (kubectl exec into its `app`
#          container, whose city-service image carries /probe) against the target's Service
#          (DNS name, port 8080), and the table compares what happened with the declared intent
#          (the target's status.admittedConsumers, which needs both sides' consent) and with the
#          audit engine's verdict on the live cluster (kubectl-city audit -o json). A denial
#          counts only if the same target answered in the same round: a control probe from the
#          node (which NetworkPolicy always admits, for kubelet's health checks) must be ok.
#          Exits non-zero when an observation differs from the engine's verdict or the intent.
#
# kube-router rejects denied packets (ICMP port unreachable), so a denial shows as `refused`
# there; a plugin that drops them shows `timeout`. Both count as denied.
set -euo pipefail
# shellcheck source=hack/kind/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
use_docker

PROBE_TIMEOUT="${PROBE_TIMEOUT:-3s}"
SERVICES=(city-portal/portal city-identity/vneid city-health/checkin)
NODE="${KIND_CLUSTER_NAME}-control-plane"

# node_probe: the probe binary, copied into the node for the control probes.
node_probe() {
  local tmp
  tmp="$(mktemp)"
  (cd "${ROOT}" && CGO_ENABLED=0 GOWORK=off go build -trimpath -buildvcs=false -ldflags "-s -w" -o "${tmp}" ./cmd/probe)
  docker cp "${tmp}" "${NODE}:/usr/local/bin/smartcity-probe" >/dev/null
  rm -f "${tmp}"
}

# first_pod NS NAME: a Running pod of the service.
first_pod() {
  kc -n "$1" get pods -l "app.kubernetes.io/name=$2" --field-selector=status.phase=Running \
    -o jsonpath='{.items[0].metadata.name}' 2>/dev/null
}

# engine_audit: the audit engine's view of the live cluster, as JSON (exit 1 means violations).
engine_audit() {
  local rc=0
  AUDIT_JSON="$("${ROOT}/bin/kubectl-city" audit -o json --kubeconfig "${KIND_KUBECONFIG}")" || rc=$?
  [[ ${rc} -le 1 ]] || die "kubectl-city audit failed (exit ${rc})"
}

# engine SRC DST: allowed when the audit engine finds TCP 8080 allowed from SRC to DST.
engine() {
  if jq -e --arg f "$1" --arg t "$2" \
    '[.flows[] | select(.from == $f and .to == $t) | .allowed] | any(test("TCP 8080|TCP all|all"))' \
    <<<"${AUDIT_JSON}" >/dev/null; then
    echo allowed
  else
    echo denied
  fi
}

# round: probes every ordered pair once; fills ROWS and MISMATCHES.
round() {
  ROWS=() MISMATCHES=0
  engine_audit
  local src dst sns sname dns dname pod url out rc observed intent control verdict verdict_engine
  for src in "${SERVICES[@]}"; do
    sns="${src%%/*}" sname="${src#*/}"
    pod="$(first_pod "${sns}" "${sname}")"
    [[ -n "${pod}" ]] || die "no running pod of ${src}"
    for dst in "${SERVICES[@]}"; do
      [[ "${dst}" == "${src}" ]] && continue
      dns="${dst%%/*}" dname="${dst#*/}"
      url="http://${dname}.${dns}.svc.cluster.local:8080/info"
      # The intent: the target admits the source and the source consumes it (bilateral consent).
      if kc -n "${dns}" get publicservice "${dname}" -o jsonpath='{.status.admittedConsumers}' | grep -q "\"${src}\""; then
        intent=allowed
      else
        intent=denied
      fi
      rc=0
      out="$(kc -n "${sns}" exec "${pod}" -c app -- /probe http "${url}" --timeout "${PROBE_TIMEOUT}" 2>/dev/null)" || rc=$?
      observed="${out%% *}"
      [[ -n "${observed}" ]] || observed="exec-failed(${rc})"
      # Control, same round: the target answers the node.
      local tpod tip
      tpod="$(first_pod "${dns}" "${dname}")"
      tip="$(kc -n "${dns}" get pod "${tpod}" -o jsonpath='{.status.podIP}')"
      control="$(docker exec "${NODE}" /usr/local/bin/smartcity-probe http "http://${tip}:8080/healthz" --timeout "${PROBE_TIMEOUT}" 2>/dev/null | cut -d' ' -f1 || true)"
      verdict_engine="$(engine "${src}" "${dst}")"
      local seen=unproven
      if [[ "${observed}" == ok ]]; then
        seen=allowed
      elif [[ ("${observed}" == refused || "${observed}" == timeout) && "${control}" == ok ]]; then
        seen=denied
      fi
      verdict=match
      if [[ "${seen}" != "${verdict_engine}" ]]; then
        verdict="MISMATCH (engine)"
      elif [[ "${seen}" != "${intent}" ]]; then
        verdict="MISMATCH (intent)"
      fi
      [[ "${verdict}" == match ]] || MISMATCHES=$((MISMATCHES + 1))
      ROWS+=("${sname}|${dname}|${intent}|${verdict_engine}|${observed} ($(sed -n 's/.*time=\([0-9]*ms\).*/\1/p' <<<"${out}"))|${control:-?}|${verdict}")
    done
  done
}

check() {
  cluster_exists || die "no kind cluster ${KIND_CLUSTER_NAME}" "run: make demo-kind"
  node_probe
  (cd "${ROOT}" && go build -o bin/kubectl-city ./cmd/kubectl-city)
  local t0=${SECONDS} i mismatches=0 sns sname pod
  # The enforcer applies NetworkPolicy asynchronously (kube-router: within seconds of a change),
  # so a round with mismatches is repeated, up to CHECK_ROUNDS times, 5 s apart; all are reported.
  for ((i = 1; i <= ${CHECK_ROUNDS:-6}; i++)); do
    round
    [[ ${MISMATCHES} -eq 0 ]] && break
    info "round ${i}: ${MISMATCHES} flow(s) differ from the engine or the intent; probing again in 5 s (NetworkPolicy is applied asynchronously)"
    [[ ${i} -lt ${CHECK_ROUNDS:-6} ]] && sleep 5
  done
  mismatches=${MISMATCHES}
  printf '\n%s%-8s -> %-8s  %-8s  %-8s  %-16s  %-10s  %s%s\n' "${_bold}" FROM TO INTENT ENGINE OBSERVED "TARGET UP" RESULT "${_off}"
  local r a b c d e f g
  for r in "${ROWS[@]}"; do
    IFS='|' read -r a b c d e f g <<<"${r}"
    printf '%-8s -> %-8s  %-8s  %-8s  %-16s  %-10s  %s\n' "${a}" "${b}" "${c}" "${d}" "${e}" "${f}" "${g}"
  done
  printf '\n%d flows probed in %s, round %d (probe in the source pod: kubectl exec -c app -- /probe http <service>:8080/info;\n' \
    "${#ROWS[@]}" "$(fmt_secs $((SECONDS - t0)))" "$((i > ${CHECK_ROUNDS:-6} ? i - 1 : i))"
  printf 'TARGET UP: a control probe from the node to the target pod in the same round)\n'
  # The services' own calls: each one's /call (the check-in service's /checkin) asks it to call
  # every service in its CONSUMES, as the application does; 200 only when all answered.
  printf '\n%s%-8s  %-10s  %s%s\n' "${_bold}" SERVICE ENDPOINT "RESULT (the service calls what it consumes)" "${_off}"
  local path body consumes src
  for src in "${SERVICES[@]}"; do
    sns="${src%%/*}" sname="${src#*/}"
    path=/call
    [[ "${sname}" == checkin ]] && path=/checkin
    pod="$(first_pod "${sns}" "${sname}")"
    body="$(kc -n "${sns}" exec "${pod}" -c app -- /probe http "http://127.0.0.1:8080${path}" --timeout 10s 2>/dev/null || true)"
    consumes="$(kc -n "${sns}" get publicservice "${sname}" -o jsonpath='{range .spec.consumes[*]}{.service}{" "}{end}')"
    consumes="${consumes% }"
    printf '%-8s  %-10s  %s\n' "${sname}" "${path}" "${body%% *} (calls: ${consumes:-nothing})"
    [[ "${body%% *}" == ok ]] || mismatches=$((mismatches + 1))
  done
  if [[ ${mismatches} -gt 0 ]]; then
    die "${mismatches} flow(s) differ from the audit engine's verdict or the declared intent"
  fi
  ok "every flow is allowed or denied exactly as the audit engine says and as declared"
}

resources() {
  echo
  step "resources"
  free -m | sed 's/^/    /'
  info "cache: $(du -sh "${CACHE_DIR}" 2>/dev/null | cut -f1) (${CACHE_DIR}); of which Docker data-root $(du -sh "${PRIVATE_DOCKER_DATA}" 2>/dev/null | cut -f1)"
}

all() {
  local t0=${SECONDS}
  phase "kind cluster (make kind-up)" "${KIND_DIR}/cluster.sh" up
  phase "images (make kind-images)" "${KIND_DIR}/images.sh" load
  phase "operator and sample city (make kind-deploy)" "${KIND_DIR}/deploy.sh" all
  phase "connectivity check" check
  resources
  phase_summary "demo-kind timings"
  cat <<EOF

The sample city runs in kind cluster ${KIND_CLUSTER_NAME} ($(fmt_secs $((SECONDS - t0)))).
  export KUBECONFIG=${KIND_KUBECONFIG}
  kubectl get psvc -A; kubectl get pods -A
  hack/kind/demo.sh check    # probe again
  make kind-down             # delete the cluster, its networks and the private Docker daemon
EOF
}

case "${1:-all}" in
all) all ;;
check) check ;;
*)
  echo "usage: $0 [all|check]" >&2
  exit 2
  ;;
esac
