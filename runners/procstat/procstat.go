// Package procstat reads a process's resource use from Linux's /proc and
// samples it over time.
//
// It measures what the kernel says about a process — resident and virtual
// size, threads, open file descriptors, CPU time — and nothing about what the
// process thinks of itself (no Go runtime statistics), so it works the same
// for the in-process reference target and for an external one given by pid.
// Its opinion: a sampler must be safe to leave running for days, so it keeps
// a bounded number of samples and thins old ones evenly rather than growing.
// On systems without /proc, Read returns ErrUnsupported.
package procstat

import (
	"errors"
	"time"
)

// ErrUnsupported is returned by Read on systems without Linux's /proc.
var ErrUnsupported = errors.New("procstat: reading process statistics needs Linux /proc")

// Stats is one reading of a process's resource use.
type Stats struct {
	// At is when the reading was taken.
	At time.Time `json:"at"`
	// RSSBytes is the resident set size (VmRSS) in bytes.
	RSSBytes uint64 `json:"rss_bytes"`
	// VSZBytes is the virtual memory size (VmSize) in bytes.
	VSZBytes uint64 `json:"vsz_bytes"`
	// Threads is the number of threads (OS threads, not goroutines).
	Threads int `json:"threads"`
	// FDs is the number of open file descriptors.
	FDs int `json:"fds"`
	// CPUSeconds is user plus system CPU time consumed so far, in seconds.
	CPUSeconds float64 `json:"cpu_seconds"`
}

// RSSMiB returns the resident set size in MiB.
func (s Stats) RSSMiB() float64 { return float64(s.RSSBytes) / (1 << 20) }
