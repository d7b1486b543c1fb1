package load

import (
	"golang.org/x/sys/unix"

	"github.com/engram/m18-gate/runners/result"
)

// kernelClock returns the kernel's view of its clock (adjtimex): whether
// NTP (or PTP) disciplines it, and its estimated and maximum error.
func kernelClock() result.Clock {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return result.Clock{}
	}
	return result.Clock{
		Synchronized: state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0,
		EstErrorMs:   float64(tx.Esterror) / 1000,
		MaxErrorMs:   float64(tx.Maxerror) / 1000,
	}
}
