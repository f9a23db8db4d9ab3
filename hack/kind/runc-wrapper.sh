#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# runc-wrapper.sh: an OCI runtime for the private Docker daemon on hosts whose capability
# bounding set lacks CAP_SYS_RESOURCE (see hack/kind/docker.sh). Docker 20.10 gives privileged
# containers every capability it knows, and runc then fails with "unable to apply caps:
# operation not permitted". This removes CAP_SYS_RESOURCE from the bundle's config.json
# (create, run) and from the process spec of `exec --process` (docker exec --privileged, which
# kind uses), then executes the real runc with the same arguments.
#
# docker.sh copies this file next to the daemon's socket and sets REAL_RUNC in the copy.
REAL_RUNC="${REAL_RUNC:-/usr/sbin/runc}"
DROP=CAP_SYS_RESOURCE

cmd="" bundle="" process=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  a="${args[i]}"
  case "${a}" in
  --bundle | -b) bundle="${args[i + 1]:-}" ;;
  --bundle=*) bundle="${a#*=}" ;;
  --process | -p) process="${args[i + 1]:-}" ;;
  --process=*) process="${a#*=}" ;;
  # Global options that take a value: skip the value, so it is never taken for the command.
  --root | --log | --log-format | --criu) i=$((i + 1)) ;;
  -*) ;;
  *) [[ -z "${cmd}" ]] && cmd="${a}" ;;
  esac
done

# strip FILE JQ_PATH: rewrite FILE without ${DROP} in the capability lists under JQ_PATH.
strip() {
  local file="$1" path="$2" tmp
  [[ -f "${file}" ]] && grep -q "${DROP}" "${file}" || return 0
  tmp="${file}.smartcity.$$"
  if jq --arg drop "${DROP}" \
    "if ${path} then ${path} |= map_values(if type == \"array\" then map(select(. != \$drop)) else . end) else . end" \
    "${file}" >"${tmp}"; then
    mv -f "${tmp}" "${file}"
  else
    rm -f "${tmp}"
  fi
}

case "${cmd}" in
create | run) strip "${bundle:-.}/config.json" .process.capabilities ;;
exec) [[ -n "${process}" ]] && strip "${process}" .capabilities ;;
esac
exec "${REAL_RUNC}" "$@"
