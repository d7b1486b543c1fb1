//go:build !unix

package target

import (
	"errors"
	"time"
)

// processCPU is not available on this system.
func processCPU() (time.Duration, error) {
	return 0, errors.New("target: process CPU time needs a Unix system")
}

// canMeasureCPU reports whether processCPU and spinCPU work here.
const canMeasureCPU = false

// spinCPU falls back to wall time.
func spinCPU(d time.Duration) (uint64, time.Duration) { return spin(d), d }
