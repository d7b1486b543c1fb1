package hw

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/engram/m18-gate/runners/result"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func probeTree(t *testing.T, name string) Report {
	t.Helper()
	r, err := Inspect(context.Background(), Options{Root: filepath.Join("testdata", name)})
	if err != nil {
		t.Fatal(err)
	}
	// Versions change with the toolchain, not with the tree.
	r.Fingerprint.GoVersion, r.Fingerprint.ToolVersion = "go1.x", "test"
	return r
}

func TestLabelsAndDescribe(t *testing.T) {
	numactl := false
	if _, err := exec.LookPath("numactl"); err == nil {
		numactl = true
	}
	tests := []struct {
		tree     string
		labels   []string
		describe string
	}{
		{
			tree:     "container",
			labels:   []string{"linux", "x64", "cores-2", "cgroup-cpus-1.5", "mem-24g", "sockets-1", "numa-1", "avx", "avx2", "avx512bw", "avx512f", "avx512vl", "avx512vnni", "fma3", "sse42"},
			describe: "Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz · x86_64 · 2 cores, cgroup quota 1.5 · 24 GiB · 1 NUMA node",
		},
		{
			tree:     "smt",
			labels:   []string{"linux", "x64", "cores-8", "mem-31g", "sockets-1", "numa-1", "smt-on", "avx", "avx2", "fma3", "sse42", "tier1"},
			describe: "AMD Ryzen 7 5700G with Radeon Graphics · x86_64 · 8 cores (4 physical) · 31 GiB · 1 NUMA node",
		},
		{
			tree: "two-socket",
			labels: append([]string{"linux", "x64", "cores-16", "mem-252g", "sockets-2", "numa-2", "smt-on", "avx", "avx2", "avx512bw", "avx512f", "avx512vl", "avx512vnni", "fma3", "sse42", "tier1", "tier2"},
				map[bool][]string{true: {"tier3"}}[numactl]...),
			describe: "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz · x86_64 · 16 cores (8 physical) · 252 GiB · 2 sockets · 2 NUMA nodes",
		},
		{
			tree:     "arm",
			labels:   []string{"linux", "arm64", "cores-2", "mem-4g", "sockets-1", "numa-1", "smt-off", "asimddp", "neon", "sve", "sve2"},
			describe: "ARM implementer 0x41 part 0xd40 · aarch64 · 2 cores · 4 GiB · 1 NUMA node",
		},
		{
			tree:     "does-not-exist",
			labels:   nil,
			describe: "unknown CPU · unknown arch · unknown cores · unknown memory · unknown NUMA nodes",
		},
	}
	for _, tt := range tests {
		t.Run(tt.tree, func(t *testing.T) {
			f := probeTree(t, tt.tree).Fingerprint
			if got := Labels(f); !reflect.DeepEqual(got, tt.labels) {
				t.Errorf("Labels\n got %q\nwant %q", got, tt.labels)
			}
			if got := Describe(f); got != tt.describe {
				t.Errorf("Describe\n got %q\nwant %q", got, tt.describe)
			}
		})
	}
	if got := Labels(result.Fingerprint{PerfCounters: true}); !reflect.DeepEqual(got, []string{"perf-counters"}) {
		t.Errorf("Labels with only perf counters = %q", got)
	}
}

// TestSummaryGolden checks the text and JSON output of m18-probe for the
// container tree; rewrite with -update.
func TestSummaryGolden(t *testing.T) {
	s := Summarize(probeTree(t, "container"))
	// Tiers looks numactl up on this PATH; pin it to "not installed".
	for i := range s.Tiers {
		s.Tiers[i] = tiers(s.Fingerprint, false)[i]
	}
	for _, tt := range []struct {
		file  string
		write func(*bytes.Buffer) error
	}{
		{"container.txt", func(b *bytes.Buffer) error { return s.WriteText(b) }},
		{"container.json", func(b *bytes.Buffer) error { return s.WriteJSON(b) }},
	} {
		var b bytes.Buffer
		if err := tt.write(&b); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "golden", tt.file)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", tt.file, b.String())
		}
	}
}

func TestOutputs(t *testing.T) {
	r := probeTree(t, "smt")
	s := Summary{Fingerprint: r.Fingerprint, Labels: []string{"linux", "x64"}, Tiers: tiers(r.Fingerprint, false)}
	outs, err := s.Outputs()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range outs {
		got[o.Name] = o.Value
	}
	if got["fingerprint"] != r.Fingerprint.Hash || got["labels"] != "linux,x64" || got["tiers"] != "tier1" {
		t.Errorf("outputs = %q", got)
	}
	if !strings.HasPrefix(got["fingerprint_json"], `{"hash":"`+r.Fingerprint.Hash) || strings.Contains(got["fingerprint_json"], "\n") {
		t.Errorf("fingerprint_json = %q, want one-line JSON", got["fingerprint_json"])
	}
}
