// Package manifests checks the kustomize config/ tree as plain files: least-privilege RBAC and
// a reference city in config/samples that keeps the promises the README makes about it.
package manifests
