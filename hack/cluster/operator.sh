#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# operator.sh start|stop|status|logs
#
# Runs the operator as a local background process against the local cluster CLUSTER_NAME (where
# no container runtime exists, this is how the operator runs on it). The binary is built from
# this clone; its log and pid file are in bin/cluster/<CLUSTER_NAME>/.
#
#   start   build bin/manager, stop an operator already started here, start a new one
#   stop    stop it (SIGTERM, then SIGKILL after 20 s)
#   status  whether it runs
#   logs    follow its log
set -euo pipefail
# shellcheck source=hack/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PID_FILE="${STATE_DIR}/operator.pid"
LOG_FILE="${STATE_DIR}/operator.log"
BINARY="${STATE_DIR}/manager"

# our_pid: the pid in the pid file, when that process is still our operator for this cluster
# (a pid can be reused by an unrelated process after a reboot).
our_pid() {
  [[ -f "${PID_FILE}" ]] || return 1
  local pid
  pid="$(cat "${PID_FILE}")"
  alive "${pid}" || return 1
  if [[ -r "/proc/${pid}/cmdline" ]]; then
    tr '\0' ' ' <"/proc/${pid}/cmdline" | grep -qF -- "--kubeconfig=${CLUSTER_KUBECONFIG}" || return 1
  fi
  echo "${pid}"
}

stop() {
  local pid
  if pid="$(our_pid)"; then
    step "Stopping the operator (pid ${pid})"
    # SIGTERM: the operator releases its leader-election Lease on the way out.
    kill -TERM "${pid}" 2>/dev/null || true
    if ! wait_gone 20 "${pid}"; then
      warn "the operator did not stop within 20 s; killing it"
      kill -KILL "${pid}" 2>/dev/null || true
      wait_gone 10 "${pid}" || true
    fi
  fi
  rm -f "${PID_FILE}"
}

start() {
  [[ -f "${CLUSTER_KUBECONFIG}" ]] || die "cluster '${CLUSTER_NAME}' has no kubeconfig; run: make cluster-up"
  step "Building the operator"
  mkdir -p "${STATE_DIR}"
  (cd "${ROOT}" && go build -o "${BINARY}.tmp" .) || die "go build of the operator failed (see above)"
  mv -f "${BINARY}.tmp" "${BINARY}"
  ok "${BINARY}"

  stop
  # Its leader-election Lease lives in the namespace config/default installs it into.
  k create namespace "${OPERATOR_NAMESPACE}" --dry-run=client -o yaml | k apply -f - >/dev/null

  local port
  port="$(free_port 18081)"
  step "Starting the operator (log: ${LOG_FILE})"
  {
    echo "# $(date -u +%FT%TZ) started by hack/cluster/operator.sh for cluster ${CLUSTER_NAME}"
  } >>"${LOG_FILE}"
  # setsid: a session of its own, so that Ctrl-C in a later make or closing the terminal does
  # not reach it. The shell writes its own pid and then becomes the operator (exec).
  rm -f "${PID_FILE}"
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c 'echo $$ >"$0.tmp" && mv -f "$0.tmp" "$0" && exec "$@"' "${PID_FILE}" \
    "${BINARY}" \
    --kubeconfig="${CLUSTER_KUBECONFIG}" \
    --zone-service-type=NodePort \
    --leader-elect \
    --leader-election-namespace="${OPERATOR_NAMESPACE}" \
    --metrics-bind-address=0 \
    --health-probe-bind-address="127.0.0.1:${port}" \
    </dev/null >>"${LOG_FILE}" 2>&1 &
  local pid="" wait_pid=$((SECONDS + 10))
  until [[ -s "${PID_FILE}" ]]; do
    ((SECONDS < wait_pid)) || die "the operator did not start (log: ${LOG_FILE})"
    sleep 0.1
  done
  pid="$(cat "${PID_FILE}")"

  local deadline=$((SECONDS + 60))
  until curl -sf --max-time 2 "http://127.0.0.1:${port}/readyz" >/dev/null 2>&1; do
    if ! alive "${pid}"; then
      tail -n 20 "${LOG_FILE}" | sed 's/^/      /' >&2
      rm -f "${PID_FILE}"
      die "the operator exited at start (log above, full log in ${LOG_FILE})"
    fi
    ((SECONDS < deadline)) || die "the operator is not ready after 60 s (log: ${LOG_FILE})"
    sleep 0.5
  done
  ok "running, pid ${pid}, health on 127.0.0.1:${port}"
}

status() {
  local pid
  if pid="$(our_pid)"; then
    printf '  %-24s pid %-8s running (log: %s)\n' operator "${pid}" "${LOG_FILE}"
  else
    printf '  %-24s not running\n' operator
    return 3
  fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
logs) exec tail -n 100 -f "${LOG_FILE}" ;;
*)
  sed -n '5,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
