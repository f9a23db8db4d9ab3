// Package gitops holds no code: its folder carries the GitOps health checks of the operator's
// kinds (Argo CD Lua scripts under argocd/, a Flux healthCheckExprs snippet under flux/), and
// its tests run both on sample statuses, with gopher-lua and cel-go, and check that they agree.
package gitops
