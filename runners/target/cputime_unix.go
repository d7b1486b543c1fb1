//go:build unix

package target

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// processCPU returns the CPU time (user + system) this process has used.
func processCPU() (time.Duration, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// canMeasureCPU reports whether processCPU and spinCPU work here.
const canMeasureCPU = true

// spinCPU burns d of this thread's CPU time — not wall time, so a busy
// machine does not change how much work it is — and returns a value
// computed from the work (so that it cannot be optimised away) and the CPU
// time it used.
func spinCPU(d time.Duration) (uint64, time.Duration) {
	if d <= 0 {
		return 1, 0
	}
	runtime.LockOSThread() // the thread's clock measures this goroutine only while it stays put
	defer runtime.UnlockOSThread()
	start, ok := threadCPU()
	if !ok {
		return spin(d), d
	}
	x := uint64(d) | 1
	for {
		for i := 0; i < 256; i++ {
			x = x*6364136223846793005 + 1442695040888963407
			x ^= x >> 29
		}
		now, _ := threadCPU()
		if used := now - start; used >= d {
			return x, used
		}
	}
}

// threadCPU is the calling thread's CPU time.
func threadCPU() (time.Duration, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
