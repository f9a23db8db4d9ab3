package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

// managerManifest is the operator's Deployment as install.yaml ships it.
const managerManifest = "config/manager/manager.yaml"

// goMemoryLimitRatio is the share of the container's memory limit that the operator gives the
// Go runtime as its soft limit in a pod (main.go's memoryLimitRatio, read there from the cgroup).
const goMemoryLimitRatio = 0.9

// memoryLimit is the operator container's memory limit in the shipped Deployment, so that the
// benchmark runs the operator as a pod would: with a Go soft limit of goMemoryLimitRatio of it
// (GOMEMLIMIT in its environment, which main.go's automemlimit then leaves alone).
func memoryLimit(root string) (resource.Quantity, error) {
	raw, err := os.ReadFile(filepath.Join(root, managerManifest))
	if err != nil {
		return resource.Quantity{}, err
	}
	for doc := range bytes.SplitSeq(raw, []byte("\n---\n")) {
		var d appsv1.Deployment
		if err := yaml.Unmarshal(doc, &d); err != nil || d.Kind != "Deployment" {
			continue
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			if c.Name != "manager" {
				continue
			}
			if q, ok := c.Resources.Limits["memory"]; ok {
				return q, nil
			}
			return resource.Quantity{}, fmt.Errorf("%s: the manager container has no memory limit", managerManifest)
		}
	}
	return resource.Quantity{}, fmt.Errorf("%s: no Deployment with a container named manager", managerManifest)
}

// goMemLimit is the GOMEMLIMIT value (bytes) the operator's runtime takes in a container
// limited to limit.
func goMemLimit(limit resource.Quantity) string {
	return fmt.Sprintf("%d", int64(float64(limit.Value())*goMemoryLimitRatio))
}
