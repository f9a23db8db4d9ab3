#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# ensure-bins.sh NAME...
#
# Builds pinned third-party binaries (kube-apiserver, etcd, kubectl, ...) from the Go module proxy,
# once, into a cache outside the clone, and links them into ./bin (and the envtest ones into
# ./bin/k8s, for KUBEBUILDER_ASSETS). Nothing is downloaded from anywhere but the module proxy.
#
#   hack/ensure-bins.sh kube-apiserver etcd kubectl   # or: hack/ensure-bins.sh envtest
#   hack/ensure-bins.sh --list                        # show the table and what is cached
#
# Cache: ${SMARTCITY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smartcity-operator}/bin/<name>-<version>-<key>
# where <key> hashes the building module's go.mod/go.sum, the build flags and the Go version, so a
# bump of any of them builds a new binary and a fresh clone reuses the old one for free.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${SMARTCITY_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/smartcity-operator}"
BIN_CACHE="${CACHE_DIR}/bin"
LOCALBIN="${LOCALBIN:-${ROOT}/bin}"
ENVTEST_DIR="${LOCALBIN}/k8s"

K8S_VERSION=v1.37.2
K8S_LDFLAGS="-X k8s.io/component-base/version.gitVersion=${K8S_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"

# helm's version, and the Kubernetes version `helm template` and `helm lint` assume (1.37, from its
# client-go v0.37.0, as helm's own Makefile sets it).
HELM_LDFLAGS="-X helm.sh/helm/v3/internal/version.version=v3.22.0"
for pkg in lint/rules chartutil; do
  HELM_LDFLAGS+=" -X helm.sh/helm/v3/pkg/${pkg}.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/${pkg}.k8sVersionMinor=37"
done

# One line per binary: name | module dir (relative to the repo root) | Go package | version |
# extra -ldflags | cold build hint. The version is for people and file names; the go.mod in the
# module dir is what pins it (keep them in step). To add a binary, add a line, e.g.
#   "kwok|hack/kwok|sigs.k8s.io/kwok/cmd/kwok|v0.8.0||~2 min"
BINARIES=(
  "kube-apiserver|hack/k8s|k8s.io/kubernetes/cmd/kube-apiserver|${K8S_VERSION}|${K8S_LDFLAGS}|~4 min"
  "kube-controller-manager|hack/k8s|k8s.io/kubernetes/cmd/kube-controller-manager|${K8S_VERSION}|${K8S_LDFLAGS}|~2 min after kube-apiserver"
  "kube-scheduler|hack/k8s|k8s.io/kubernetes/cmd/kube-scheduler|${K8S_VERSION}|${K8S_LDFLAGS}|~1 min after kube-apiserver"
  "kubectl|hack/k8s|k8s.io/kubernetes/cmd/kubectl|${K8S_VERSION}|${K8S_LDFLAGS}|~1 min after kube-apiserver"
  "etcd|hack/etcd|go.etcd.io/etcd/server/v3|v3.7.3||~1 min"
  "kwok|hack/kwok|sigs.k8s.io/kwok/cmd/kwok|v0.8.0||~3 min"
  "kwokctl|hack/kwok|sigs.k8s.io/kwok/cmd/kwokctl|v0.8.0||~1 min after kwok"
  # The real kind cluster (hack/kind): node binaries, kind itself, and what the offline node image holds.
  "kubelet|hack/k8s|k8s.io/kubernetes/cmd/kubelet|${K8S_VERSION}|${K8S_LDFLAGS}|~1 min after kube-apiserver"
  "kubeadm|hack/k8s|k8s.io/kubernetes/cmd/kubeadm|${K8S_VERSION}|${K8S_LDFLAGS}|~1 min after kube-apiserver"
  "kube-proxy|hack/k8s|k8s.io/kubernetes/cmd/kube-proxy|${K8S_VERSION}|${K8S_LDFLAGS}|~1 min after kube-apiserver"
  "kind|hack/kind/modules/kind|sigs.k8s.io/kind|v0.33.0||~10 s"
  "coredns|hack/kind/modules/coredns|github.com/coredns/coredns|v1.14.6||~3 min"
  "crictl|hack/kind/modules/crictl|sigs.k8s.io/cri-tools/cmd/crictl|v1.36.0|-X sigs.k8s.io/cri-tools/pkg/version.Version=v1.36.0|~1 min"
  "kube-router|hack/kind/modules/kube-router|github.com/cloudnativelabs/kube-router/v2/cmd/kube-router|v2.1.0|-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=v2.1.0|~2 min"
  # The Helm chart's lint, goldens and install (charts/smartcity-operator); a tools module of its own.
  "helm|hack/tools/helm|helm.sh/helm/v3/cmd/helm|v3.22.0|${HELM_LDFLAGS}|~3 min (~9 min on a busy machine)"
)

# Names that expand to several binaries.
declare -A GROUPS_=(
  [envtest]="kube-apiserver etcd kubectl"
  [cluster]="kube-apiserver etcd kubectl kube-controller-manager kube-scheduler kwok kwokctl"
  [kind]="kind kubectl kubelet kubeadm kube-apiserver kube-controller-manager kube-scheduler kube-proxy etcd coredns crictl kube-router"
)

# Binaries that controller-runtime's envtest looks for in KUBEBUILDER_ASSETS.
ENVTEST_BINS=" kube-apiserver etcd kubectl "

# Flags shared by every build. CGO off gives static binaries that run anywhere on this machine.
# No -trimpath: the binaries never leave this machine, and -trimpath changes every package's cache
# key, so it would not reuse a Go build cache that was warmed without it (doubling a cold build).
export CGO_ENABLED=0 GOWORK=off
BASE_LDFLAGS="-s -w"

log() { printf '%s\n' "$*" >&2; }
die() { log "ensure-bins: error: $*"; exit 1; }

lookup() { # lookup NAME -> sets row fields or returns 1
  local row
  for row in "${BINARIES[@]}"; do
    if [[ "${row%%|*}" == "$1" ]]; then
      IFS='|' read -r B_NAME B_DIR B_PKG B_VERSION B_LDFLAGS B_HINT <<<"${row}"
      return 0
    fi
  done
  return 1
}

cache_key() { # hash of everything that decides the binary's content
  {
    cat "${ROOT}/${B_DIR}/go.mod"
    [[ -f "${ROOT}/${B_DIR}/go.sum" ]] && cat "${ROOT}/${B_DIR}/go.sum"
    printf '%s\n' "${B_PKG}" "${B_VERSION}" "${BASE_LDFLAGS} ${B_LDFLAGS}" "$(go env GOVERSION GOOS GOARCH)" "CGO_ENABLED=${CGO_ENABLED}"
  } | sha256sum | cut -c1-12
}

fmt_secs() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

link() { # link SRC DESTDIR NAME
  mkdir -p "$2"
  ln -sfn "$1" "$2/.$3.tmp.$$"
  mv -fT "$2/.$3.tmp.$$" "$2/$3"
}

ensure() {
  local name="$1"
  lookup "${name}" || die "unknown binary '${name}'; known: $(list_names) (and groups: ${!GROUPS_[*]})"
  [[ -f "${ROOT}/${B_DIR}/go.mod" ]] || die "${B_DIR}/go.mod not found (needed to build ${name})"

  local key target
  key="$(cache_key)"
  target="${BIN_CACHE}/${name}-${B_VERSION}-${key}"

  if [[ -x "${target}" ]]; then
    log "cached: ${name} ${B_VERSION} (${target})"
  else
    mkdir -p "${BIN_CACHE}"
    local tmp="${target}.tmp.$$" start=${SECONDS} rc=0
    log "building ${name} ${B_VERSION} (cold build takes ${B_HINT:-a few minutes}; later runs use the cache)…"
    # shellcheck disable=SC2064
    trap "rm -f '${tmp}'" EXIT
    (cd "${ROOT}/${B_DIR}" && go build -buildvcs=false -ldflags "${BASE_LDFLAGS} ${B_LDFLAGS}" -o "${tmp}" "${B_PKG}") || rc=$?
    if [[ ${rc} -ne 0 ]]; then
      rm -f "${tmp}"
      log ""
      log "ensure-bins: error: building ${name} ${B_VERSION} failed (exit ${rc}). To reproduce:"
      log "  cd ${B_DIR} && CGO_ENABLED=0 go build -ldflags '${BASE_LDFLAGS} ${B_LDFLAGS}' -o /tmp/${name} ${B_PKG}"
      log "Module downloads need the Go module proxy (GOPROXY=$(go env GOPROXY)); a missing go.sum entry"
      log "needs 'go mod tidy' in ${B_DIR}."
      exit "${rc}"
    fi
    mv -f "${tmp}" "${target}"
    trap - EXIT
    log "built ${name} ${B_VERSION} in $(fmt_secs $((SECONDS - start))) -> ${target}"
  fi

  link "${target}" "${LOCALBIN}" "${name}"
  if [[ "${ENVTEST_BINS}" == *" ${name} "* ]]; then
    link "${target}" "${ENVTEST_DIR}" "${name}"
  fi
}

list_names() {
  local row out=()
  for row in "${BINARIES[@]}"; do out+=("${row%%|*}"); done
  echo "${out[*]}"
}

list() {
  local row
  printf '%-26s %-10s %-10s %s\n' NAME VERSION MODULE CACHED
  for row in "${BINARIES[@]}"; do
    lookup "${row%%|*}"
    local target
    target="${BIN_CACHE}/${B_NAME}-${B_VERSION}-$(cache_key)"
    printf '%-26s %-10s %-10s %s\n' "${B_NAME}" "${B_VERSION}" "${B_DIR}" "$([[ -x ${target} ]] && echo "${target}" || echo no)"
  done
}

main() {
  if [[ $# -eq 0 || "$1" == "-h" || "$1" == "--help" ]]; then
    sed -n '5,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    log "known: $(list_names); groups: ${!GROUPS_[*]}"
    [[ $# -eq 0 ]] && exit 2 || exit 0
  fi
  if [[ "$1" == "--list" ]]; then
    list
    return
  fi
  command -v go >/dev/null || die "go not found on PATH"
  local arg name
  for arg in "$@"; do
    if [[ -n "${GROUPS_[${arg}]:-}" ]]; then
      for name in ${GROUPS_[${arg}]}; do ensure "${name}"; done
    else
      ensure "${arg}"
    fi
  done
}

main "$@"
