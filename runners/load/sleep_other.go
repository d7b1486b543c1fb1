//go:build !linux

package load

import "time"

// sleepShort sleeps d. Outside Linux it is time.Sleep (spinning covers the
// last stretch before an intended send).
func sleepShort(d time.Duration) { time.Sleep(d) }
