#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# demo.sh up|down|flows
#
#   up     (make demo) build what is missing, start the local cluster (or reuse it), install the
#          CRDs, start the operator as a local process, apply the sample city (config/samples)
#          and wait until every PublicService is Ready; then print the services, the flows they
#          allow, and what to try next. Run it again at any time: it reuses the cluster and the
#          builds, and restarts the operator with the current code.
#   down   (make demo-down) stop the operator and delete the cluster
#   flows  print the allowed flows of the running demo again
#
# Settings (environment): CLUSTER_NAME (smartcity), DEMO_TIMEOUT (300 seconds to wait for Ready).
set -euo pipefail
# shellcheck source=hack/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cluster/lib.sh"

DEMO_TIMEOUT="${DEMO_TIMEOUT:-300}"
SAMPLES="${ROOT}/config/samples"
TLS_DIR="${STATE_DIR}/tls"
PORTAL_HOST="dichvucong.hanoi.example"

install_crds() {
  step "Installing the CRDs (config/crd)"
  k apply --server-side --force-conflicts -k "${ROOT}/config/crd" >/dev/null
  k wait --for=condition=Established --timeout=60s \
    crd/publicservices.platform.smartcity.io crd/networkzones.platform.smartcity.io >/dev/null
  ok "PublicService and NetworkZone (platform.smartcity.io/v1alpha1)"
}

# portal_tls: the Secret the portal's Ingress names (exposure.tls.secretName), self-signed.
portal_tls() {
  step "Creating the portal's TLS Secret (self-signed, ${PORTAL_HOST})"
  mkdir -p "${TLS_DIR}"
  if [[ ! -s "${TLS_DIR}/portal.crt" || ! -s "${TLS_DIR}/portal.key" ]]; then
    if command -v openssl >/dev/null; then
      openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=${PORTAL_HOST}" \
        -addext "subjectAltName=DNS:${PORTAL_HOST}" \
        -keyout "${TLS_DIR}/portal.key.tmp" -out "${TLS_DIR}/portal.crt.tmp" 2>/dev/null ||
        die "openssl could not create the portal's certificate"
      mv -f "${TLS_DIR}/portal.key.tmp" "${TLS_DIR}/portal.key"
      mv -f "${TLS_DIR}/portal.crt.tmp" "${TLS_DIR}/portal.crt"
    else
      info "openssl not found: using hack/demo/gencert"
      (cd "${ROOT}" && go run ./hack/demo/gencert -host "${PORTAL_HOST}" \
        -cert "${TLS_DIR}/portal.crt" -key "${TLS_DIR}/portal.key") ||
        die "hack/demo/gencert could not create the portal's certificate"
    fi
  fi
  k -n city-portal create secret tls portal-tls --cert="${TLS_DIR}/portal.crt" --key="${TLS_DIR}/portal.key" \
    --dry-run=client -o yaml | k apply -f - >/dev/null
  ok "city-portal/portal-tls"
}

apply_samples() {
  step "Applying the sample city (kubectl apply -k config/samples)"
  # The namespaces first: the portal's Secret goes into one of them.
  k apply -f "${SAMPLES}/namespaces.yaml" >/dev/null
  portal_tls
  k apply -k "${SAMPLES}" | sed 's/^/    /'
}

# not_ready: one line per sample PublicService whose Ready condition is not True (for its current
# generation), with the reason and message of each condition that is not True.
not_ready() {
  # shellcheck disable=SC2016 # a Go template, not shell
  k get -k "${SAMPLES}" -o go-template='{{range .items}}{{if eq .kind "PublicService"}}{{$id := printf "%s/%s" .metadata.namespace .metadata.name}}{{$gen := .metadata.generation}}{{$ready := false}}{{with .status}}{{range .conditions}}{{if and (eq .type "Ready") (eq .status "True") .observedGeneration}}{{if eq .observedGeneration $gen}}{{$ready = true}}{{end}}{{end}}{{end}}{{end}}{{if not $ready}}{{$id}}{{with .status}}{{range .conditions}}{{if ne .status "True"}}	{{.type}}={{.status}} {{.reason}}: {{.message}}{{end}}{{end}}{{end}}{{"\n"}}{{end}}{{end}}{{end}}'
}

wait_ready() {
  step "Waiting until every PublicService is Ready (up to ${DEMO_TIMEOUT} s)"
  local deadline=$((SECONDS + DEMO_TIMEOUT)) total pending last=""
  total="$(k get -k "${SAMPLES}" -o name | grep -c '^publicservice')"
  while :; do
    pending="$(not_ready)"
    local n_pending=0
    [[ -n "${pending}" ]] && n_pending="$(wc -l <<<"${pending}")"
    local line="$((total - n_pending))/${total} Ready"
    [[ -n "${pending}" ]] && line+="; waiting for: $(cut -f1 <<<"${pending}" | paste -sd' ')"
    if [[ "${line}" != "${last}" ]]; then
      info "[$(fmt_secs $((SECONDS - DEMO_START)))] ${line}"
      last="${line}"
    fi
    [[ -z "${pending}" ]] && return 0
    if ((SECONDS >= deadline)); then
      printf '\n%sNot Ready after %s s:%s\n' "${_red}" "${DEMO_TIMEOUT}" "${_off}" >&2
      tr '\t' '\n' <<<"${pending}" | sed -e 's/^\([A-Za-z]*=\)/      \1/' -e 's/^\([a-z]\)/    \1/' >&2
      printf '\nThe end of the operator log (%s):\n' "${STATE_DIR}/operator.log" >&2
      tail -n 25 "${STATE_DIR}/operator.log" | sed 's/^/    /' >&2
      printf '\nPods:\n' >&2
      k get pods -A -l app.kubernetes.io/part-of=smartcity -o wide 2>&1 | sed 's/^/    /' >&2
      die "the sample city is not Ready after ${DEMO_TIMEOUT} s (DEMO_TIMEOUT raises the limit)"
    fi
    sleep 2
  done
}

# flows: the allowed flows, from each PublicService's status. A flow between two services exists
# only when both sides agree (the consumer consumes, the provider's allowFrom admits).
flows() {
  local rows
  # shellcheck disable=SC2016 # a Go template, not shell
  rows="$(k get publicservices -A -o go-template='{{range .items}}{{$s := printf "%s/%s" .metadata.namespace .metadata.name}}{{$host := ""}}{{with .spec.exposure}}{{with .host}}{{$host = .}}{{end}}{{end}}{{with .status}}{{$ep := or .endpoint ""}}{{range .admittedConsumers}}C	{{.}}	{{$s}}	{{$ep}}{{"\n"}}{{end}}{{range .admittedZones}}Z	{{.}}	{{$s}}	{{$ep}}{{"\n"}}{{end}}{{range .destinations}}D	{{$s}}	{{.}}	-{{"\n"}}{{end}}{{range .unadmittedConsumers}}U	{{.}}	{{$s}}	{{$ep}}{{"\n"}}{{end}}{{if eq (or .exposure "") "Public"}}P	{{$host}}	{{$s}}	{{$ep}}{{"\n"}}{{end}}{{end}}{{end}}')"
  printf '\n%sAllowed flows%s (both sides consent; everything else is denied by NetworkPolicy):\n' "${_bold}" "${_off}"
  printf '    %-28s %-28s %-6s %s\n' FROM TO PORTS BECAUSE
  awk -F'\t' '
    function port(ep) { n = split(ep, a, ":"); return n > 1 ? a[n] : "-" }
    function row(from, to, ports, why) { printf "    %-28s %-28s %-6s %s\n", from, to, ports, why }
    $1 == "P" { row("ingress controller", $3, port($4), "Public exposure, https://" $2) }
    $1 == "C" { row($2, $3, port($4), "it consumes " $3 " and is in its allowFrom") }
    $1 == "Z" { row("zone " $2, $3, port($4), "allowFrom zone " $2 ", which admits the namespace") }
    $1 == "D" && $3 ~ /^zone\// {
      split(substr($3, 6), z, ":")
      row($2, "zone " z[1], z[2], "egressTo zone " z[1] ", which admits the namespace")
    }
  ' <<<"${rows}" | sort
  printf '    (and every service may query the cluster DNS)\n'
  if grep -q '^U' <<<"${rows}"; then
    printf '\n%sRefused%s (declared by the consumer, not admitted by the provider):\n' "${_bold}" "${_off}"
    awk -F'\t' '$1 == "U" { printf "    %-30s %-30s %s\n", $2, $3, "not in its allowFrom" }' <<<"${rows}"
  fi
}

next_steps() {
  local kc="${CLUSTER_KUBECONFIG#"${ROOT}/"}"
  cat <<EOF

${_bold}Try next${_off}
    export KUBECONFIG=${kc} PATH=\$PWD/bin:\$PATH   # kubectl v1.37.2 from bin/
    kubectl get psvc,nz -A                                  # services and zones
    kubectl -n city-identity get networkpolicy vneid -o yaml # who may reach the identity service
    kubectl -n city-portal patch psvc portal --type merge -p '{"spec":{"replicas":{"min":3}}}'
    kubectl -n city-portal get hpa,pods                     # the HPA floor follows: 3 pods
    # Withdraw consent: vneid stops admitting the check-in service.
    kubectl -n city-identity patch psvc vneid --type json \\
      -p '[{"op":"remove","path":"/spec/allowFrom/1"}]'
    kubectl -n city-health get psvc checkin -o wide         # DependenciesSatisfied=False, ConsentMissing
    make demo-flows                                         # vneid now lists checkin as refused
    kubectl -n city-identity delete deployment vneid        # drift: the operator recreates it
    tail -f ${STATE_DIR#"${ROOT}/"}/operator.log
    make demo                                               # again: reuses the cluster and the builds
    make demo-down                                          # stop the operator, delete the cluster
EOF
}

up() {
  DEMO_START=${SECONDS}
  "$(dirname "${BASH_SOURCE[0]}")/../cluster/cluster.sh" up
  install_crds
  "$(dirname "${BASH_SOURCE[0]}")/../cluster/operator.sh" start
  apply_samples
  wait_ready
  printf '\n%skubectl get psvc -A%s\n' "${_bold}" "${_off}"
  k get publicservices -A | sed 's/^/    /'
  flows
  next_steps
  printf '\n%sThe sample city is Ready (%s).%s\n' "${_green}" "$(fmt_secs $((SECONDS - DEMO_START)))" "${_off}"
}

case "${1:-}" in
up) up ;;
down) "$(dirname "${BASH_SOURCE[0]}")/../cluster/cluster.sh" down ;;
flows) flows ;;
*)
  sed -n '5,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
