#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# docker.sh up|down|status|env
#
# Makes a Docker daemon available to the kind scripts.
#
#   up      installs Debian's docker.io when Docker is missing, then either uses the system daemon
#           or, where the sandbox needs it, starts a PRIVATE daemon (see below). Idempotent.
#   down    stops the private daemon (only when no container is left on it; never the system one).
#   status  says which daemon is used and what runs on it.
#   env     prints the DOCKER_HOST to export for the daemon in use (empty for the system one).
#
# The private daemon is used only when the host's capability bounding set lacks
# CAP_SYS_RESOURCE (bit 24 of CapBnd in /proc/self/status), or when no system daemon can be
# used. It has its own data-root ($CACHE/kind/docker, so built images survive `kind-down`), its
# own exec-root, pidfile, config file, log and unix socket under /run/smartcity-docker, no
# default bridge, no iptables or masquerading of its own, an address pool away from
# 172.17.0.0/16, and, with the quirk, runc-wrapper.sh as its default runtime. KIND_DOCKER=system
# or private overrides the choice.
set -euo pipefail
# shellcheck source=hack/kind/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PIDFILE="${PRIVATE_DOCKER_RUN}/dockerd.pid"
LOG="${PRIVATE_DOCKER_RUN}/dockerd.log"

private_pid() {
  local pid
  pid="$(cat "${PIDFILE}" 2>/dev/null || true)"
  [[ "${pid}" =~ ^[0-9]+$ ]] && [[ -d "/proc/${pid}" ]] &&
    grep -q dockerd "/proc/${pid}/comm" 2>/dev/null && echo "${pid}"
}

private_ready() { DOCKER_HOST="unix://${PRIVATE_DOCKER_SOCK}" timeout 10 docker info >/dev/null 2>&1; }

install_docker() {
  # The system daemon is started by the package only where we will use it: not here with the
  # quirk (it could not run kind's privileged nodes) or without systemd.
  if [[ "$(docker_mode)" == private ]]; then export NO_SERVICE_START=1; fi
  local pkgs=(dockerd:docker.io docker:docker.io)
  [[ "$(docker_mode)" == private ]] && cap_sys_resource_missing && pkgs+=(jq:jq)
  ensure_pkgs "${pkgs[@]}"
}

start_private() {
  local pid
  if pid="$(private_pid)" && private_ready; then
    ok "private Docker daemon already running (pid ${pid}, ${PRIVATE_DOCKER_SOCK})"
    return
  fi
  [[ -z "${pid:-}" ]] || die "a private dockerd (pid ${pid}) runs but does not answer on ${PRIVATE_DOCKER_SOCK}" \
    "see ${LOG}; stop it with: kill ${pid}"
  command -v dockerd >/dev/null || die "dockerd not found (Debian package docker.io)"
  mkdir -p "${PRIVATE_DOCKER_RUN}" "${PRIVATE_DOCKER_DATA}"
  rm -f "${PRIVATE_DOCKER_SOCK}" "${PIDFILE}"
  echo '{}' >"${PRIVATE_DOCKER_RUN}/daemon.json" # never read /etc/docker/daemon.json

  local args=(
    --config-file "${PRIVATE_DOCKER_RUN}/daemon.json"
    --data-root "${PRIVATE_DOCKER_DATA}"
    --exec-root "${PRIVATE_DOCKER_RUN}/exec"
    --pidfile "${PIDFILE}"
    --host "unix://${PRIVATE_DOCKER_SOCK}"
    --bridge=none --iptables=false --ip-masq=false
    --default-address-pool "base=${PRIVATE_DOCKER_POOL},size=24"
    --log-level=warn
  )
  if cap_sys_resource_missing; then
    local real_runc
    real_runc="$(command -v runc || true)"
    [[ -n "${real_runc}" ]] || die "runc not found (Debian package runc, a dependency of docker.io)"
    command -v jq >/dev/null || die "jq not found (the runc wrapper needs it: apt-get install jq)"
    sed "s#^REAL_RUNC=.*#REAL_RUNC=\"${real_runc}\"#" "${KIND_DIR}/runc-wrapper.sh" >"${PRIVATE_DOCKER_RUN}/runc-wrapper.tmp"
    chmod 755 "${PRIVATE_DOCKER_RUN}/runc-wrapper.tmp"
    mv -f "${PRIVATE_DOCKER_RUN}/runc-wrapper.tmp" "${PRIVATE_DOCKER_RUN}/runc-wrapper"
    args+=(--add-runtime "smartcity-runc=${PRIVATE_DOCKER_RUN}/runc-wrapper" --default-runtime smartcity-runc)
    info "CAP_SYS_RESOURCE is missing from the capability bounding set: the private daemon runs"
    info "containers through runc-wrapper (drops CAP_SYS_RESOURCE, then calls ${real_runc})"
  fi
  info "starting a private dockerd: socket ${PRIVATE_DOCKER_SOCK}, data-root ${PRIVATE_DOCKER_DATA}"
  setsid nohup dockerd "${args[@]}" >>"${LOG}" 2>&1 </dev/null &
  local i
  for ((i = 0; i < 60; i++)); do
    if private_ready; then
      ok "private Docker daemon ready (pid $(private_pid || echo '?'))"
      return
    fi
    pid="$(private_pid || true)"
    if [[ -z "${pid}" && ${i} -gt 4 ]]; then break; fi
    sleep 0.5
  done
  die "the private dockerd did not become ready" "log: ${LOG}" "$(tail -n 5 "${LOG}" 2>/dev/null)"
}

ensure_system() {
  if timeout 10 docker info >/dev/null 2>&1; then
    ok "using the system Docker daemon (${DOCKER_HOST:-default socket})"
    return
  fi
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
    info "starting the system Docker daemon (systemctl start docker)"
    systemctl start docker || true
    local i
    for ((i = 0; i < 30; i++)); do
      timeout 10 docker info >/dev/null 2>&1 && { ok "system Docker daemon ready"; return; }
      sleep 1
    done
  fi
  die "no Docker daemon answers ('docker info' failed)" \
    "start one, or use KIND_DOCKER=private for a private daemon, or KIND=0 to skip the kind stage"
}

up() {
  install_docker
  use_docker
  info "Docker: ${DOCKER_MODE} daemon ($(cap_sys_resource_missing && echo 'CAP_SYS_RESOURCE missing: the capability workaround applies' || echo 'full capability set: no workaround'))"
  if [[ "${DOCKER_MODE}" == private ]]; then start_private; else ensure_system; fi
}

down() {
  local pid
  if ! pid="$(private_pid)"; then
    rm -f "${PRIVATE_DOCKER_SOCK}" "${PIDFILE}"
    ok "no private Docker daemon runs"
    return
  fi
  export DOCKER_HOST="unix://${PRIVATE_DOCKER_SOCK}"
  local left
  left="$(timeout 20 docker ps -aq 2>/dev/null | wc -l || echo 0)"
  if [[ "${left}" -gt 0 ]]; then
    warn "the private Docker daemon still has ${left} container(s) (another kind cluster?); leaving it running"
    timeout 20 docker ps -a --format '    {{.Names}} ({{.Status}})' || true
    return
  fi
  info "stopping the private dockerd (pid ${pid})"
  kill -TERM "${pid}"
  local i
  for ((i = 0; i < 60; i++)); do
    [[ -d "/proc/${pid}" ]] || break
    sleep 0.5
  done
  if [[ -d "/proc/${pid}" ]]; then
    warn "dockerd (pid ${pid}) did not stop within 30 s; sending SIGKILL"
    kill -KILL "${pid}" 2>/dev/null || true
  fi
  # dockerd stops its own containerd; make sure no process of ours is left behind.
  local p
  for p in $(pgrep -f -- "${PRIVATE_DOCKER_RUN}/exec" 2>/dev/null || true); do
    warn "stopping leftover process ${p}: $(tr '\0' ' ' <"/proc/${p}/cmdline" 2>/dev/null | cut -c1-100)"
    kill -TERM "${p}" 2>/dev/null || true
  done
  rm -f "${PRIVATE_DOCKER_SOCK}" "${PIDFILE}"
  ok "private Docker daemon stopped (images kept in ${PRIVATE_DOCKER_DATA})"
}

status() {
  use_docker
  echo "docker mode: ${DOCKER_MODE}${DOCKER_HOST:+ (DOCKER_HOST=${DOCKER_HOST})}"
  if [[ "${DOCKER_MODE}" == private ]]; then
    local pid
    if pid="$(private_pid)"; then echo "private dockerd: pid ${pid}"; else echo "private dockerd: not running"; return; fi
  fi
  timeout 20 docker ps -a --format 'table {{.Names}}\t{{.Image}}\t{{.Status}}' || true
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
env)
  use_docker
  echo "${DOCKER_HOST:-}"
  ;;
*)
  echo "usage: $0 up|down|status|env" >&2
  exit 2
  ;;
esac
