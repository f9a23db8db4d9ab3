#!/usr/bin/env bash
# Copyright 2026 The smartcity-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# render-config.sh IMG [--without-crds]
#
# Prints config/default (CRDs, RBAC, the manager Deployment) with the manager image set to IMG.
# The image is set with `kustomize edit set image` in a throw-away overlay, so config/ in the work
# tree is never modified. --without-crds leaves out the CustomResourceDefinitions (make undeploy).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

[[ $# -ge 1 && -n "$1" ]] || { echo "usage: $0 IMG [--without-crds]" >&2; exit 2; }
img="$1"
without_crds=""
[[ "${2:-}" == "--without-crds" ]] && without_crds=1

kustomize() { go tool -modfile="${ROOT}/hack/tools/go.mod" kustomize "$@"; }

# The overlay lives inside the repo (bin/ is gitignored) so that `go tool` finds the module.
mkdir -p "${ROOT}/bin"
overlay="$(mktemp -d "${ROOT}/bin/.render-XXXXXX")"
trap 'rm -rf "${overlay}"' EXIT
cat >"${overlay}/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../config/default
YAML
(cd "${overlay}" && kustomize edit set image "controller=${img}")

if [[ -z "${without_crds}" ]]; then
  kustomize build "${overlay}"
else
  # Drop every YAML document whose kind is CustomResourceDefinition.
  kustomize build "${overlay}" | awk '
    function flush() { if (doc != "" && !crd) printf "%s", (n++ ? "---\n" : "") doc; doc = ""; crd = 0 }
    /^---$/ { flush(); next }
    /^kind: CustomResourceDefinition$/ { crd = 1 }
    { doc = doc $0 "\n" }
    END { flush() }'
fi
