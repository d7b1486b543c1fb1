package hw

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/engram/m18-gate/runners/result"
)

// Hash returns the comparability hash of f: the first 12 hex digits of the
// SHA-256 of the fields that change performance, and only those:
//
//   - CPU model (whitespace normalised), architecture, logical cores,
//     sockets, NUMA nodes, SMT state: the silicon and its topology;
//   - memory rounded to the nearest GiB: MemTotal moves by a few MiB between
//     kernels and firmware of the same machine;
//   - cgroup CPU quota: a container limited to 1.5 of 64 cores is a
//     different machine for latency.
//
// Left out on purpose: the kernel (patch releases come weekly on hosted
// runners and would split every history), the Go and tool versions (a
// change of those is what a comparison measures, not a different
// machine), whether perf counters work (a permission, not speed), the
// frequency governor (often unreadable in VMs, where it would flip the hash
// between otherwise identical runners), physical cores (implied by logical
// cores and SMT) and the SIMD list (implied by the CPU model).
func Hash(f result.Fingerprint) string {
	fields := []string{
		"m18-hw/v1",
		"cpu=" + strings.Join(strings.Fields(f.CPUModel), " "),
		"arch=" + f.Arch,
		"logical=" + strconv.Itoa(f.LogicalCores),
		"sockets=" + strconv.Itoa(f.Sockets),
		"numa=" + strconv.Itoa(f.NUMANodes),
		"mem_gib=" + strconv.FormatUint(memGiB(f.MemoryBytes), 10),
		"cgroup_cpus=" + strconv.FormatFloat(f.CgroupCPUQuota, 'g', -1, 64),
		"smt=" + f.SMT,
	}
	sum := sha256.Sum256([]byte(strings.Join(fields, "\n")))
	return hex.EncodeToString(sum[:])[:12]
}

// memGiB rounds bytes to the nearest GiB.
func memGiB(b uint64) uint64 { return (b + 1<<29) >> 30 }
