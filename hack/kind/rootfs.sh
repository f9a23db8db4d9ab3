#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# rootfs.sh node|netfilter
#
# Builds a Debian bookworm root filesystem with debootstrap (--variant=minbase) from the mirror
# this machine's apt is configured with, and prints the path of its tarball:
#
#   node       what a kind node runs: systemd, containerd, runc, CNI plugins, netfilter tools...
#   netfilter  the small base of the kube-proxy and kube-router images: iptables, nftables,
#              conntrack, ipset, iproute2, kmod
#
# The tarball is cached as $CACHE/kind/rootfs/<flavour>-bookworm-<key>.tar, where <key> hashes
# the package list, the mirror and this script; it is written atomically. Downloaded .debs are
# kept in $CACHE/kind/debs, so a rebuild does not fetch them again.
set -euo pipefail
# shellcheck source=hack/kind/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SUITE=bookworm
NODE_PACKAGES=(
  systemd systemd-sysv dbus
  containerd runc containernetworking-plugins
  iptables nftables conntrack ipset iproute2 ethtool
  util-linux mount kmod libseccomp2 pigz bash ca-certificates jq procps e2fsprogs socat
)
NETFILTER_PACKAGES=(iptables nftables conntrack ipset iproute2 kmod)

# mirror: the first Debian archive URI that the host's apt sources use for a ${SUITE} suite
# (deb822 *.sources and one-line *.list files); deb.debian.org when there is none.
mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "${f}" ]] || continue
    uri="$(awk -v suite="${SUITE}" '
      function flush() { if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && uris != "") { split(uris, u, " "); print u[1]; found = 1; exit } types = suites = uris = "" }
      /^[[:space:]]*$/ { flush(); next }
      /^Types:/ { sub(/^Types:[[:space:]]*/, ""); types = $0 }
      /^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = $0 }
      /^URIs:/ { sub(/^URIs:[[:space:]]*/, ""); uris = $0 }
      END { if (!found) flush() }' "${f}")"
    [[ -n "${uri}" ]] && { echo "${uri}"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "${f}" ]] || continue
    uri="$(awk -v suite="${SUITE}" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) == suite) { print $i; exit } }' "${f}")"
    [[ -n "${uri}" ]] && { echo "${uri}"; return; }
  done
  echo "http://deb.debian.org/debian"
}

build() {
  local flavour="$1" packages=()
  case "${flavour}" in
  node) packages=("${NODE_PACKAGES[@]}") ;;
  netfilter) packages=("${NETFILTER_PACKAGES[@]}") ;;
  *) die "unknown rootfs flavour '${flavour}' (node or netfilter)" ;;
  esac
  local mirror_uri k out
  mirror_uri="$(mirror)"
  k="$(key "${SUITE}" "${mirror_uri}" "${packages[*]}" "${BASH_SOURCE[0]}")"
  out="${KIND_CACHE}/rootfs/${flavour}-${SUITE}-${k}.tar"
  if [[ -s "${out}" ]]; then
    info "cached: ${flavour} rootfs (${out})" >&2
    echo "${out}"
    return
  fi
  [[ ${EUID} -eq 0 ]] || die "debootstrap needs root (building the ${flavour} rootfs)"
  ensure_pkgs debootstrap:debootstrap >&2
  mkdir -p "${KIND_CACHE}/rootfs" "${KIND_CACHE}/debs"
  local dir="${KIND_CACHE}/rootfs/.${flavour}.tmp.$$" start=${SECONDS} log="${KIND_CACHE}/rootfs/${flavour}.log"
  # shellcheck disable=SC2064
  trap "rm -rf '${dir}' '${out}.tmp.$$'" EXIT
  info "debootstrap --variant=minbase ${SUITE} from ${mirror_uri} (${flavour}: ${#packages[@]} packages; ~1 min cold)…" >&2
  local keyring=()
  [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] && keyring=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)
  if ! debootstrap --variant=minbase "${keyring[@]}" --components=main \
    --include="$(
      IFS=,
      echo "${packages[*]}"
    )" \
    --cache-dir="${KIND_CACHE}/debs" "${SUITE}" "${dir}" "${mirror_uri}" >"${log}" 2>&1; then
    die "debootstrap of the ${flavour} rootfs failed; log: ${log}" "$(tail -n 8 "${log}")" \
      "the mirror comes from /etc/apt/sources.list(.d); check that 'apt-get update' works"
  fi
  # Trim what no container needs: package lists and archives, docs, man pages, locales.
  rm -rf "${dir}"/var/lib/apt/lists/* "${dir}"/var/cache/apt/*.bin "${dir}"/var/cache/apt/archives/*.deb \
    "${dir}"/usr/share/doc/* "${dir}"/usr/share/man/* "${dir}"/usr/share/info/* "${dir}"/usr/share/locale/* \
    "${dir}"/var/log/*.log "${dir}"/var/log/apt/* "${dir}"/tmp/*
  # The host's resolver and hostname must not be baked in.
  rm -f "${dir}/etc/hostname"
  : >"${dir}/etc/resolv.conf"
  tar --numeric-owner --xattrs -C "${dir}" -cf "${out}.tmp.$$" .
  mv -f "${out}.tmp.$$" "${out}"
  rm -rf "${dir}"
  trap - EXIT
  info "built ${flavour} rootfs in $(fmt_secs $((SECONDS - start))): ${out} ($(du -h "${out}" | cut -f1))" >&2
  echo "${out}"
}

case "${1:-}" in
node | netfilter) build "$1" ;;
mirror) mirror ;;
*)
  echo "usage: $0 node|netfilter|mirror" >&2
  exit 2
  ;;
esac
