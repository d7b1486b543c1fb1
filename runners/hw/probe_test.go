package hw

import (
	"context"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/engram/m18-gate/runners/result"
)

var xeonSIMD = []string{"AVX", "AVX2", "AVX512BW", "AVX512F", "AVX512VL", "AVX512VNNI", "FMA3", "SSE42"}

func TestProbeTrees(t *testing.T) {
	tests := []struct {
		root string
		want result.Fingerprint
		// warnings holds a substring of each expected warning, in order.
		warnings []string
	}{
		{
			root: "two-socket",
			want: result.Fingerprint{
				CPUModel: "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", Arch: "x86_64",
				LogicalCores: 16, PhysicalCores: 8, Sockets: 2, NUMANodes: 2,
				MemoryBytes: 263862720 * 1024, Kernel: "5.15.0-91-generic", OS: "linux",
				SIMD: xeonSIMD, Governor: "performance", SMT: "on",
			},
		},
		{
			root: "smt",
			want: result.Fingerprint{
				CPUModel: "AMD Ryzen 7 5700G with Radeon Graphics", Arch: "x86_64",
				LogicalCores: 8, PhysicalCores: 4, Sockets: 1, NUMANodes: 1,
				MemoryBytes: 32767000 * 1024, Kernel: "6.5.0-14-generic", OS: "linux",
				SIMD: []string{"AVX", "AVX2", "FMA3", "SSE42"}, Governor: "schedutil", SMT: "on",
			},
		},
		{
			root: "container",
			want: result.Fingerprint{
				CPUModel: "Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz", Arch: "x86_64",
				LogicalCores: 2, PhysicalCores: 2, Sockets: 1, NUMANodes: 1,
				MemoryBytes: 24683620 * 1024, Kernel: "6.8.0-1021-azure", OS: "linux",
				SIMD: xeonSIMD, CgroupCPUQuota: 1.5, SMT: "notsupported",
			},
		},
		{
			// Only /proc: topology from cpuinfo, SMT inferred, NUMA unknown.
			root: "no-sys",
			want: result.Fingerprint{
				CPUModel: "Intel(R) Core(TM) i5-7200U CPU @ 2.50GHz", Arch: "x86_64",
				LogicalCores: 4, PhysicalCores: 2, Sockets: 1,
				MemoryBytes: 8036612 * 1024, Kernel: "4.19.0-25-amd64", OS: "linux",
				SIMD: []string{"AVX", "AVX2", "FMA3", "SSE42"}, SMT: "on",
			},
			warnings: []string{"numa nodes", "cgroup CPU quota"},
		},
		{
			root: "arm",
			want: result.Fingerprint{
				CPUModel: "ARM implementer 0x41 part 0xd40", Arch: "aarch64",
				LogicalCores: 2, PhysicalCores: 2, Sockets: 1, NUMANodes: 1,
				MemoryBytes: 3944700 * 1024, Kernel: "6.1.0-1-cloud-arm64", OS: "linux",
				SIMD: []string{"ASIMDDP", "NEON", "SVE", "SVE2"}, SMT: "off",
			},
		},
		{
			// Nothing at all: every field unknown, every one warned about.
			root: "does-not-exist",
			want: result.Fingerprint{},
			warnings: []string{"proc/cpuinfo", "cpu model", "arch", "logical cores",
				"physical cores", "numa nodes", "memory", "kernel", "os"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.root, func(t *testing.T) {
			r, err := Inspect(context.Background(), Options{Root: filepath.Join("testdata", tt.root)})
			if err != nil {
				t.Fatal(err)
			}
			got := r.Fingerprint
			if got.GoVersion != runtime.Version() || got.ToolVersion == "" {
				t.Errorf("GoVersion %q ToolVersion %q, want %q and non-empty", got.GoVersion, got.ToolVersion, runtime.Version())
			}
			if got.Hash != Hash(got) || !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(got.Hash) {
				t.Errorf("Hash %q: not Hash(f) or not 12 hex digits", got.Hash)
			}
			got.Hash, got.GoVersion, got.ToolVersion = "", "", ""
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("fingerprint\n got %+v\nwant %+v", got, tt.want)
			}
			if len(r.Warnings) != len(tt.warnings) {
				t.Fatalf("warnings = %q, want %d matching %q", r.Warnings, len(tt.warnings), tt.warnings)
			}
			for i, w := range tt.warnings {
				if !strings.Contains(r.Warnings[i], w) {
					t.Errorf("warning %d = %q, want it to mention %q", i, r.Warnings[i], w)
				}
			}
		})
	}
}

// TestProbeLive probes this machine. It must succeed and agree with the Go
// runtime on the core count.
func TestProbeLive(t *testing.T) {
	o := Options{SkipPerf: testing.Short()}
	r, err := Inspect(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	f := r.Fingerprint
	t.Logf("%s (hash %s, perf counters %v, warnings %q)", Describe(f), f.Hash, f.PerfCounters, r.Warnings)
	if f.LogicalCores != runtime.NumCPU() {
		t.Errorf("LogicalCores = %d, runtime.NumCPU() = %d", f.LogicalCores, runtime.NumCPU())
	}
	if f.OS != runtime.GOOS || f.Arch == "" || f.GoVersion != runtime.Version() {
		t.Errorf("OS %q Arch %q GoVersion %q", f.OS, f.Arch, f.GoVersion)
	}
	if runtime.GOOS == "linux" && (f.MemoryBytes == 0 || f.Kernel == "" || f.CPUModel == "") {
		t.Errorf("on Linux memory, kernel and CPU model must be known: %+v", f)
	}
	if runtime.GOARCH == "amd64" && len(f.SIMD) == 0 {
		t.Errorf("amd64 without SSE4.2 or AVX? SIMD = %q", f.SIMD)
	}
}

func TestProbeCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Probe(ctx, Options{}); err == nil {
		t.Fatal("Probe with a cancelled context: want an error")
	}
}

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		in   string
		want []int
		ok   bool
	}{
		{"0", []int{0}, true},
		{"0-3", []int{0, 1, 2, 3}, true},
		{"0-1,4,6-7", []int{0, 1, 4, 6, 7}, true},
		{"", nil, false},
		{"3-1", nil, false},
		{"a", nil, false},
	}
	for _, tt := range tests {
		got, err := parseCPUList(tt.in)
		if (err == nil) != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseCPUList(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestPerfCounted(t *testing.T) {
	tests := []struct {
		out  string
		want bool
	}{
		{"<not supported>,,instructions,0,100.00,,\n", false},
		{"<not counted>,,instructions:u,0,0.00,,\n", false},
		{"  412345,,instructions:u,380042,100.00,,\n", true},
		{"412345,,instructions:u,380042,100.00,,\n", true},
		{"<not counted>,,cpu_atom/instructions/,0,0.00,,\n1234567,,cpu_core/instructions/,1,100.00,,\n", true},
		{"Error: permission denied\n", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := perfCounted(tt.out); got != tt.want {
			t.Errorf("perfCounted(%q) = %v, want %v", tt.out, got, tt.want)
		}
	}
}

func TestAncestors(t *testing.T) {
	got := ancestors("/a/b")
	want := []string{"/a/b", "/a", "/"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ancestors = %q, want %q", got, want)
	}
}
