package main

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

func TestSetMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	const mib = 1 << 20

	for name, tc := range map[string]struct {
		env      map[string]string
		provider memlimit.Provider
		want     int64
	}{
		"90% of a 256 MiB container":       {provider: memlimit.Limit(256 * mib), want: 256 * mib * 9 / 10},
		"90% of a 128 MiB container":       {provider: memlimit.Limit(128 * mib), want: 128 * mib * 9 / 10},
		"no limit: the runtime's default":  {provider: func() (uint64, error) { return 0, memlimit.ErrNoLimit }, want: math.MaxInt64},
		"GOMEMLIMIT set by hand wins":      {env: map[string]string{"GOMEMLIMIT": "100MiB"}, provider: memlimit.Limit(256 * mib), want: math.MaxInt64},
		"AUTOMEMLIMIT=off leaves it alone": {env: map[string]string{"AUTOMEMLIMIT": "off"}, provider: memlimit.Limit(256 * mib), want: math.MaxInt64},
	} {
		t.Run(name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			debug.SetMemoryLimit(math.MaxInt64)
			if _, err := setMemoryLimit(tc.provider); err != nil {
				t.Fatal(err)
			}
			// Only the runtime's own value counts; GOMEMLIMIT in the environment is read by the
			// runtime at start, not by this test process's Set.
			if got := debug.SetMemoryLimit(-1); got != tc.want {
				t.Errorf("soft memory limit %d bytes, want %d", got, tc.want)
			}
		})
	}
}
