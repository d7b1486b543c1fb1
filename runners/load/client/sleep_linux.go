package client

import (
	"syscall"
	"time"
)

// SleepShort sleeps d (well under a millisecond to a few) with a nanosleep
// system call: Go's timers round sub-millisecond sleeps up to about 1 ms on
// Linux, which would show as schedule lag. The system call blocks only this
// goroutine's thread; the runtime hands its P to another thread.
func SleepShort(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}
