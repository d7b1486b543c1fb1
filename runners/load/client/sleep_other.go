//go:build !linux

package client

import "time"

// SleepShort sleeps d. Outside Linux it is time.Sleep (spinning covers the
// last stretch before an intended send).
func SleepShort(d time.Duration) { time.Sleep(d) }
