#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# container-image.sh build|push IMG
#
# make docker-build / docker-push. Fails fast, with an explanation, when no container engine is
# running or the registry cannot be reached (the base images of the Dockerfile must be pulled).
# With Docker, `build` then takes the offline path instead: hack/kind/images.sh builds the static
# manager on scratch (hack/kind/images/operator.Dockerfile) in the daemon of hack/kind/docker.sh.
# CONTAINER_TOOL picks the engine (docker by default, or podman).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

action="${1:-}" img="${2:-}"
tool="${CONTAINER_TOOL:-docker}"
[[ "${action}" =~ ^(build|push)$ && -n "${img}" ]] || { echo "usage: $0 build|push IMG" >&2; exit 2; }

offline_note() {
  cat >&2 <<MSG

  The Dockerfile builds FROM registry images (golang, gcr.io/distroless/static), so '${action}' needs
  a running container engine that can reach a registry. 'make docker-build' has an offline path
  (hack/kind/images.sh: a static binary on scratch, no registry needed) for Docker; pushing needs
  a registry.
MSG
}

# offline_build: the operator image without any registry (hack/kind/images.sh operator), in the
# Docker daemon hack/kind/docker.sh provides (the system one, or a private one where needed).
offline_build() {
  echo "docker-build: $1; building the offline image instead (static binary on scratch, hack/kind/images/operator.Dockerfile)." >&2
  hack/kind/docker.sh up
  DOCKER_HOST="$(hack/kind/docker.sh env)"
  if [[ -n "${DOCKER_HOST}" ]]; then export DOCKER_HOST; else unset DOCKER_HOST; fi
  hack/kind/images.sh operator "${img}"
  echo "docker-build: ${img} is in the Docker daemon at ${DOCKER_HOST:-the default socket}" >&2
  exit 0
}

if ! command -v "${tool}" >/dev/null 2>&1; then
  echo "docker-${action}: '${tool}' is not installed (set CONTAINER_TOOL to use another engine)." >&2
  offline_note
  exit 1
fi
if ! timeout 20 "${tool}" info >/dev/null 2>&1; then
  if [[ "${action}" == build && "${tool}" == docker && -x hack/kind/images.sh ]]; then
    offline_build "no Docker engine answers ('docker info' failed)"
  fi
  echo "docker-${action}: no ${tool} engine is running or reachable ('${tool} info' failed)." >&2
  offline_note
  exit 1
fi

case "${action}" in
build)
  missing=""
  while read -r base; do
    if ! "${tool}" image inspect "${base}" >/dev/null 2>&1 &&
      ! timeout 120 "${tool}" pull "${base}"; then
      missing="${base}"
      break
    fi
  done < <(awk 'toupper($1) == "FROM" { print $2 }' Dockerfile)
  if [[ -n "${missing}" ]]; then
    if [[ "${tool}" == docker && -x hack/kind/images.sh ]]; then
      offline_build "base image ${missing} is not present locally and could not be pulled"
    fi
    echo "docker-build: base image ${missing} is not present locally and could not be pulled." >&2
    offline_note
    exit 1
  fi
  exec "${tool}" build -t "${img}" .
  ;;
push)
  if ! timeout 600 "${tool}" push "${img}"; then
    echo "docker-push: pushing ${img} failed; is its registry reachable and are you logged in?" >&2
    offline_note
    exit 1
  fi
  ;;
esac
