# shellcheck shell=bash disable=SC2034 # variables for the scripts that source this file
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# lib.sh: settings and helpers shared by the real-kind scripts in hack/kind. Source it; it does
# nothing on its own.
#
# Where things live (nothing is written to ~/.kube, and no system Docker setting is changed):
#
#   bin/kind-cluster/<cluster>/kubeconfig    the cluster's own kubeconfig (context kind-<cluster>)
#   bin/kind-cluster/<cluster>/images.env    the content-tagged images built for it (images.sh)
#   $CACHE/kind/rootfs/*.tar                 debootstrapped Debian rootfs tarballs, keyed by content
#   $CACHE/kind/pause/                       the static pause binary (gcc -static)
#   $CACHE/kind/docker/                      the private Docker daemon's data-root (its images)
#   /run/smartcity-docker/                   the private daemon's socket, pidfile, exec-root, log
#
# $CACHE is ${SMARTCITY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smartcity-operator}, shared with
# hack/ensure-bins.sh (which builds kubelet, kubeadm, kind, coredns, ... into $CACHE/bin).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KIND_DIR="${ROOT}/hack/kind"
LOCALBIN="${LOCALBIN:-${ROOT}/bin}"
export PATH="${LOCALBIN}:${PATH}" # kubectl v1.37.2 and kind v0.33.0 first

CACHE_DIR="${SMARTCITY_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/smartcity-operator}"
KIND_CACHE="${CACHE_DIR}/kind"

KIND_CLUSTER_NAME="${KIND_CLUSTER_NAME:-smartcity-kind}"
# The API server's port on 127.0.0.1 (kind's default is a random one; ours is fixed and ours).
KIND_API_PORT="${KIND_API_PORT:-16443}"
# The Docker network the nodes join (kind's default is "kind"; ours never meets a person's own).
KIND_NETWORK="${KIND_NETWORK:-smartcity-kind}"
# offline | stock | (empty: stock when a registry is reachable, else offline).
KIND_IMAGES="${KIND_IMAGES:-}"
# auto | system | private: which Docker daemon (auto: private only where the sandbox needs it).
KIND_DOCKER="${KIND_DOCKER:-auto}"

K8S_VERSION=v1.37.2
KIND_VERSION=v0.33.0
# What kubeadm v1.37.2 asks for (kubeadm config images list), built offline into the node image.
ETCD_IMAGE_TAG=3.7.0-0
COREDNS_VERSION=v1.14.6
PAUSE_VERSION=3.10.2
KUBE_ROUTER_VERSION=v2.1.0
# kind v0.33.0's default node image: the stock path (not exercised on the offline machines).
STOCK_NODE_IMAGE="${STOCK_NODE_IMAGE:-kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5}"

STATE_DIR="${LOCALBIN}/kind-cluster/${KIND_CLUSTER_NAME}"
KIND_KUBECONFIG="${STATE_DIR}/kubeconfig"
IMAGES_ENV="${STATE_DIR}/images.env"

# The private Docker daemon (only where the sandbox needs it; see docker.sh).
PRIVATE_DOCKER_RUN="${PRIVATE_DOCKER_RUN:-/run/smartcity-docker}"
PRIVATE_DOCKER_SOCK="${PRIVATE_DOCKER_RUN}/docker.sock"
PRIVATE_DOCKER_DATA="${KIND_CACHE}/docker"
# Networks of the private daemon: away from Docker's 172.17.0.0/16, kind's pods (10.244.0.0/16)
# and services (10.96.0.0/12), and the sample zones (192.168.100.0/24, 192.168.120.0/28).
PRIVATE_DOCKER_POOL="${PRIVATE_DOCKER_POOL:-10.210.0.0/16}"

if [[ ! "${KIND_CLUSTER_NAME}" =~ ^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$ ]]; then
  printf 'error: KIND_CLUSTER_NAME %q must be a DNS label of at most 32 characters\n' "${KIND_CLUSTER_NAME}" >&2
  exit 2
fi

# shellcheck source=hack/lib/log.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/log.sh"

# Phase timings: `phase NAME CMD...` runs CMD under a banner and records how long it took;
# `phase_summary TITLE` prints the table.
_PHASES=()
phase() {
  local name="$1" start=${SECONDS} rc=0
  shift
  step "${name}"
  "$@" || rc=$?
  _PHASES+=("${name}|$((SECONDS - start))|${rc}")
  if [[ ${rc} -ne 0 ]]; then
    phase_summary "timings (failed in: ${name})" >&2
    exit "${rc}"
  fi
  info "${_dim}${name}: $(fmt_secs $((SECONDS - start)))${_off}"
}
phase_summary() {
  local row name secs total=0
  printf '\n%s%s%s\n' "${_bold}" "$1" "${_off}"
  for row in "${_PHASES[@]}"; do
    IFS='|' read -r name secs _ <<<"${row}"
    printf '  %-44s %s\n' "${name}" "$(fmt_secs "${secs}")"
    total=$((total + secs))
  done
  printf '  %-44s %s\n' "total" "$(fmt_secs "${total}")"
}

# key ARGS...: a short content hash of strings and files (a file argument is hashed by content).
key() {
  local a
  for a in "$@"; do
    if [[ -f "${a}" ]]; then sha256sum <"${a}"; else printf '%s\n' "${a}"; fi
  done | sha256sum | cut -c1-12
}

# The sandbox quirk (KIND.md): the bounding set lacks CAP_SYS_RESOURCE (bit 24), so privileged
# containers cannot start under a stock runtime and kubelet's negative oom_score_adj fails.
cap_sys_resource_missing() {
  local bnd
  bnd="$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)"
  [[ -n "${bnd}" ]] || return 1
  (((16#${bnd} >> 24 & 1) == 0))
}

# Host packages (Debian): `ensure_pkgs CMD:PACKAGE...` installs the packages whose command is
# missing, in one apt-get call (after one apt-get update). policy-rc.d keeps an installed
# daemon (docker.io) from being started by its postinst where we do not want the system one.
ensure_pkgs() {
  local spec cmd pkg missing=()
  for spec in "$@"; do
    cmd="${spec%%:*}" pkg="${spec#*:}"
    command -v "${cmd}" >/dev/null 2>&1 || [[ -x "${cmd}" ]] || missing+=("${pkg}")
  done
  [[ ${#missing[@]} -gt 0 ]] || return 0
  command -v apt-get >/dev/null 2>&1 ||
    die "missing host packages: ${missing[*]}" "this is not a Debian-like system; install them, or run with KIND=0 to skip the kind stage"
  [[ ${EUID} -eq 0 ]] || die "missing host packages: ${missing[*]}" "install them (sudo apt-get install ${missing[*]}) or run as root"
  info "installing Debian packages: ${missing[*]} (apt-get update + install)…"
  local policy="" rc=0
  if [[ -n "${NO_SERVICE_START:-}" && ! -e /usr/sbin/policy-rc.d ]]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\n# written by smartcity-operator hack/kind while installing packages\nexit 101\n' >"${policy}"
    chmod 755 "${policy}"
  fi
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  } >"${TMPDIR:-/tmp}/smartcity-apt.log" 2>&1 || rc=$?
  [[ -n "${policy}" ]] && rm -f "${policy}"
  [[ ${rc} -eq 0 ]] || die "apt-get install ${missing[*]} failed (exit ${rc}); log: ${TMPDIR:-/tmp}/smartcity-apt.log" \
    "$(tail -n 5 "${TMPDIR:-/tmp}/smartcity-apt.log")"
  ok "installed ${missing[*]}"
}

# The Docker daemon the kind scripts use. Sets DOCKER_HOST for the private daemon (see docker.sh)
# and DOCKER_MODE to system or private. Never starts anything: `docker.sh up` does.
use_docker() {
  DOCKER_MODE="$(docker_mode)"
  if [[ "${DOCKER_MODE}" == private ]]; then
    export DOCKER_HOST="unix://${PRIVATE_DOCKER_SOCK}"
  fi
  export DOCKER_MODE
}

# docker_mode: private where the sandbox needs it (the CAP_SYS_RESOURCE quirk), or where no
# system daemon can be used; system otherwise. KIND_DOCKER=system|private overrides.
docker_mode() {
  case "${KIND_DOCKER}" in
  system | private) echo "${KIND_DOCKER}" ;;
  auto)
    if cap_sys_resource_missing; then
      echo private
    elif [[ -S "${PRIVATE_DOCKER_SOCK}" ]] && ! timeout 10 docker info >/dev/null 2>&1; then
      echo private
    elif [[ -n "${DOCKER_HOST:-}" ]] || timeout 10 docker info >/dev/null 2>&1 || [[ -d /run/systemd/system ]]; then
      echo system
    else
      echo private
    fi
    ;;
  *) die "KIND_DOCKER must be auto, system or private, not '${KIND_DOCKER}'" ;;
  esac
}

# docker_build ARGS...: docker build, quiet, its output shown only when it fails (a newer docker
# CLI warns on every build that the legacy builder of a 20.10 daemon is deprecated).
docker_build() {
  local out rc=0
  out="$(docker build -q "$@" 2>&1)" || rc=$?
  if [[ ${rc} -ne 0 ]]; then
    printf '%s\n' "${out}" >&2
    return "${rc}"
  fi
}

# kubectl against the kind cluster, never ~/.kube/config.
kc() { kubectl --kubeconfig "${KIND_KUBECONFIG}" "$@"; }

cluster_exists() {
  kind get clusters 2>/dev/null | grep -qx "${KIND_CLUSTER_NAME}"
}
