package main

import (
	"log/slog"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
)

// memoryLimitRatio is the share of the container's memory limit that the Go runtime's soft
// limit takes; the rest is for what the garbage collector does not count (thread stacks, the
// runtime's own structures, memory returned to the kernel lazily).
const memoryLimitRatio = 0.9

// setMemoryLimit sets the Go runtime's soft memory limit (GOMEMLIMIT) to memoryLimitRatio of
// the memory limit that provider reports (in production the container's, from its cgroup), unless
// GOMEMLIMIT or AUTOMEMLIMIT is set. Near the limit the garbage collector then collects more
// often instead of letting the heap double (GOGC=100) until the kernel kills the pod; with no
// limit nothing changes. It returns the soft limit in bytes.
func setMemoryLimit(provider memlimit.Provider) (int64, error) {
	log := slog.New(logr.ToSlogHandler(ctrl.Log.WithName("memlimit")))
	return memlimit.Set(memlimit.WithRatio(memoryLimitRatio), memlimit.WithProvider(provider), memlimit.WithLogger(log))
}
