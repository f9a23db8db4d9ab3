//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"syscall"
)

// Driver runs the operator under test, as replicas that elect a leader, and breaks it on
// demand. The local driver runs processes on this machine; an in-cluster driver (a Deployment
// of the operator's image) implements the same methods with pods.
type Driver interface {
	// Name says where the operator runs, for reports.
	Name() string
	// Start starts replicas copies of the operator, all with leader election, and returns once
	// each of them runs and is healthy (not once one of them leads). Replicas that were killed
	// before are forgotten; Start fails while any replica still runs.
	Start(ctx context.Context, replicas int) error
	// Kill sends sig to replica i and, for SIGKILL and SIGTERM, waits until it has exited. A
	// SIGKILLed replica keeps its leader-election Lease until the Lease expires.
	Kill(ctx context.Context, i int, sig syscall.Signal) error
	// Running returns the indexes of the replicas that run.
	Running(ctx context.Context) ([]int, error)
	// Leader returns the index of the running replica that leads, or an error when none does yet.
	Leader(ctx context.Context) (int, error)
	// Logs returns the last lines of each replica's log, for failure reports.
	Logs(lines int) string
	// Stop stops every replica (SIGTERM, then SIGKILL) and waits until they have exited.
	Stop(ctx context.Context) error
}

// DriverConfig is what every driver needs to know.
type DriverConfig struct {
	// Kubeconfig is the cluster the operator works on.
	Kubeconfig string
	// Namespace holds the leader-election Lease.
	Namespace string
	// Binary is the operator binary (local driver).
	Binary string
	// LogDir receives the replicas' logs (local driver).
	LogDir string
}

// NewDriver returns the driver named by E2E_OPERATOR: "local" (the default), or "incluster"
// (the operator's Deployment, as make kind-deploy installs it; make test-e2e-kind).
func NewDriver(name string, cfg DriverConfig) (Driver, error) {
	switch name {
	case "", "local":
		if _, err := os.Stat(cfg.Binary); err != nil {
			return nil, fmt.Errorf("local driver: operator binary: %w", err)
		}
		return &LocalDriver{cfg: cfg}, nil
	case "incluster":
		return newInClusterDriver(cfg)
	default:
		return nil, fmt.Errorf("unknown operator driver E2E_OPERATOR=%q; known: local, incluster", name)
	}
}
