# Image URL to use all building/pushing image targets.
IMG ?= smartcity-operator:dev

# CONTAINER_TOOL defines the container tool used to build and push images (docker or podman).
CONTAINER_TOOL ?= docker

# Setting SHELL to bash allows bash commands to be executed by recipes.
# Options are set to exit when a recipe line exits non-zero or a piped command fails.
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

## Location of the binaries this project builds or links (gitignored; starts empty in a fresh clone).
LOCALBIN ?= $(CURDIR)/bin
export LOCALBIN
# The project's binaries (kubectl v1.37 in particular) come first for every recipe.
export PATH := $(LOCALBIN):$(PATH)

## Build tools are pinned in their own module and run through `go tool` (built once, then cached by Go).
TOOLS_MOD ?= $(CURDIR)/hack/tools/go.mod
GO_TOOL = go tool -modfile=$(TOOLS_MOD)
CONTROLLER_GEN ?= $(GO_TOOL) controller-gen
KUSTOMIZE ?= $(GO_TOOL) kustomize
GOLANGCI_LINT ?= $(GO_TOOL) golangci-lint
CRD_REF_DOCS ?= $(GO_TOOL) crd-ref-docs

## kubectl v1.37.2, built from hack/k8s by hack/ensure-bins.sh (the machine's own may be too old).
KUBECTL ?= $(LOCALBIN)/kubectl
## Where envtest finds kube-apiserver, etcd and kubectl.
ENVTEST_ASSETS ?= $(LOCALBIN)/k8s

## The local cluster (hack/cluster): its name, and its kubeconfig at bin/cluster/<name>/kubeconfig.
CLUSTER_NAME ?= smartcity
## The e2e suite's own local cluster, started and deleted by make test-e2e unless it already runs.
E2E_CLUSTER_NAME ?= smartcity-e2e
## go test flags of the e2e suite, e.g. E2E_FLAGS='-ginkgo.label-filter=!local-only -ginkgo.focus=drift'.
E2E_FLAGS ?=

## What bin/manager and bin/kubectl-city report as their version (internal/version, set with -ldflags -X):
## the nearest v* tag (v0.0.0-dev where there is none, as in a clone without tags), the commit and its date.
VERSION ?= $(shell git describe --tags --match 'v*' --dirty 2>/dev/null || echo v0.0.0-dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
COMMIT_DATE ?= $(shell TZ=UTC0 git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd 2>/dev/null)
VERSION_PKG = github.com/smartcity-io/smartcity-operator/internal/version
GO_LDFLAGS = -X $(VERSION_PKG).version=$(VERSION) -X $(VERSION_PKG).commit=$(COMMIT) -X $(VERSION_PKG).date=$(COMMIT_DATE)

## Go packages per test kind; directories that do not exist yet are left out.
UNIT_PKGS = . $(foreach d,api internal cmd hack/bench test/manifests test/chart config/gitops,$(if $(wildcard $(d)/),./$(d)/...))
ENVTEST_PKGS = $(foreach d,controllers test/envtest,$(if $(wildcard $(d)/),./$(d)/...))
## Packages with golden files (testutil.Golden); `make golden` rewrites them with -update.
GOLDEN_PKGS = ./internal/render ./internal/audit/format ./test/chart
GO_TEST_FLAGS ?= -count=1

.PHONY: all
all: build

##@ General

# The help target prints out all targets with their descriptions organized beneath their categories.
# The categories are represented by '##@' and the target descriptions by '##'.
.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: ## Generate ClusterRole and CustomResourceDefinition objects (config/rbac/role.yaml, config/crd/bases, and their copies in the Helm chart).
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases
	hack/sync-chart.sh

.PHONY: generate
generate: ## Generate DeepCopy, DeepCopyInto and DeepCopyObject methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: docs
docs: kubectl-city ## Generate docs/api.md from api/, and the sample city's connectivity graphs (docs/*.svg).
	@mkdir -p docs
	$(CRD_REF_DOCS) --source-path=./api --config=hack/crd-ref-docs.yaml --renderer=markdown \
		--templates-dir=hack/crd-ref-docs --output-path=docs/api.md
	bin/kubectl-city audit -f config/samples -o svg > docs/connectivity.svg
	bin/kubectl-city audit -f config/samples -f internal/audit/testdata/topologies/foreign-allow-all \
		-o svg > docs/connectivity-violations.svg || [ $$? -eq 1 ]

.PHONY: fmt
fmt: ## Run go fmt against code.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet against code.
	go vet ./...

.PHONY: tidy
tidy: ## Run go mod tidy for the operator and the tools modules.
	go mod tidy
	cd hack/tools && go mod tidy
	cd hack/tools/helm && go mod tidy
	cd hack/etcd && go mod tidy
	cd hack/actionlint && go mod tidy
	cd hack/goreleaser && go mod tidy
	cd hack/krewcheck && go mod tidy
	cd hack/kwok && go mod tidy
	for m in hack/kind/modules/*/; do (cd $$m && go mod tidy); done

.PHONY: lint
lint: ## Run golangci-lint (the operator, and the release checker hack/krewcheck, a module of its own).
	$(GOLANGCI_LINT) run
	cd hack/krewcheck && $(GOLANGCI_LINT) run

.PHONY: lint-actions
lint-actions: ## Check the GitHub Actions workflows with actionlint.
	@if ls .github/workflows/*.y*ml >/dev/null 2>&1; then go tool -modfile=hack/actionlint/go.mod actionlint -color=false; \
	else echo "lint-actions: no workflow"; fi

.PHONY: lint-fix
lint-fix: ## Run golangci-lint and apply its fixes.
	$(GOLANGCI_LINT) run --fix

.PHONY: lint-config
lint-config: ## Verify the golangci-lint configuration.
	$(GOLANGCI_LINT) config verify

.PHONY: verify
verify: ## Fail if generated files, docs, formatting or go.mod are stale; then vet and lint.
	hack/verify-generated.sh $(MAKE) manifests generate docs fmt tidy
	$(MAKE) vet
	$(MAKE) lint
	$(MAKE) lint-actions

##@ Test

.PHONY: test
test: ## Run every test stage (verify, unit, envtest, ...) with times and a summary. What CI runs.
	hack/test-stages.sh

.PHONY: test-unit
test-unit: helm ## Run the unit tests (main, api, internal, cmd, the benchmark hack/bench, test/manifests, test/chart, config/gitops, and the release checker hack/krewcheck).
	@if [ -z "$(strip $(UNIT_PKGS))" ]; then echo "test-unit: no unit test packages yet"; exit 0; fi
	go test $(GO_TEST_FLAGS) $(UNIT_PKGS)
	$(MAKE) --no-print-directory test-release-tools

.PHONY: test-release-tools
test-release-tools: ## Vet and test the release checker hack/krewcheck (a module of its own, so not in ./...).
	cd hack/krewcheck && go vet ./... && go test $(GO_TEST_FLAGS) ./...

.PHONY: test-envtest
test-envtest: envtest-bins ## Run the envtest suites (controllers, test/envtest) against a real kube-apiserver and etcd.
	@if [ -z "$(strip $(ENVTEST_PKGS))" ]; then echo "test-envtest: no envtest packages yet"; exit 0; fi
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test $(GO_TEST_FLAGS) $(ENVTEST_PKGS)

.PHONY: test-e2e
test-e2e: ## Run the e2e suite (test/e2e) on its own local cluster; E2E_KUBECONFIG=<file> runs it on any cluster.
	CLUSTER_NAME=$(E2E_CLUSTER_NAME) E2E_FLAGS="$(E2E_FLAGS)" hack/cluster/e2e.sh

## The kind stage's own cluster (never the demo's smartcity-kind on 16443): name and API port.
E2E_KIND_CLUSTER_NAME ?= smartcity-kind-e2e
E2E_KIND_API_PORT ?= 16444

.PHONY: test-e2e-kind
test-e2e-kind: ## Real traffic on kind: its own cluster (kept with E2E_KEEP_CLUSTER=1), operator in-cluster, sample city, probes vs intent vs audit.
	KIND_CLUSTER_NAME=$(E2E_KIND_CLUSTER_NAME) KIND_API_PORT=$(E2E_KIND_API_PORT) hack/kind/e2e.sh

.PHONY: golden
golden: helm ## Rewrite the golden files of the render tests and the chart (go test -update).
	go test $(GO_TEST_FLAGS) $(GOLDEN_PKGS) -update
	@echo "golden: rewritten; review with 'git diff' before committing"

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager binary (bin/manager) and the kubectl plugin (bin/kubectl-city).
	go build -ldflags "$(GO_LDFLAGS)" -o bin/manager ./main.go
	go build -ldflags "$(GO_LDFLAGS)" -o bin/kubectl-city ./cmd/kubectl-city

.PHONY: kubectl-city
kubectl-city: ## Build the kubectl plugin bin/kubectl-city (audit, explain, render, version).
	go build -ldflags "$(GO_LDFLAGS)" -o bin/kubectl-city ./cmd/kubectl-city

.PHONY: audit
audit: kubectl-city ## Audit the sample city offline: the connectivity matrix, exit 1 on violations.
	bin/kubectl-city audit -f config/samples

.PHONY: run
run: manifests generate fmt vet ## Run the manager from your host against the cluster in ~/.kube/config.
	go run ./main.go

.PHONY: docker-build
docker-build: ## Build the manager image (needs a container engine that can pull the base images).
	CONTAINER_TOOL=$(CONTAINER_TOOL) hack/container-image.sh build $(IMG)

.PHONY: docker-push
docker-push: ## Push the manager image.
	CONTAINER_TOOL=$(CONTAINER_TOOL) hack/container-image.sh push $(IMG)

.PHONY: build-installer
build-installer: manifests generate ## Generate dist/install.yaml: CRDs, RBAC, the Deployment for IMG and its NetworkPolicy.
	@mkdir -p dist
	hack/render-config.sh $(IMG) > dist/install.yaml
	@echo "wrote dist/install.yaml (image $(IMG))"

.PHONY: chart-lint
chart-lint: helm ## helm lint the chart charts/smartcity-operator (test/chart also renders and compares it).
	bin/helm lint --strict charts/smartcity-operator

##@ Release

.PHONY: release-snapshot
release-snapshot: test-release-tools ## Offline release into bin/release: 12 archives (manager, kubectl-city), checksums, krew manifest (checked).
	hack/release-snapshot.sh

.PHONY: release-check
release-check: ## Check .goreleaser.yaml with goreleaser (offline).
	go tool -modfile=hack/goreleaser/go.mod goreleaser check

##@ Local cluster and demo

.PHONY: demo
demo: ## Local cluster, CRDs, operator and the sample city, until every PublicService is Ready; prints the flows.
	CLUSTER_NAME=$(CLUSTER_NAME) hack/demo/demo.sh up

.PHONY: demo-flows
demo-flows: ## Print the flows the demo's PublicServices allow, from their status.
	CLUSTER_NAME=$(CLUSTER_NAME) hack/demo/demo.sh flows

.PHONY: demo-down
demo-down: ## Stop the demo's operator and delete its cluster.
	CLUSTER_NAME=$(CLUSTER_NAME) hack/demo/demo.sh down

.PHONY: cluster-up
cluster-up: ## Start the local cluster CLUSTER_NAME (etcd, control plane, kwok nodes), or reuse it if it runs.
	CLUSTER_NAME=$(CLUSTER_NAME) hack/cluster/cluster.sh up

.PHONY: cluster-down
cluster-down: ## Stop the local cluster CLUSTER_NAME (and the demo operator) and delete its files.
	CLUSTER_NAME=$(CLUSTER_NAME) hack/cluster/cluster.sh down

.PHONY: cluster-status
cluster-status: ## Show what runs in the local cluster CLUSTER_NAME and where its kubeconfig is.
	@CLUSTER_NAME=$(CLUSTER_NAME) hack/cluster/cluster.sh status

##@ Benchmark (hack/bench: never part of the pass/fail tests, except its smoke)

## Numbers of PublicServices (comma-separated), runs per N (the table shows medians), time cap of
## each floor and operator run, and the JSON report (default bin/bench/bench-<time>.json).
BENCH_N ?= 440
BENCH_REPEAT ?= 1
BENCH_CAP ?= 30m
BENCH_OUT ?=
## More flags of 'go run ./hack/bench run', e.g. BENCH_FLAGS='-shape crowded -seed 2'.
BENCH_FLAGS ?=

.PHONY: bench
bench: cluster-bins ## Measure the operator on generated cities of BENCH_N services against the floor (children applied directly); prints a table, writes JSON.
	go run ./hack/bench run -n $(BENCH_N) -repeat $(BENCH_REPEAT) -cap $(BENCH_CAP) $(if $(BENCH_OUT),-out $(BENCH_OUT)) $(BENCH_FLAGS)

.PHONY: bench-smoke
bench-smoke: cluster-bins ## The benchmark on 20 services and its own small clusters: the table is complete and the JSON valid (never timings).
	go run ./hack/bench run -n 20 -rest 10s -cap 5m -cluster smartcity-bench-smoke -workdir bin/bench-smoke -out bin/bench-smoke/smoke.json
	go run ./hack/bench check bin/bench-smoke/smoke.json

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests kubectl ## Install the CRDs into the cluster in ~/.kube/config.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) apply --server-side -f -

.PHONY: uninstall
uninstall: manifests kubectl ## Uninstall the CRDs: this deletes every PublicService and NetworkZone! Call with ignore-not-found=true to ignore missing objects.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: deploy
deploy: manifests kubectl ## Deploy the operator (CRDs, RBAC, Deployment with image IMG) to the cluster in ~/.kube/config.
	hack/render-config.sh $(IMG) | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: kubectl ## Remove the operator from the cluster, keeping the CRDs (and so every PublicService).
	hack/render-config.sh $(IMG) --without-crds | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -
	@echo "undeploy: the CRDs were kept, so PublicServices and NetworkZones survive. 'make uninstall' deletes them."

##@ Dependencies

.PHONY: kubectl
kubectl: ## Build kubectl v1.37.2 into bin/ (cached outside the clone).
	hack/ensure-bins.sh kubectl

.PHONY: helm
helm: ## Build helm v3.22.0 into bin/ (hack/tools/helm; cached outside the clone).
	hack/ensure-bins.sh helm

.PHONY: envtest-bins
envtest-bins: ## Build kube-apiserver, etcd and kubectl into bin/k8s for envtest (KUBEBUILDER_ASSETS).
	hack/ensure-bins.sh envtest

.PHONY: cluster-bins
cluster-bins: ## Build every binary of a local cluster (adds kube-controller-manager, kube-scheduler, kwok, kwokctl).
	hack/ensure-bins.sh cluster

.PHONY: tools
tools: ## Build the pinned build tools (controller-gen, kustomize, golangci-lint, crd-ref-docs) into Go's cache.
	@for t in controller-gen kustomize golangci-lint crd-ref-docs; do \
		printf '%-14s %s\n' "$$t" "$$($(GO_TOOL) -n $$t)"; done

##@ Real kind cluster (hack/kind: real pods, NetworkPolicy enforced, built offline)

## The kind cluster's name; its kubeconfig is bin/kind-cluster/<name>/kubeconfig.
KIND_CLUSTER_NAME ?= smartcity-kind

.PHONY: kind-up
kind-up: ## Create the kind cluster (Docker, node binaries and image built offline, kube-router) and wait until Ready.
	KIND_CLUSTER_NAME=$(KIND_CLUSTER_NAME) hack/kind/cluster.sh up

.PHONY: kind-down
kind-down: ## Delete the kind cluster, its Docker networks and the private Docker daemon (built images stay cached).
	KIND_CLUSTER_NAME=$(KIND_CLUSTER_NAME) hack/kind/cluster.sh down

.PHONY: kind-status
kind-status: ## Show the Docker daemon and kind cluster in use.
	@KIND_CLUSTER_NAME=$(KIND_CLUSTER_NAME) hack/kind/cluster.sh status

.PHONY: kind-images
kind-images: ## Build the operator, city-service and probe images offline (content tags) and kind-load them.
	KIND_CLUSTER_NAME=$(KIND_CLUSTER_NAME) hack/kind/images.sh load

.PHONY: kind-deploy
kind-deploy: kind-images ## Install the operator (install.yaml + NodePort patch) in the kind cluster and apply the sample city.
	KIND_CLUSTER_NAME=$(KIND_CLUSTER_NAME) hack/kind/deploy.sh

.PHONY: kind-logs
kind-logs: ## Print the kind cluster's pods, the PublicServices and the operator's log (for CI failures).
	@KIND_CLUSTER_NAME=$(KIND_CLUSTER_NAME) hack/kind/deploy.sh logs

.PHONY: demo-kind
demo-kind: ## Everything from nothing: kind cluster, images, operator, sample city, then a connectivity check.
	KIND_CLUSTER_NAME=$(KIND_CLUSTER_NAME) hack/kind/demo.sh

.PHONY: kind-bins
kind-bins: ## Build the kind cluster's binaries (kind, kubelet, kubeadm, kube-proxy, coredns, crictl, kube-router, ...).
	hack/ensure-bins.sh kind
