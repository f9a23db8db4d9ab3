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

// managerContainer is the operator's container as the shipped Deployment runs it: the benchmark
// runs the operator as a pod would, with the Go soft limit of its memory limit (GOMEMLIMIT in its
// environment, which main.go's automemlimit then leaves alone) and the environment it sets.
type managerContainer struct {
	memoryLimit resource.Quantity
	// env is the container's environment, of the variables with a literal value.
	env []string
}

// readManagerContainer reads the manager container of the shipped Deployment.
func readManagerContainer(root string) (managerContainer, error) {
	raw, err := os.ReadFile(filepath.Join(root, managerManifest))
	if err != nil {
		return managerContainer{}, err
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
			q, ok := c.Resources.Limits["memory"]
			if !ok {
				return managerContainer{}, fmt.Errorf("%s: the manager container has no memory limit", managerManifest)
			}
			out := managerContainer{memoryLimit: q}
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					out.env = append(out.env, e.Name+"="+e.Value)
				}
			}
			return out, nil
		}
	}
	return managerContainer{}, fmt.Errorf("%s: no Deployment with a container named manager", managerManifest)
}

// goMemLimit is the GOMEMLIMIT value (bytes) the operator's runtime takes in a container
// limited to limit.
func goMemLimit(limit resource.Quantity) string {
	return fmt.Sprintf("%d", int64(float64(limit.Value())*goMemoryLimitRatio))
}
