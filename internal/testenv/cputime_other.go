//go:build !unix

package testenv

import "time"

// CPUTime is the process's CPU time so far where the system reports it;
// here it does not, and CPUTime is 0 (ReportCPU then reports 0 cpu-ns/op).
func CPUTime() time.Duration { return 0 }
