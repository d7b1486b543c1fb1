//go:build !linux

package procstat

import (
	"fmt"
	"time"
)

// Read returns ErrUnsupported: this build has no /proc to read.
func Read(pid int) (Stats, error) {
	return Stats{}, fmt.Errorf("pid %d: %w", pid, ErrUnsupported)
}

// TreeCPU returns ErrUnsupported: this build has no /proc to read.
func TreeCPU(pid int) (time.Duration, error) {
	return 0, fmt.Errorf("pid %d: %w", pid, ErrUnsupported)
}

// Tree returns pid alone: this build has no /proc to find descendants in.
func Tree(pid int) []int {
	return []int{pid}
}
