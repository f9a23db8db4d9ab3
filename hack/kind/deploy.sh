#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# deploy.sh [operator|samples|all|chart|logs]
#
# Installs the operator in the kind cluster from install.yaml (`make build-installer` with the
# offline image built by images.sh: CRDs, least-privilege RBAC, leader election, metrics over HTTPS
# with authentication, the operator's NetworkPolicy) and one kustomize patch on that file
# (hack/kind/operator/manager_patch.yaml: --zone-service-type=NodePort), waits for it, then
# applies the sample city (config/samples) and waits until every PublicService is Ready, with real
# pods running city-service. Idempotent. `deploy.sh chart` then moves the operator from install.yaml
# to the Helm chart (charts/smartcity-operator) on the same cluster (the kind stage's last check).
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

# sample_pods: every pod of the sample city, as "namespace/name uid restarts", sorted.
SAMPLE_NAMESPACES=(city-portal city-identity city-health)
sample_pods() {
  local ns
  for ns in "${SAMPLE_NAMESPACES[@]}"; do
    kc -n "${ns}" get pods --no-headers \
      -o custom-columns='NS:.metadata.namespace,NAME:.metadata.name,UID:.metadata.uid,RESTARTS:.status.containerStatuses[*].restartCount'
  done | awk '{ print $1 "/" $2, $3, $4 }' | sort
}

# chart: replaces the install.yaml installation with the Helm chart on the same cluster. It
# removes install.yaml's objects except the CRDs, as `make undeploy` does (the PublicServices and
# their pods stay), creates the namespace with the Pod Security label install.yaml gave it, runs
# `helm install` with the kind image and --zone-service-type=NodePort, and checks that every
# PublicService is still Ready and no pod of the sample city was replaced or restarted.
RELEASE=smartcity-operator
chart() {
  local before after start=${SECONDS} repo tag
  "${ROOT}/hack/ensure-bins.sh" helm
  before="$(sample_pods)"
  [[ -n "${before}" ]] || die "no pod of the sample city: run deploy.sh samples first"
  info "removing the install.yaml installation (make undeploy: the CRDs stay)…"
  KUBECONFIG="${KIND_KUBECONFIG}" make -C "${ROOT}" --no-print-directory undeploy IMG="${OPERATOR_IMAGE}" >/dev/null
  kc get crd publicservices.platform.smartcity.io networkzones.platform.smartcity.io >/dev/null ||
    die "make undeploy removed the CRDs"
  kc create namespace "${OPERATOR_NAMESPACE}" >/dev/null
  kc label namespace "${OPERATOR_NAMESPACE}" pod-security.kubernetes.io/enforce=restricted \
    pod-security.kubernetes.io/enforce-version=latest >/dev/null
  repo="${OPERATOR_IMAGE%:*}" tag="${OPERATOR_IMAGE##*:}"
  info "helm install ${RELEASE} charts/smartcity-operator (image ${repo}:${tag})…"
  "${LOCALBIN}/helm" --kubeconfig "${KIND_KUBECONFIG}" install "${RELEASE}" "${ROOT}/charts/smartcity-operator" \
    --namespace "${OPERATOR_NAMESPACE}" --set image.repository="${repo}" --set image.tag="${tag}" \
    --set operator.zoneServiceType=NodePort --wait --timeout "${WAIT_TIMEOUT}s"
  kc -n "${OPERATOR_NAMESPACE}" get "deploy/${OPERATOR_DEPLOYMENT}" -o jsonpath='{.metadata.labels.app\.kubernetes\.io/managed-by}' |
    grep -qx Helm || die "the operator's Deployment is not the chart's"
  # The new operator leads once it holds the Lease; it has then listed and reconciled every
  # PublicService (a reconcile that changed a pod template would replace pods, caught below).
  local pod deadline=$((SECONDS + WAIT_TIMEOUT))
  pod="$(kc -n "${OPERATOR_NAMESPACE}" get pods -l control-plane=controller-manager -o jsonpath='{.items[0].metadata.name}')"
  until kc -n "${OPERATOR_NAMESPACE}" get lease smartcity-operator.platform.smartcity.io \
    -o jsonpath='{.spec.holderIdentity}' 2>/dev/null | grep -q "^${pod}"; do
    ((SECONDS < deadline)) || die "the chart's operator ${pod} did not become the leader"
    sleep 2
  done
  wait_services
  after="$(sample_pods)"
  if [[ "${before}" != "${after}" ]]; then
    diff <(echo "${before}") <(echo "${after}") >&2 || true
    die "the sample city's pods changed while the operator moved from install.yaml to the chart (< before, > after)"
  fi
  ok "the chart's operator (${pod}) leads; every PublicService Ready; $(wc -l <<<"${after}") sample pods unchanged (same UIDs, no restart); switch took $(fmt_secs $((SECONDS - start)))"
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
chart)
  preflight
  chart
  ;;
*)
  echo "usage: $0 [all|operator|samples|chart|logs]" >&2
  exit 2
  ;;
esac
