package hw

import (
	"reflect"
	"testing"

	"github.com/engram/m18-gate/runners/result"
)

func TestTiers(t *testing.T) {
	const gb = 1_000_000_000
	linux := func(cores, numa, sockets int, mem uint64, quota float64) result.Fingerprint {
		return result.Fingerprint{OS: "linux", Kernel: "6.8.0-1021-azure", LogicalCores: cores,
			NUMANodes: numa, Sockets: sockets, MemoryBytes: mem, CgroupCPUQuota: quota}
	}
	tests := []struct {
		name    string
		f       result.Fingerprint
		numactl bool
		want    [3][]string // reasons per tier; nil means eligible
	}{
		{
			name: "this CI machine: 2 cores, 24 GiB",
			f:    linux(2, 1, 1, 24683620*1024, 0),
			want: [3][]string{
				{"Tier 1 needs 8 cores, this machine has 2"},
				{"Tier 2 needs 16 cores, this machine has 2", "Tier 2 needs 64 GB of memory, this machine has 25.3 GB"},
				{"Tier 3 needs 2 NUMA nodes, this machine has 1 (1 socket)", "Tier 3 needs 128 GB of memory, this machine has 25.3 GB",
					"Tier 3 needs numactl on PATH, it is not installed (apt-get install numactl)"},
			},
		},
		{
			name:    "two-socket NUMA server with numactl: every tier",
			f:       linux(64, 2, 2, 256*gb, 0),
			numactl: true,
		},
		{
			name: "two-socket NUMA server without numactl",
			f:    linux(64, 2, 2, 256*gb, 0),
			want: [3][]string{nil, nil, {"Tier 3 needs numactl on PATH, it is not installed (apt-get install numactl)"}},
		},
		{
			name:    "cgroup quota below the cores",
			f:       linux(32, 1, 1, 64*gb, 6),
			numactl: true,
			want: [3][]string{
				{"Tier 1 needs 8 cores, this machine has 6 (cgroup CPU quota of 32 logical cores)"},
				{"Tier 2 needs 16 cores, this machine has 6 (cgroup CPU quota of 32 logical cores)"},
				{"Tier 3 needs 2 NUMA nodes, this machine has 1 (1 socket)", "Tier 3 needs 128 GB of memory, this machine has 64.0 GB"},
			},
		},
		{
			name: "exact thresholds: 8 cores and 16 GB",
			f:    linux(8, 1, 1, 16*gb, 0),
			want: [3][]string{
				nil,
				{"Tier 2 needs 16 cores, this machine has 8", "Tier 2 needs 64 GB of memory, this machine has 16.0 GB"},
				{"Tier 3 needs 2 NUMA nodes, this machine has 1 (1 socket)", "Tier 3 needs 128 GB of memory, this machine has 16.0 GB",
					"Tier 3 needs numactl on PATH, it is not installed (apt-get install numactl)"},
			},
		},
		{
			name:    "old kernel",
			f:       result.Fingerprint{OS: "linux", Kernel: "4.19.0-25-amd64", LogicalCores: 64, NUMANodes: 2, Sockets: 2, MemoryBytes: 256 * gb},
			numactl: true,
			want: [3][]string{
				{"Tier 1 needs Linux 5.10+ or macOS 12+, this machine runs Linux 4.19.0-25-amd64"},
				nil,
				{"Tier 3 needs Linux 5.10+, this machine runs Linux 4.19.0-25-amd64"},
			},
		},
		{
			name: "macOS 14 (Darwin 23) laptop",
			f:    result.Fingerprint{OS: "darwin", Kernel: "23.4.0", LogicalCores: 10, NUMANodes: 1, Sockets: 1, MemoryBytes: 32 << 30},
			want: [3][]string{
				nil,
				{"Tier 2 needs 16 cores, this machine has 10", "Tier 2 needs 64 GB of memory, this machine has 34.4 GB"},
				{"Tier 3 needs 2 NUMA nodes, this machine has 1 (1 socket)", "Tier 3 needs 128 GB of memory, this machine has 34.4 GB",
					"Tier 3 needs Linux 5.10+, this machine runs Darwin 23.4.0",
					"Tier 3 needs numactl on PATH, it is not installed (apt-get install numactl)"},
			},
		},
		{
			name: "nothing known",
			f:    result.Fingerprint{},
			want: [3][]string{
				{"Tier 1 needs 8 cores, this machine's core count is unknown", "Tier 1 needs 16 GB of memory, this machine's memory is unknown",
					"Tier 1 needs Linux 5.10+ or macOS 12+, this machine runs an unknown version"},
				{"Tier 2 needs 16 cores, this machine's core count is unknown", "Tier 2 needs 64 GB of memory, this machine's memory is unknown"},
				{"Tier 3 needs 2 NUMA nodes, this machine has an unknown number (unknown sockets)", "Tier 3 needs 128 GB of memory, this machine's memory is unknown",
					"Tier 3 needs Linux 5.10+, this machine runs an unknown version",
					"Tier 3 needs numactl on PATH, it is not installed (apt-get install numactl)"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tiers(tt.f, tt.numactl)
			if len(got) != 3 {
				t.Fatalf("got %d tiers, want 3", len(got))
			}
			for i, g := range got {
				if g.Tier != i+1 || g.Label != []string{"tier1", "tier2", "tier3"}[i] {
					t.Errorf("tier %d: Tier %d Label %q", i+1, g.Tier, g.Label)
				}
				if g.Eligible != (tt.want[i] == nil) || !reflect.DeepEqual(g.Reasons, tt.want[i]) {
					t.Errorf("tier %d: eligible %v reasons\n  %q\nwant\n  %q", i+1, g.Eligible, g.Reasons, tt.want[i])
				}
			}
		})
	}
}

func TestVersionAtLeast(t *testing.T) {
	tests := []struct {
		release string
		want    bool
	}{
		{"5.10.0-28-amd64", true}, {"5.9.16", false}, {"6.1.0", true}, {"4.19.0-25-amd64", false},
		{"5.10-rc1", true}, {"5.15", true}, {"5", false}, {"", false}, {"x.y", false},
	}
	for _, tt := range tests {
		if got := versionAtLeast(tt.release, 5, 10); got != tt.want {
			t.Errorf("versionAtLeast(%q, 5, 10) = %v, want %v", tt.release, got, tt.want)
		}
	}
}
