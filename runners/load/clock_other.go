//go:build !linux

package load

import "github.com/engram/m18-gate/runners/result"

// kernelClock is unknown outside Linux.
func kernelClock() result.Clock { return result.Clock{} }
