package bench

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"
)

// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat's times (100 on every
// architecture Go supports on Linux).
const clockTicks = 100

// ProcCPUSeconds reads the CPU time (user and system) of a process from the content of its
// /proc/<pid>/stat.
func ProcCPUSeconds(stat string) (float64, error) {
	// The command name (field 2) is in parentheses and may hold spaces: fields count from
	// after its closing parenthesis, where field 3 (state) is the first.
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("not a /proc/<pid>/stat line: %q", stat)
	}
	fields := strings.Fields(stat[i+1:])
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, fmt.Errorf("/proc/<pid>/stat has %d fields after the command, want at least %d", len(fields), stime+1)
	}
	var total float64
	for _, f := range []string{fields[utime], fields[stime]} {
		ticks, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/<pid>/stat: %w", err)
		}
		total += float64(ticks)
	}
	return total / clockTicks, nil
}

// MergeProfiles merges CPU profiles taken one after the other (pprof's format) into one.
func MergeProfiles(parts [][]byte) ([]byte, error) {
	var profiles []*profile.Profile
	for i, p := range parts {
		prof, err := profile.ParseData(p)
		if err != nil {
			return nil, fmt.Errorf("profile %d: %w", i+1, err)
		}
		profiles = append(profiles, prof)
	}
	if len(profiles) == 0 {
		return nil, fmt.Errorf("no profiles to merge")
	}
	merged, err := profile.Merge(profiles)
	if err != nil {
		return nil, fmt.Errorf("failed to merge profiles: %w", err)
	}
	var b bytes.Buffer
	if err := merged.Write(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
