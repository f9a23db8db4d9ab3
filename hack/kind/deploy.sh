#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# deploy.sh [operator|samples|all|logs]
#
# Installs the operator in the kind cluster from install.yaml (`make build-installer` with the
# offline image built by images.sh: CRDs, least-privilege RBAC, leader election, metrics over HTTPS
# with authentication, the operator's NetworkPolicy) and one kustomize patch on that file
# (hack/kind/operator/manager_patch.yaml: --zone-service-type=NodePort), waits for it, then
# applies the sample city (config/samples) and waits until every PublicService is Ready, with real
# pods running city-service. Idempotent.
set -euo pipefail
# shellcheck source=hack/kind/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
use_docker

OPERATOR_NAMESPACE=smartcity-system
OPERATOR_DEPLOYMENT=smartcity-controller-manager
PORTAL_HOST=dichvucong.hanoi.example
WAIT_TIMEOUT="${KIND_WAIT_TIMEOUT:-600}"

kustomize() { go tool -modfile="${ROOT}/hack/tools/go.mod" kustomize "$@"; }

preflight() {
  cluster_exists || die "no kind cluster ${KIND_CLUSTER_NAME}" "create it with: make kind-up"
  [[ -s "${IMAGES_ENV}" ]] || die "no images built for ${KIND_CLUSTER_NAME} (${IMAGES_ENV})" "run: make kind-images"
  # shellcheck source=/dev/null
  source "${IMAGES_ENV}"
}

operator() {
  local dir="${STATE_DIR}/operator"
  rm -rf "${dir}"
  mkdir -p "${dir}"
  # What a user applies: the release's install.yaml (make build-installer), with the one kind-only
  # change made the way a user would: a kustomize patch on the file, in a folder of its own.
  make -C "${ROOT}" --no-print-directory build-installer IMG="${OPERATOR_IMAGE}" >/dev/null
  cp "${ROOT}/dist/install.yaml" "${dir}/install.yaml"
  cp "${KIND_DIR}/operator/manager_patch.yaml" "${dir}/"
  cat >"${dir}/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- install.yaml
patches:
- path: manager_patch.yaml
  target:
    kind: Deployment
    name: ${OPERATOR_DEPLOYMENT}
EOF
  kustomize build "${dir}" >"${dir}/install-kind.yaml"
  grep -q -- '--zone-service-type=NodePort' "${dir}/install-kind.yaml" || die "the NodePort patch did not apply"
  grep -q '^kind: NetworkPolicy$' "${dir}/install-kind.yaml" || die "install.yaml holds no NetworkPolicy for the operator"
  kc apply --server-side --force-conflicts -f "${dir}/install-kind.yaml" >/dev/null
  kc wait --for=condition=Established crd/publicservices.platform.smartcity.io crd/networkzones.platform.smartcity.io --timeout=60s >/dev/null
  info "operator image ${OPERATOR_IMAGE}; waiting for the rollout…"
  if ! kc -n "${OPERATOR_NAMESPACE}" rollout status "deploy/${OPERATOR_DEPLOYMENT}" --timeout="${WAIT_TIMEOUT}s"; then
    kc -n "${OPERATOR_NAMESPACE}" get pods -o wide >&2 || true
    kc -n "${OPERATOR_NAMESPACE}" logs "deploy/${OPERATOR_DEPLOYMENT}" --tail=30 >&2 || true
    die "the operator did not become available"
  fi
  ok "operator running in ${OPERATOR_NAMESPACE} (install.yaml + NodePort patch: ${dir}/install-kind.yaml)"
}

portal_tls() {
  local dir="${STATE_DIR}/tls"
  mkdir -p "${dir}"
  if [[ ! -s "${dir}/portal.crt" ]]; then
    command -v openssl >/dev/null || {
      warn "openssl not found: the portal's TLS Secret is not created (its Ingress names it)"
      return 0
    }
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=${PORTAL_HOST}" \
      -addext "subjectAltName=DNS:${PORTAL_HOST}" -keyout "${dir}/portal.key" -out "${dir}/portal.crt" 2>/dev/null ||
      die "openssl could not create the portal's certificate"
  fi
  kc -n city-portal create secret tls portal-tls --cert="${dir}/portal.crt" --key="${dir}/portal.key" \
    --dry-run=client -o yaml | kc apply -f - >/dev/null
}

samples() {
  kc apply -f "${ROOT}/config/samples/namespaces.yaml" >/dev/null
  portal_tls
  kustomize build "${ROOT}/config/samples" | kc apply --server-side -f - >/dev/null
  ok "applied config/samples (images: smartcity/city-service:0.1.0 = ${CITY_SERVICE_IMAGE})"
}

# wait_services: every PublicService Ready, with a progress line when the picture changes.
wait_services() {
  local deadline=$((SECONDS + WAIT_TIMEOUT)) start=${SECONDS} last="" line total ready
  while ((SECONDS < deadline)); do
    line="$(kc get publicservices -A --no-headers \
      -o custom-columns='NS:.metadata.namespace,NAME:.metadata.name,READY:.status.conditions[?(@.type=="Ready")].status,PODS:.status.readyReplicas' 2>/dev/null |
      awk '{ n++; if ($3 == "True") r++; s = s sprintf(" %s=%s(%s pods)", $2, ($3 == "True" ? "Ready" : "not-ready"), ($4 == "<none>" ? 0 : $4)) } END { printf "%d/%d Ready:%s", r, n, s }')"
    [[ "${line}" != "${last}" ]] && info "[$(fmt_secs $((SECONDS - start)))] PublicServices ${line}"
    last="${line}"
    total="${line#*/}" total="${total%% *}" ready="${line%%/*}"
    if [[ "${total}" -gt 0 && "${ready}" == "${total}" ]]; then
      kc get publicservices -A
      return 0
    fi
    sleep 3
  done
  kc get publicservices -A -o wide >&2 || true
  kc get pods -A -o wide >&2 || true
  die "not every PublicService was Ready within ${WAIT_TIMEOUT}s" \
    "see: kubectl --kubeconfig ${KIND_KUBECONFIG} describe psvc -A"
}

all() {
  preflight
  phase "operator (install.yaml, ${OPERATOR_NAMESPACE})" operator
  phase "sample city (config/samples)" samples
  phase "wait until every PublicService is Ready" wait_services
  phase_summary "kind-deploy timings"
}

# logs: what runs, for a failed CI job (make kind-logs).
logs() {
  cluster_exists || die "no kind cluster ${KIND_CLUSTER_NAME}"
  kc get pods -A -o wide || true
  kc get publicservices -A -o wide || true
  kc get networkpolicies -A || true
  kc -n "${OPERATOR_NAMESPACE}" logs "deploy/${OPERATOR_DEPLOYMENT}" --tail=200 || true
}

case "${1:-all}" in
all) all ;;
logs) logs ;;
operator)
  preflight
  operator
  ;;
samples)
  preflight
  samples
  wait_services
  ;;
*)
  echo "usage: $0 [all|operator|samples|logs]" >&2
  exit 2
  ;;
esac
