package hw

import (
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// perfCounters reports whether hardware performance counters work: `perf
// stat` must be on PATH and count instructions for `true` within timeout.
// perf exits 0 even when the event is "<not supported>" (common in VMs and
// containers), so the count itself is checked.
func perfCounters(ctx context.Context, timeout time.Duration) bool {
	bin, err := exec.LookPath("perf")
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "stat", "-x", ",", "-e", "instructions", "true")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return false
	}
	return perfCounted(out.String())
}

// perfCounted reports whether perf's CSV output (-x ,) holds a positive
// instruction count on any line.
func perfCounted(out string) bool {
	for _, line := range strings.Split(out, "\n") {
		fs := strings.Split(line, ",")
		if len(fs) < 3 || !strings.Contains(fs[2], "instructions") {
			continue
		}
		// Hybrid CPUs print one line per core type ("cpu_atom/instructions/"
		// may be <not counted> while "cpu_core/instructions/" counts).
		if n, err := strconv.ParseFloat(strings.TrimSpace(fs[0]), 64); err == nil && n > 0 {
			return true
		}
	}
	return false
}
