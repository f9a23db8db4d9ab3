#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# container-image.sh build|push IMG
#
# make docker-build / docker-push. Fails fast, with an explanation, when no container engine is
# running or the registry cannot be reached (the base images of the Dockerfile must be pulled).
# CONTAINER_TOOL picks the engine (docker by default, or podman).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

action="${1:-}" img="${2:-}"
tool="${CONTAINER_TOOL:-docker}"
[[ "${action}" =~ ^(build|push)$ && -n "${img}" ]] || { echo "usage: $0 build|push IMG" >&2; exit 2; }

offline_note() {
  cat >&2 <<MSG

  The Dockerfile builds FROM registry images (golang, gcr.io/distroless/static), so '${action}' needs
  a running container engine that can reach a registry. On a machine without one (such as this
  project's offline build machines) use 'make build' for the manager binary; an offline
  'make docker-build' path (a static binary on 'scratch', no registry needed) is planned.
MSG
}

if ! command -v "${tool}" >/dev/null 2>&1; then
  echo "docker-${action}: '${tool}' is not installed (set CONTAINER_TOOL to use another engine)." >&2
  offline_note
  exit 1
fi
if ! timeout 20 "${tool}" info >/dev/null 2>&1; then
  echo "docker-${action}: no ${tool} engine is running or reachable ('${tool} info' failed)." >&2
  offline_note
  exit 1
fi

case "${action}" in
build)
  awk 'toupper($1) == "FROM" { print $2 }' Dockerfile | while read -r base; do
    if ! "${tool}" image inspect "${base}" >/dev/null 2>&1 &&
      ! timeout 120 "${tool}" pull "${base}"; then
      echo "docker-build: base image ${base} is not present locally and could not be pulled." >&2
      offline_note
      exit 1
    fi
  done || exit 1
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
