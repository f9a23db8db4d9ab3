#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# log.sh: the progress and error output shared by the hack/ scripts (sourced, not run).
# shellcheck disable=SC2034 # the colour variables are used by the scripts that source this

if [[ -t 1 ]]; then
  _bold=$'\033[1m' _red=$'\033[31m' _green=$'\033[32m' _dim=$'\033[2m' _off=$'\033[0m'
else
  _bold="" _red="" _green="" _dim="" _off=""
fi

step() { printf '%s==> %s%s\n' "${_bold}" "$*" "${_off}"; }
info() { printf '    %s\n' "$*"; }
ok() { printf '    %s%s%s\n' "${_green}" "$*" "${_off}"; }
warn() { printf '    %swarning: %s%s\n' "${_red}" "$*" "${_off}" >&2; }
die() {
  printf '%serror: %s%s\n' "${_red}" "$1" "${_off}" >&2
  shift
  local line
  for line in "$@"; do printf '       %s\n' "${line}" >&2; done
  exit 1
}
fmt_secs() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
