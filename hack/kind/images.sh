#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# images.sh build|load|operator TAG
#
# Builds the project's images without pulling anything (static Go binaries on scratch, with the
# Dockerfiles in hack/kind/images), each tagged by content, never :latest:
#
#   smartcity-operator:<key>                       the operator (main.go)
#   smartcity/city-service:<key> and :0.1.0        what config/samples names (cmd/city-service,
#                                                  with cmd/probe as /probe)
#   smartcity/probe:<key>                          the connectivity probe (cmd/probe)
#
# <key> hashes the binaries and the Dockerfile, so an unchanged image is not rebuilt.
#   build          builds them in the Docker daemon of hack/kind/docker.sh; writes their tags to
#                  bin/kind-cluster/<cluster>/images.env
#   load           build, then `kind load docker-image` into the cluster
#   operator TAG   builds only the operator image and tags it TAG too (make docker-build offline)
set -euo pipefail
# shellcheck source=hack/kind/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
use_docker

CITY_SERVICE_VERSION=0.1.0
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

gobuild() { # gobuild OUT PKG [LDFLAGS]
  (cd "${ROOT}" && CGO_ENABLED=0 GOWORK=off go build -trimpath -buildvcs=false -ldflags "-s -w ${3:-}" -o "$1" "$2")
}

# image NAME DOCKERFILE CTX [EXTRA_TAG]: builds CTX with DOCKERFILE as NAME:<key>; prints the tag.
image() {
  local name="$1" dockerfile="$2" ctx="$3" extra="${4:-}" k tag
  cp "${dockerfile}" "${ctx}/Dockerfile"
  k="$(cd "${ctx}" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-12)"
  tag="${name}:${k}"
  if docker image inspect "${tag}" >/dev/null 2>&1; then
    info "cached: ${tag}" >&2
  else
    docker_build -t "${tag}" "${ctx}" || die "docker build of ${tag} failed"
    info "built ${tag}" >&2
  fi
  if [[ -n "${extra}" ]]; then docker tag "${tag}" "${extra}"; fi
  # Older content tags of the same image are not used again.
  local old
  old="$(docker images --format '{{.Repository}}:{{.Tag}}' "${name}" | grep -E ":[0-9a-f]{12}\$" | grep -vx "${tag}" || true)"
  # shellcheck disable=SC2086 # one image per word
  [[ -z "${old}" ]] || docker image rm ${old} >/dev/null 2>&1 || true
  echo "${tag}"
}

operator_image() {
  local ctx
  ctx="$(mktemp -d)"
  gobuild "${ctx}/manager" ./main.go || die "building the operator failed"
  [[ -s "${CA_BUNDLE}" ]] || die "no CA bundle at ${CA_BUNDLE} (Debian package ca-certificates; or set CA_BUNDLE)"
  cp "${CA_BUNDLE}" "${ctx}/ca-certificates.crt"
  image smartcity-operator "${KIND_DIR}/images/operator.Dockerfile" "${ctx}" "${1:-}"
  rm -rf "${ctx}"
}

city_service_image() {
  local ctx
  ctx="$(mktemp -d)"
  gobuild "${ctx}/city-service" ./cmd/city-service "-X main.version=${CITY_SERVICE_VERSION}" || die "building city-service failed"
  gobuild "${ctx}/probe" ./cmd/probe || die "building the probe failed"
  image smartcity/city-service "${KIND_DIR}/images/city-service.Dockerfile" "${ctx}" "smartcity/city-service:${CITY_SERVICE_VERSION}"
  rm -rf "${ctx}"
}

probe_image() {
  local ctx
  ctx="$(mktemp -d)"
  gobuild "${ctx}/probe" ./cmd/probe || die "building the probe failed"
  image smartcity/probe "${KIND_DIR}/images/probe.Dockerfile" "${ctx}"
  rm -rf "${ctx}"
}

build() {
  timeout 10 docker info >/dev/null 2>&1 || die "no Docker daemon answers${DOCKER_HOST:+ at ${DOCKER_HOST}}" "run: hack/kind/docker.sh up (or make kind-up)"
  local op cs pr
  op="$(operator_image)"
  cs="$(city_service_image)"
  pr="$(probe_image)"
  mkdir -p "${STATE_DIR}"
  cat >"${IMAGES_ENV}.tmp" <<EOF
OPERATOR_IMAGE=${op}
CITY_SERVICE_IMAGE=${cs}
CITY_SERVICE_SAMPLE_IMAGE=smartcity/city-service:${CITY_SERVICE_VERSION}
PROBE_IMAGE=${pr}
EOF
  mv -f "${IMAGES_ENV}.tmp" "${IMAGES_ENV}"
  ok "images: ${op}, ${cs} (= smartcity/city-service:${CITY_SERVICE_VERSION}), ${pr}"
}

load() {
  build
  cluster_exists || die "no kind cluster ${KIND_CLUSTER_NAME}" "create it with: make kind-up"
  # shellcheck source=/dev/null
  source "${IMAGES_ENV}"
  local img start
  for img in "${OPERATOR_IMAGE}" "${CITY_SERVICE_IMAGE}" "${CITY_SERVICE_SAMPLE_IMAGE}" "${PROBE_IMAGE}"; do
    start=${SECONDS}
    kind load docker-image --name "${KIND_CLUSTER_NAME}" "${img}" >/dev/null 2>&1 ||
      die "kind load docker-image ${img} failed"
    info "loaded ${img} ($(fmt_secs $((SECONDS - start))))"
  done
}

case "${1:-}" in
build) build ;;
load) load ;;
operator)
  [[ -n "${2:-}" ]] || die "usage: $0 operator TAG"
  operator_image "$2" >/dev/null
  ok "built the operator image offline: $2"
  ;;
*)
  echo "usage: $0 build|load|operator TAG" >&2
  exit 2
  ;;
esac
