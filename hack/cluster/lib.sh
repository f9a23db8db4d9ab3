# shellcheck shell=bash disable=SC2034 # variables for the scripts that source this file
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# lib.sh: settings and helpers shared by the local-cluster scripts (cluster.sh, operator.sh,
# e2e.sh) and hack/demo/demo.sh. Source it; it does nothing on its own.
#
# Everything a local cluster needs at run time lives in the clone's bin/ (gitignored), so each
# clone has its own clusters and nothing a person runs elsewhere (~/.kwok, ~/.kube/config,
# KWOK_* variables, another clone) is read or touched:
#
#   bin/cluster/<name>/kubeconfig      the cluster's kubeconfig (context kwok-<name>)
#   bin/cluster/<name>/operator.{pid,log}   the operator started by `make demo`
#   bin/cluster/<name>/kube-cache/     kubectl's discovery cache for this cluster
#   bin/cluster/.kwok/                 kwokctl's work directory (KWOK_WORKDIR): config, etcd
#                                      data, certificates, component logs and pid files
#
# The binaries themselves are built by hack/ensure-bins.sh into the cache outside the clone.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCALBIN="${LOCALBIN:-${ROOT}/bin}"
export PATH="${LOCALBIN}:${PATH}" # kubectl v1.37.2 first, for us and for kwokctl

CLUSTER_NAME="${CLUSTER_NAME:-smartcity}"
CLUSTER_NODES="${CLUSTER_NODES:-3}"
# What each fake node offers the scheduler (status.allocatable). The defaults let 3 nodes hold a
# city of more than 4,000 pods at the profiles' requests (50m-200m CPU, 64Mi-256Mi memory).
CLUSTER_NODE_PODS="${CLUSTER_NODE_PODS:-1500}"
CLUSTER_NODE_CPU="${CLUSTER_NODE_CPU:-500}"
CLUSTER_NODE_MEMORY="${CLUSTER_NODE_MEMORY:-1Ti}"
# kwokctl's API server allocates Service IPs from 10.0.0.0/24 (254 Services); a ServiceCIDR
# object applied after start adds this range (65,534 more).
CLUSTER_SERVICE_CIDR="${CLUSTER_SERVICE_CIDR:-10.96.0.0/16}"
# An audit policy file for the API server (kwokctl --kube-audit-policy), used when the cluster is
# created; the log is bin/cluster/.kwok/clusters/<name>/logs/audit.log. Empty: no audit log.
CLUSTER_AUDIT_POLICY="${CLUSTER_AUDIT_POLICY:-}"
# Empty: kwokctl picks free ports. Set it to pin the API server's port (for example 6443).
CLUSTER_APISERVER_PORT="${CLUSTER_APISERVER_PORT:-}"

CLUSTER_ROOT="${LOCALBIN}/cluster"
KWOK_DIR="${CLUSTER_ROOT}/.kwok"
STATE_DIR="${CLUSTER_ROOT}/${CLUSTER_NAME}"
CLUSTER_KUBECONFIG="${STATE_DIR}/kubeconfig"
KWOK_CLUSTER_DIR="${KWOK_DIR}/clusters/${CLUSTER_NAME}"
# The leader-election Lease of a locally run operator lives here (as in config/default).
OPERATOR_NAMESPACE="${OPERATOR_NAMESPACE:-smartcity-system}"

# kwokctl reads KWOK_* variables (runtime, versions, ports, work directory): drop a person's own
# and set ours, so their kwok clusters and ours never meet.
while read -r _v; do unset "${_v}"; done < <(compgen -e | grep '^KWOK_' || true)
unset _v
export KWOK_WORKDIR="${KWOK_DIR}"

if [[ ! "${CLUSTER_NAME}" =~ ^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$ ]]; then
  printf 'error: CLUSTER_NAME %q must be a DNS label (lower-case letters, digits, -; at most 40)\n' "${CLUSTER_NAME}" >&2
  exit 2
fi

# shellcheck source=hack/lib/log.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/log.sh"

# alive PID: the process exists and is not a zombie (an exited child nobody reaped yet).
alive() {
  [[ "$1" =~ ^[0-9]+$ ]] || return 1
  if [[ -r "/proc/$1/status" ]]; then
    ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
  else
    kill -0 "$1" 2>/dev/null
  fi
}

# wait_gone SECONDS PID...: waits until none of the processes is alive; returns 1 on timeout.
wait_gone() {
  local deadline=$((SECONDS + $1)) pid
  shift
  while ((SECONDS < deadline)); do
    local any=""
    for pid in "$@"; do alive "${pid}" && any=1; done
    [[ -z "${any}" ]] && return 0
    sleep 0.2
  done
  return 1
}

# port_in_use PORT: something accepts connections on the loopback address at PORT.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port FROM: prints the first port from FROM upwards that nothing listens on.
free_port() {
  local p="$1"
  while port_in_use "${p}"; do p=$((p + 1)); done
  echo "${p}"
}

# kubectl's discovery cache: per cluster, not in ~/.kube/cache (kwokctl's kubectl calls too). Ports
# are reused by later clusters, and a stale cache would hide their CRDs.
export KUBECACHEDIR="${STATE_DIR}/kube-cache"

# kubectl against this cluster only, whatever KUBECONFIG a person exported.
k() { kubectl --kubeconfig "${CLUSTER_KUBECONFIG}" "$@"; }

# write_atomic FILE: writes stdin to FILE through a temporary file and a rename.
write_atomic() {
  mkdir -p "$(dirname "$1")"
  local tmp
  tmp="$(mktemp "$1.tmp.XXXXXX")"
  if cat >"${tmp}"; then mv -f "${tmp}" "$1"; else rm -f "${tmp}"; return 1; fi
}
