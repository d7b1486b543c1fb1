package hw

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/engram/m18-gate/runners/result"
)

func base() result.Fingerprint {
	return result.Fingerprint{
		CPUModel: "Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz", Arch: "x86_64",
		LogicalCores: 2, PhysicalCores: 2, Sockets: 1, NUMANodes: 1,
		MemoryBytes: 24683620 * 1024, Kernel: "6.8.0-1021-azure", OS: "linux",
		SIMD: []string{"AVX2"}, CgroupCPUQuota: 0, Governor: "", SMT: "notsupported",
		PerfCounters: false, GoVersion: "go1.26.8", ToolVersion: "v0.1.0",
	}
}

// TestHashReference recomputes the hash from its documented definition, so
// that a change of the hashed fields (which would split every stored history)
// cannot pass unnoticed.
func TestHashReference(t *testing.T) {
	canon := "m18-hw/v1\ncpu=Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz\narch=x86_64\n" +
		"logical=2\nsockets=1\nnuma=1\nmem_gib=24\ncgroup_cpus=0\nsmt=notsupported"
	sum := sha256.Sum256([]byte(canon))
	if got, want := Hash(base()), hex.EncodeToString(sum[:])[:12]; got != want {
		t.Errorf("Hash = %s, want %s", got, want)
	}
}

func TestHashComparability(t *testing.T) {
	tests := []struct {
		name   string
		change func(*result.Fingerprint)
		same   bool
	}{
		{"identical", func(*result.Fingerprint) {}, true},
		{"kernel patch", func(f *result.Fingerprint) { f.Kernel = "6.8.0-1022-azure" }, true},
		{"kernel minor", func(f *result.Fingerprint) { f.Kernel = "6.11.0-1001-azure" }, true},
		{"go version", func(f *result.Fingerprint) { f.GoVersion = "go1.27.0" }, true},
		{"tool version", func(f *result.Fingerprint) { f.ToolVersion = "v0.2.0" }, true},
		{"perf counters", func(f *result.Fingerprint) { f.PerfCounters = true }, true},
		{"governor", func(f *result.Fingerprint) { f.Governor = "performance" }, true},
		{"memory within the GiB", func(f *result.Fingerprint) { f.MemoryBytes += 100 << 20 }, true},
		{"whitespace in model", func(f *result.Fingerprint) { f.CPUModel = " Intel(R)  Xeon(R) Platinum 8370C CPU @ 2.80GHz " }, true},
		{"stored hash ignored", func(f *result.Fingerprint) { f.Hash = "ffffffffffff" }, true},
		{"core count", func(f *result.Fingerprint) { f.LogicalCores = 4 }, false},
		{"cpu model", func(f *result.Fingerprint) { f.CPUModel = "AMD EPYC 7763 64-Core Processor" }, false},
		{"arch", func(f *result.Fingerprint) { f.Arch = "aarch64" }, false},
		{"sockets", func(f *result.Fingerprint) { f.Sockets = 2 }, false},
		{"numa nodes", func(f *result.Fingerprint) { f.NUMANodes = 2 }, false},
		{"memory GiB", func(f *result.Fingerprint) { f.MemoryBytes = 32 << 30 }, false},
		{"cgroup quota", func(f *result.Fingerprint) { f.CgroupCPUQuota = 1.5 }, false},
		{"smt", func(f *result.Fingerprint) { f.SMT = "on" }, false},
	}
	h0 := Hash(base())
	for _, tt := range tests {
		f := base()
		tt.change(&f)
		if got := Hash(f) == h0; got != tt.same {
			t.Errorf("%s: same hash = %v, want %v", tt.name, got, tt.same)
		}
	}
}

func TestMemGiB(t *testing.T) {
	for _, tt := range []struct {
		b    uint64
		want uint64
	}{{0, 0}, {1<<29 - 1, 0}, {1 << 29, 1}, {24683620 * 1024, 24}, {16 << 30, 16}, {(16 << 30) - (200 << 20), 16}} {
		if got := memGiB(tt.b); got != tt.want {
			t.Errorf("memGiB(%d) = %d, want %d", tt.b, got, tt.want)
		}
	}
}
