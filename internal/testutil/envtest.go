package testutil

import (
	"errors"
	"os"
)

// EnvtestAssets returns an error saying how to get kube-apiserver and etcd when
// KUBEBUILDER_ASSETS is not set, so that an envtest suite fails with instructions instead of
// envtest's own error.
func EnvtestAssets() error {
	if os.Getenv("KUBEBUILDER_ASSETS") != "" {
		return nil
	}
	return errors.New("KUBEBUILDER_ASSETS is not set, so envtest cannot find kube-apiserver and etcd. " +
		"Run `make test-envtest` (it builds bin/k8s and sets KUBEBUILDER_ASSETS), or set " +
		"KUBEBUILDER_ASSETS to a folder holding kube-apiserver, etcd and kubectl v1.37")
}
