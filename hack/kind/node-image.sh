#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# node-image.sh
#
# Builds, without any registry, a kind node image for Kubernetes v1.37.2 in the Docker daemon
# that hack/kind/docker.sh provides, and prints its tag (smartcity-kind/node:v1.37.2-<key>).
# The key hashes every input (binaries, rootfs tarballs, kind's base files, the files in
# hack/kind/node, this script, the capability quirk), so an unchanged image is reused at once.
#
# What goes in (see ../shared/KIND.md, and kind's images/base and pkg/build/nodeimage):
#   - the Debian node rootfs (rootfs.sh node) with kind's base files, read at build time from
#     the sigs.k8s.io/kind@v0.33.0 module in Go's module cache (never copied into this repo);
#   - kubelet, kubeadm, kubectl in /usr/bin, crictl in /usr/local/bin (hack/ensure-bins.sh);
#   - containerd's config (kind's, with our pause image and, only where the host lacks
#     CAP_SYS_RESOURCE, restrict_oom_score_adj = true) and a ptp CNI conflist for one node;
#   - preloaded in containerd's k8s.io namespace, built FROM scratch or from the netfilter
#     rootfs: registry.k8s.io/kube-{apiserver,controller-manager,scheduler,proxy}:v1.37.2,
#     etcd:3.7.0-0, coredns/coredns:v1.14.6, pause:3.10.2, and kube-router (NetworkPolicy).
set -euo pipefail
# shellcheck source=hack/kind/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
use_docker

log() { info "$*" >&2; }

# bin NAME: the cached binary behind bin/NAME (its file name carries the build key).
bin() {
  local p
  p="$(readlink -f "${LOCALBIN}/$1" 2>/dev/null || true)"
  [[ -x "${p}" ]] || die "${LOCALBIN}/$1 is missing; run: hack/ensure-bins.sh kind"
  echo "${p}"
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# pause: the static C sandbox binary, cached by the source's hash and the compiler.
build_pause() {
  local src="${KIND_DIR}/images/pause/pause.c" k out
  command -v gcc >/dev/null || ensure_pkgs gcc:gcc libc6-dev >&2
  k="$(key "${src}" "$(gcc --version | head -n1)")"
  out="${KIND_CACHE}/pause/pause-${PAUSE_VERSION}-${k}"
  if [[ ! -x "${out}" ]]; then
    mkdir -p "${KIND_CACHE}/pause"
    gcc -static -O2 -Wall -o "${out}.tmp.$$" "${src}" >&2 ||
      die "gcc -static failed for pause.c" "the static C library is in Debian's libc6-dev"
    strip "${out}.tmp.$$" 2>/dev/null || true
    mv -f "${out}.tmp.$$" "${out}"
    log "built pause (${out})"
  fi
  echo "${out}"
}

# component TAG BASE BINARY [entrypoint]: an image FROM BASE with BINARY in /usr/local/bin under
# its own name, and PATH set, as kubeadm's manifests call the commands by name.
component() {
  local tag="$1" base="$2" binary="$3" entry="${4:-}" ctx name
  image_exists "${tag}" && return 0
  name="$(basename "${binary}")"
  ctx="$(mktemp -d "${KIND_CACHE}/tmp/ctx.XXXXXX")"
  cp "${binary}" "${ctx}/${name}"
  {
    echo "FROM ${base}"
    echo "COPY ${name} /usr/local/bin/${name}"
    echo "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
    [[ -n "${entry}" ]] && echo "ENTRYPOINT [\"/usr/local/bin/${name}\"]"
  } >"${ctx}/Dockerfile"
  docker_build -t "${tag}" "${ctx}" || die "docker build of ${tag} failed"
  rm -rf "${ctx}"
}

main() {
  mkdir -p "${KIND_CACHE}/tmp"
  local kind_dir
  kind_dir="$(cd "${ROOT}/hack/kind/modules/kind" && go mod download -json sigs.k8s.io/kind | jq -r .Dir)"
  [[ -d "${kind_dir}/images/base/files" ]] || die "kind's base files not found in the module cache (${kind_dir})"

  local kubelet kubeadm kubectl crictl apiserver cm scheduler proxy etcd coredns router pause node_rootfs nf_rootfs
  kubelet="$(bin kubelet)" kubeadm="$(bin kubeadm)" kubectl="$(bin kubectl)" crictl="$(bin crictl)"
  apiserver="$(bin kube-apiserver)" cm="$(bin kube-controller-manager)" scheduler="$(bin kube-scheduler)"
  proxy="$(bin kube-proxy)" etcd="$(bin etcd)" coredns="$(bin coredns)" router="$(bin kube-router)"
  pause="$(build_pause)"
  node_rootfs="$("${KIND_DIR}/rootfs.sh" node)"
  nf_rootfs="$("${KIND_DIR}/rootfs.sh" netfilter)"

  local quirk=no
  cap_sys_resource_missing && quirk=yes
  local k
  k="$(key "${kubelet}" "${kubeadm}" "${kubectl}" "${crictl}" "${apiserver}" "${cm}" "${scheduler}" "${proxy}" \
    "${etcd}" "${coredns}" "${router}" "${pause}" "$(basename "${node_rootfs}")" "$(basename "${nf_rootfs}")" \
    "${kind_dir}" "quirk=${quirk}" "${BASH_SOURCE[0]}" "${KIND_DIR}/node/10-smartcity-ptp.conflist" \
    "${KIND_DIR}/node/default-storage.yaml")"
  local node_image="smartcity-kind/node:${K8S_VERSION}-${k}"
  # kube-router (hack/kind/kube-router.yaml) is preloaded too, under a tag that shares the key.
  local router_image="smartcity-kind/kube-router:${KUBE_ROUTER_VERSION}-${k}"
  if image_exists "${node_image}"; then
    log "cached: node image ${node_image}"
    echo "${node_image}"
    return
  fi
  log "building node image ${node_image} (quirk: CAP_SYS_RESOURCE missing = ${quirk})"
  # Intermediate images left by an interrupted build.
  local stale
  stale="$(docker images --format '{{.Repository}}:{{.Tag}}' | grep -E \
    '^smartcity-kind/(node-base|node-commit|kube-apiserver|kube-controller-manager|kube-scheduler|kube-proxy|etcd|coredns|pause):' || true)"
  # shellcheck disable=SC2086 # one image per word
  [[ -z "${stale}" ]] || docker image rm ${stale} >/dev/null 2>&1 || true

  # Component images. Their tags here are ours; inside the node they get kubeadm's names.
  local nf_base
  nf_base="smartcity-kind/netfilter-base:$(key "$(basename "${nf_rootfs}")")"
  if ! image_exists "${nf_base}"; then
    docker import "${nf_rootfs}" "${nf_base}" >/dev/null || die "docker import of ${nf_rootfs} failed"
  fi
  local ck
  ck="$(key "${k}")"
  declare -A want=(
    ["registry.k8s.io/kube-apiserver:${K8S_VERSION}"]="smartcity-kind/kube-apiserver:${ck}"
    ["registry.k8s.io/kube-controller-manager:${K8S_VERSION}"]="smartcity-kind/kube-controller-manager:${ck}"
    ["registry.k8s.io/kube-scheduler:${K8S_VERSION}"]="smartcity-kind/kube-scheduler:${ck}"
    ["registry.k8s.io/kube-proxy:${K8S_VERSION}"]="smartcity-kind/kube-proxy:${ck}"
    ["registry.k8s.io/etcd:${ETCD_IMAGE_TAG}"]="smartcity-kind/etcd:${ck}"
    ["registry.k8s.io/coredns/coredns:${COREDNS_VERSION}"]="smartcity-kind/coredns:${ck}"
    ["registry.k8s.io/pause:${PAUSE_VERSION}"]="smartcity-kind/pause:${ck}"
  )
  # The cached binaries' file names carry build keys: link them under their command names.
  local tmpbin
  tmpbin="$(mktemp -d "${KIND_CACHE}/tmp/bin.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '${tmpbin}'" EXIT
  for b in kube-apiserver:"${apiserver}" kube-controller-manager:"${cm}" kube-scheduler:"${scheduler}" \
    kube-proxy:"${proxy}" etcd:"${etcd}" coredns:"${coredns}" kube-router:"${router}" pause:"${pause}"; do
    ln -f "${b#*:}" "${tmpbin}/${b%%:*}" 2>/dev/null || cp "${b#*:}" "${tmpbin}/${b%%:*}"
  done
  local name
  for name in kube-apiserver kube-controller-manager kube-scheduler etcd; do
    component "smartcity-kind/${name}:${ck}" scratch "${tmpbin}/${name}"
  done
  component "smartcity-kind/kube-proxy:${ck}" "${nf_base}" "${tmpbin}/kube-proxy"
  component "smartcity-kind/coredns:${ck}" scratch "${tmpbin}/coredns" entrypoint
  component "${router_image}" "${nf_base}" "${tmpbin}/kube-router" entrypoint
  # pause: at / (the sandbox runs the image's entrypoint), as an unprivileged user.
  if ! image_exists "smartcity-kind/pause:${ck}"; then
    local pctx
    pctx="$(mktemp -d "${KIND_CACHE}/tmp/ctx.XXXXXX")"
    cp "${tmpbin}/pause" "${pctx}/pause"
    printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' >"${pctx}/Dockerfile"
    docker_build -t "smartcity-kind/pause:${ck}" "${pctx}" || die "docker build of the pause image failed"
    rm -rf "${pctx}"
  fi

  # The node's file system: the rootfs plus kind's base files and our binaries and config.
  local root
  root="$(mktemp -d "${KIND_CACHE}/tmp/node.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '${tmpbin}' '${root}'" EXIT
  tar --numeric-owner -C "${root}" -xf "${node_rootfs}"
  local f="${kind_dir}/images/base/files"
  install -d -m 0755 "${root}/kind" "${root}/kind/bin" "${root}/LICENSES" "${root}/etc/containerd" \
    "${root}/etc/default" "${root}/etc/sysctl.d" "${root}/etc/systemd/system/kubelet.service.d" \
    "${root}/etc/kubernetes/manifests" "${root}/kind/manifests" "${root}/etc/cni/net.d" "${root}/opt/cni"
  install -m 0755 "${f}"/usr/local/bin/* "${root}/usr/local/bin/"
  install -m 0644 "${f}"/kind/README.txt "${root}/kind/"
  install -m 0755 "${f}"/kind/bin/* "${root}/kind/bin/"
  install -m 0644 "${f}"/LICENSES/* "${root}/LICENSES/"
  install -m 0644 "${f}"/etc/crictl.yaml "${root}/etc/"
  install -m 0644 "${f}"/etc/containerd/* "${root}/etc/containerd/"
  install -m 0644 "${f}"/etc/default/* "${root}/etc/default/"
  install -m 0644 "${f}"/etc/sysctl.d/* "${root}/etc/sysctl.d/"
  install -m 0644 "${f}"/etc/systemd/system/*.service "${f}"/etc/systemd/system/*.slice "${root}/etc/systemd/system/"
  install -m 0644 "${f}"/etc/systemd/system/kubelet.service.d/* "${root}/etc/systemd/system/kubelet.service.d/"
  # Debian's containerd is /usr/bin/containerd (kind's unit runs /usr/local/bin/containerd) and its
  # CNI plugins are in /usr/lib/cni (containerd looks in /opt/cni/bin).
  ln -sfn /usr/bin/containerd "${root}/usr/local/bin/containerd"
  ln -sfn /usr/lib/cni "${root}/opt/cni/bin"
  install -m 0755 "${kubelet}" "${root}/usr/bin/kubelet"
  install -m 0755 "${kubeadm}" "${root}/usr/bin/kubeadm"
  install -m 0755 "${kubectl}" "${root}/usr/bin/kubectl"
  install -m 0755 "${crictl}" "${root}/usr/local/bin/crictl"
  printf '%s' "${K8S_VERSION}" >"${root}/kind/version"
  install -m 0644 "${KIND_DIR}/node/10-smartcity-ptp.conflist" "${root}/etc/cni/net.d/"
  install -m 0644 "${KIND_DIR}/node/default-storage.yaml" "${root}/kind/manifests/"
  # containerd: our pause image; restrict_oom_score_adj only where kubelet's negative
  # oom_score_adj cannot be applied (no CAP_SYS_RESOURCE).
  sed -i "s#sandbox_image = .*#sandbox_image = \"registry.k8s.io/pause:${PAUSE_VERSION}\"#" "${root}/etc/containerd/config.toml"
  if [[ "${quirk}" == yes ]]; then
    sed -i 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' "${root}/etc/containerd/config.toml"
  fi
  grep -q "registry.k8s.io/pause:${PAUSE_VERSION}" "${root}/etc/containerd/config.toml" ||
    die "could not set sandbox_image in kind's containerd config (its format changed?)"
  # systemd trimmed as kind's base image does it.
  find "${root}/lib/systemd/system/sysinit.target.wants/" -name "systemd-tmpfiles-setup.service" -delete
  rm -f "${root}"/lib/systemd/system/multi-user.target.wants/* "${root}"/etc/systemd/system/*.wants/* \
    "${root}"/lib/systemd/system/local-fs.target.wants/* "${root}"/lib/systemd/system/sockets.target.wants/*udev* \
    "${root}"/lib/systemd/system/sockets.target.wants/*initctl* "${root}"/lib/systemd/system/basic.target.wants/*
  echo "ReadKMsg=no" >>"${root}/etc/systemd/journald.conf"
  ln -sfn /usr/lib/systemd/systemd "${root}/sbin/init"
  chroot "${root}" systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1 ||
    die "systemctl enable in the node rootfs failed"
  chroot "${root}" systemctl mask systemd-binfmt.service >/dev/null 2>&1 || true
  # The base OCI spec for pods: containerd's default, with kind's product-files hook, no rlimits.
  chroot "${root}" ctr oci spec |
    jq '.hooks.createContainer[.hooks.createContainer | length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
    jq 'del(.process.rlimits)' >"${root}/etc/containerd/cri-base.json"
  [[ -s "${root}/etc/containerd/cri-base.json" ]] || die "ctr oci spec in the node rootfs failed"

  local base="smartcity-kind/node-base:${k}"
  tar --numeric-owner --xattrs -C "${root}" -c . |
    docker import --change 'ENV container=docker' \
      --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' - "${base}" >/dev/null ||
    die "docker import of the node rootfs failed"
  rm -rf "${root}"

  # Preload the images: containerd runs in a build container, imports them (no unpacking, so no
  # mounts and no privileges are needed), tags them with kubeadm's names; then commit.
  local build="smartcity-kind-build-${k}"
  docker rm -f "${build}" >/dev/null 2>&1 || true
  docker run -d --name "${build}" --entrypoint sleep "${base}" infinity >/dev/null ||
    die "could not start the build container"
  # shellcheck disable=SC2064
  trap "rm -rf '${tmpbin}'; docker rm -f '${build}' >/dev/null 2>&1 || true" EXIT
  docker exec "${build}" bash -c 'nohup containerd >/tmp/containerd.log 2>&1 &'
  docker exec "${build}" bash -c 'for i in $(seq 1 50); do [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1 && exit 0; sleep 0.2; done; cat /tmp/containerd.log; exit 1' >&2 ||
    die "containerd did not start in the build container"
  local src
  docker save "${want[@]}" "${router_image}" |
    docker exec -i "${build}" ctr --namespace=k8s.io images import --all-platforms --no-unpack --digests - >/dev/null ||
    die "importing the component images into the node's containerd failed"
  for dst in "${!want[@]}"; do
    src="${want[${dst}]}"
    docker exec "${build}" ctr --namespace=k8s.io images tag --force "docker.io/${src}" "${dst}" >/dev/null ||
      die "ctr images tag ${src} ${dst} failed"
    docker exec "${build}" ctr --namespace=k8s.io images rm "docker.io/${src}" >/dev/null
  done
  docker exec "${build}" bash -c 'kill $(pidof containerd); for i in $(seq 1 50); do pidof containerd >/dev/null || exit 0; sleep 0.2; done; exit 1' ||
    die "containerd did not stop in the build container"
  docker exec "${build}" rm -f /tmp/containerd.log
  local committed="smartcity-kind/node-commit:${k}"
  docker commit --change 'ENV container=docker' \
    --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' "${build}" "${committed}" >/dev/null ||
    die "docker commit of the node image failed"
  docker rm -f "${build}" >/dev/null
  # systemd stops on SIGRTMIN+3; docker commit and import refuse a STOPSIGNAL change, a build does not.
  local sctx
  sctx="$(mktemp -d "${KIND_CACHE}/tmp/ctx.XXXXXX")"
  printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\n' "${committed}" >"${sctx}/Dockerfile"
  docker_build -t "${node_image}" "${sctx}" || die "docker build of the node image (STOPSIGNAL) failed"
  rm -rf "${sctx}"
  # Only the node image is kept: the intermediate images are inside it.
  docker image rm "${committed}" "${base}" "${want[@]}" >/dev/null 2>&1 || true
  # Older node images (other keys) are not used again; a running node keeps its own.
  local old
  old="$(docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^smartcity-kind/(node|kube-router):' |
    grep -v -e "^${node_image}\$" -e "^${router_image}\$" || true)"
  # shellcheck disable=SC2086 # one image per word
  [[ -z "${old}" ]] || docker image rm ${old} >/dev/null 2>&1 || true
  log "built node image ${node_image} ($(docker image inspect -f '{{.Size}}' "${node_image}" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
  echo "${node_image}"
}

case "${1:-build}" in
build) main ;;
*)
  echo "usage: $0 [build]" >&2
  exit 2
  ;;
esac
