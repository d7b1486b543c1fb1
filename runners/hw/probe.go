package hw

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/engram/m18-gate/internal/version"
	"github.com/engram/m18-gate/runners/result"
)

// DefaultPerfTimeout bounds the `perf stat` check of hardware counters.
const DefaultPerfTimeout = 5 * time.Second

// Options configures a probe. The zero value probes the running machine.
type Options struct {
	// Root is the directory holding the proc and sys trees to read ("/" when
	// empty). A Root other than "/" describes another machine (tests feed
	// fake trees): then the architecture and SIMD features come from its
	// proc/cpuinfo instead of the CPUID instruction, and perf is not run.
	Root string
	// SkipPerf skips running `perf stat`; PerfCounters is then false.
	SkipPerf bool
	// PerfTimeout bounds the `perf stat` run (DefaultPerfTimeout when 0).
	PerfTimeout time.Duration
}

// Report is a fingerprint with the warnings met while probing.
type Report struct {
	Fingerprint result.Fingerprint
	// Warnings name each field that could not be read and why; such a
	// field is left zero.
	Warnings []string
}

// Probe fingerprints the machine described by o. It fails only when ctx is
// done; unreadable fields are left zero (use Inspect to see why).
func Probe(ctx context.Context, o Options) (result.Fingerprint, error) {
	r, err := Inspect(ctx, o)
	return r.Fingerprint, err
}

// Inspect is Probe that also returns the warnings.
func Inspect(ctx context.Context, o Options) (Report, error) {
	p := prober{root: o.Root, live: o.Root == "" || filepath.Clean(o.Root) == "/"}
	if p.root == "" {
		p.root = "/"
	}
	f := &p.f

	ci := p.cpuinfo()
	f.CPUModel = p.cpuModel(ci)
	f.Arch = p.arch(ci)
	p.topology(ci)
	p.memory()
	f.Kernel = p.kernel()
	f.OS = p.os()
	f.SIMD = p.simd(ci)
	f.CgroupCPUQuota = p.cgroupQuota()
	f.Governor = p.readTrim("sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
	f.SMT = p.smt()
	f.GoVersion = runtime.Version()
	f.ToolVersion = version.String()

	if err := ctx.Err(); err != nil {
		return Report{}, err
	}
	if p.live && !o.SkipPerf {
		timeout := o.PerfTimeout
		if timeout <= 0 {
			timeout = DefaultPerfTimeout
		}
		f.PerfCounters = perfCounters(ctx, timeout)
		if err := ctx.Err(); err != nil {
			return Report{}, err
		}
	}
	f.Hash = Hash(*f)
	return Report{Fingerprint: *f, Warnings: p.warnings}, nil
}

// prober carries the state of one probe.
type prober struct {
	root     string
	live     bool
	f        result.Fingerprint
	warnings []string
}

func (p *prober) warn(format string, args ...any) {
	p.warnings = append(p.warnings, sprintf(format, args...))
}

func (p *prober) path(rel string) string { return filepath.Join(p.root, filepath.FromSlash(rel)) }

func (p *prober) exists(rel string) bool {
	_, err := os.Stat(p.path(rel))
	return err == nil
}
