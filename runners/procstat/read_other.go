//go:build !linux

package procstat

import "fmt"

// Read returns ErrUnsupported: this build has no /proc to read.
func Read(pid int) (Stats, error) {
	return Stats{}, fmt.Errorf("pid %d: %w", pid, ErrUnsupported)
}
