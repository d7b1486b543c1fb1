package instrument

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/internal/testenv"
)

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// TestPerfList reads perf list from this kind of runner (a VM: software
// events only) and from a machine with a PMU.
func TestPerfList(t *testing.T) {
	for _, tt := range []struct {
		file        string
		hw          bool
		cache, node []string
		prefetch    []string
	}{
		{"here/perf_list.txt", false, nil, nil, nil},
		{"other/perf_list_skylake.txt", true,
			[]string{"cache-references", "cache-misses", "L1-dcache-loads", "L1-dcache-load-misses", "LLC-loads", "LLC-load-misses"},
			[]string{"node-loads", "node-load-misses"}, nil},
	} {
		evs := ParsePerfList(read(t, tt.file))
		if len(evs) < 10 {
			t.Fatalf("%s: %d events", tt.file, len(evs))
		}
		if got := HasCounters(evs); got != tt.hw {
			t.Errorf("%s: HasCounters = %v, want %v", tt.file, got, tt.hw)
		}
		if got := ChooseEvents(evs, CacheEvents); !slices.Equal(got, tt.cache) {
			t.Errorf("%s: cache events %v, want %v", tt.file, got, tt.cache)
		}
		if got := ChooseEvents(evs, NodeEvents); !slices.Equal(got, tt.node) {
			t.Errorf("%s: node events %v, want %v", tt.file, got, tt.node)
		}
		// Kernel-listed names without a [kind] (l2_rqsts.pf_hit under
		// "cache:") are not offered as PMU events here.
		if got := ChooseEvents(evs, PrefetchEvents); !slices.Equal(got, tt.prefetch) {
			t.Errorf("%s: prefetch events %v, want %v", tt.file, got, tt.prefetch)
		}
	}
	// Aliases: "cpu-cycles OR cycles" names two events.
	evs := ParsePerfList(read(t, "other/perf_list_skylake.txt"))
	if !slices.ContainsFunc(evs, func(e PerfEvent) bool { return e.Name == "cycles" && e.Kind == "Hardware event" }) {
		t.Error("alias cycles not read")
	}
}

func TestParsePerfStat(t *testing.T) {
	// Captured here: perf stat -p on the reference target in a VM.
	cs, err := ParsePerfStat(read(t, "here/perf_stat_pid.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 6 {
		t.Fatalf("%d counts, want 6", len(cs))
	}
	for _, c := range cs {
		if c.Counted || c.Status == "" {
			t.Errorf("%s counted on a runner without counters: %+v", c.Event, c)
		}
	}
	if _, ok := Lookup(cs, "cache-misses"); ok {
		t.Error("cache-misses found though <not supported>")
	}
	cs, err = ParsePerfStat(read(t, "other/perf_stat_counters.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for ev, want := range map[string]float64{"cache-references": 812345678, "cache-misses": 20123456, "L1-dcache-loads": 3456789012, "node-load-misses": 345678} {
		if v, ok := Lookup(cs, ev); !ok || v != want {
			t.Errorf("%s = %v %v, want %v", ev, v, ok, want)
		}
	}
	if cs[2].RunningPct != 50 {
		t.Errorf("L1-dcache-loads running %v %%, want 50", cs[2].RunningPct)
	}
	if _, err := ParsePerfStat([]byte("garbage line\n")); err == nil {
		t.Error("garbage parsed")
	}
}

func TestParseC2C(t *testing.T) {
	c, err := ParseC2C(read(t, "other/perf_c2c_report.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if c.LoadOps != 69679 || c.LocalHITM != 3402 || c.RemoteHITM != 12757 || c.LLCMisses != 22274 {
		t.Errorf("%+v", c)
	}
	share, ok := c.HITMShare()
	// (3402+12757) / (69679 − 17235 − 11958), computed by hand.
	if want := 16159.0 / 40486.0; !ok || !near(share, want) {
		t.Errorf("HITM share %v, want %v", share, want)
	}
	if _, err := ParseC2C([]byte("nothing here")); err == nil {
		t.Error("empty report parsed")
	}
}

// twoSocket is a 2-socket machine's node tree: node0 CPUs 0-3,8-11, node1
// 4-7,12-15.
const twoSocket = "testdata/two-socket/node"

func TestReadNodes(t *testing.T) {
	nodes, err := ReadNodes(twoSocket)
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 2 || !slices.Equal(nodes[1].CPUs, []int{4, 5, 6, 7, 12, 13, 14, 15}) {
		t.Fatalf("%+v", nodes)
	}
	for cpu, want := range map[int]int{0: 0, 9: 0, 4: 1, 15: 1, 16: -1} {
		if got := NodeOfCPU(nodes, cpu); got != want {
			t.Errorf("cpu %d on node %d, want %d", cpu, got, want)
		}
	}
	// This runner's tree, captured: one node.
	here, err := ReadNodes(filepath.Join("testdata", "here", "node"))
	if err != nil || len(here) != 1 || !slices.Equal(here[0].CPUs, []int{0, 1}) {
		t.Errorf("here: %+v %v", here, err)
	}
	if n, err := ReadNodes(filepath.Join(t.TempDir(), "absent")); n != nil || err != nil {
		t.Errorf("absent tree: %v %v", n, err)
	}
}

func TestParseCPUList(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []int
		bad  bool
	}{
		{"0-3,8,10-11", []int{0, 1, 2, 3, 8, 10, 11}, false},
		{"", nil, false},
		{"5", []int{5}, false},
		{"3-1", nil, true},
		{"a", nil, true},
	} {
		got, err := ParseCPUList(tt.in)
		if (err != nil) != tt.bad || !slices.Equal(got, tt.want) {
			t.Errorf("ParseCPUList(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestParseNumaMaps(t *testing.T) {
	// Captured here: every page on node 0.
	p, err := ParseNumaMaps(read(t, "here/numa_maps.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.BytesByNode) != 1 || p.BytesByNode[0] == 0 {
		t.Fatalf("%v", p.BytesByNode)
	}
	var pages int64
	for _, line := range strings.Split(string(read(t, "here/numa_maps.txt")), "\n") {
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "N0="); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				pages += n
			}
		}
	}
	if p.BytesByNode[0] != pages*4096 {
		t.Errorf("node 0 %d bytes, want %d pages × 4 KiB", p.BytesByNode[0], pages)
	}
	// A 2-socket process: huge pages count by their size.
	fixture := "7f0000000000 bind:0 anon=100 dirty=100 N0=100 kernelpagesize_kB=4\n" +
		"7f1000000000 interleave:0-1 anon=10 dirty=10 N0=6 N1=4 kernelpagesize_kB=2048\n" +
		"00400000 default file=/usr/bin/x mapped=3 N1=3 kernelpagesize_kB=4\n"
	p, err = ParseNumaMaps([]byte(fixture))
	if err != nil {
		t.Fatal(err)
	}
	want0, want1 := int64(100*4096+6*2048*1024), int64(4*2048*1024+3*4096)
	if p.BytesByNode[0] != want0 || p.BytesByNode[1] != want1 {
		t.Errorf("%v, want 0:%d 1:%d", p.BytesByNode, want0, want1)
	}
	share, ok := p.ShareOn([]int{0})
	if !ok || !near(share, float64(want0)/float64(want0+want1)) {
		t.Errorf("share on node 0 = %v", share)
	}
	if _, ok := (Placement{}).ShareOn([]int{0}); ok {
		t.Error("share of nothing")
	}
}

func TestParseNumastat(t *testing.T) {
	m, err := ParseNumastat(read(t, "here/numastat_p.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || m[0] <= 0 {
		t.Errorf("here: %v", m)
	}
	two := `
Per-node process memory usage (in MBs) for PID 4242 (engram)
                           Node 0          Node 1           Total
                  --------------- --------------- ---------------
Huge                         0.00            0.00            0.00
Heap                       100.50           12.25          112.75
Private                    900.00           40.00          940.00
----------------  --------------- --------------- ---------------
Total                     1000.50           52.25         1052.75
`
	m, err = ParseNumastat([]byte(two))
	if err != nil {
		t.Fatal(err)
	}
	if m[0] != 1000.50 || m[1] != 52.25 || len(m) != 2 {
		t.Errorf("two nodes: %v", m)
	}
	// Live, on this process.
	if _, err := exec.LookPath("numastat"); err == nil {
		m, err := Numastat(context.Background(), os.Getpid())
		if err != nil || len(m) == 0 || m[0] <= 0 {
			t.Errorf("numastat of this process: %v %v", m, err)
		}
	}
	if _, err := ParseNumastat([]byte("Total 1 2\n")); err == nil {
		t.Error("no header parsed")
	}
}

func TestThreadsAffinity(t *testing.T) {
	allowed, err := ParseAllowed(read(t, "here/task_status.txt"))
	if err != nil || !slices.Equal(allowed, []int{0, 1}) {
		t.Errorf("allowed %v %v", allowed, err)
	}
	if got := ParseLastCPU(read(t, "here/task_stat.txt")); got != 1 {
		t.Errorf("last CPU %d, want 1", got)
	}
	// A command name with spaces and parentheses.
	if got := ParseLastCPU([]byte("7 (a) b) S" + strings.Repeat(" 0", 35) + " 13 0 0")); got != 13 {
		t.Errorf("last CPU of odd name %d, want 13", got)
	}
	// This process's threads, read live.
	ts, err := Threads("/proc", os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) == 0 || len(ts[0].Allowed) == 0 || ts[0].LastCPU < 0 {
		t.Errorf("threads of this process: %+v", ts)
	}
	// Spread over a fixture 2-socket machine.
	nodes, _ := ReadNodes(twoSocket)
	n, c := Spread([]Thread{{LastCPU: 0}, {LastCPU: 1}, {LastCPU: 4}, {LastCPU: 4}, {LastCPU: -1}}, nodes)
	if n != 2 || c != 3 {
		t.Errorf("spread %d nodes %d CPUs, want 2, 3", n, c)
	}
}

func TestParseCachegrind(t *testing.T) {
	s, err := ParseCachegrind(read(t, "here/cachegrind.out"))
	if err != nil {
		t.Fatal(err)
	}
	if s.D1 != "49152 B, 64 B, 12-way associative" || !strings.HasPrefix(s.LL, "276824064 B") {
		t.Errorf("geometry %q %q", s.D1, s.LL)
	}
	// The summary line, by hand: Dr 4013525 Dw 2162177, D1 101348+23050,
	// LL 7907+14726.
	refs, d1m, llm := 4013525.0+2162177, 101348.0+23050, 7907.0+14726
	if s.DataRefs() != uint64(refs) || s.D1Misses() != uint64(d1m) || s.LLDMisses() != uint64(llm) {
		t.Errorf("%v", s.Events)
	}
	if h, ok := s.D1HitRate(); !ok || !near(h, 1-d1m/refs) {
		t.Errorf("D1 hit rate %v", h)
	}
	if h, ok := s.LLHitRate(); !ok || !near(h, 1-llm/d1m) {
		t.Errorf("LL hit rate %v", h)
	}
	d := s.Sub(CacheSim{Events: map[string]uint64{"Dr": 13525, "Dw": 1e9}})
	if d.Events["Dr"] != 4000000 || d.Events["Dw"] != 0 {
		t.Errorf("Sub: %v", d.Events)
	}
	for _, f := range s.Figures("hot_") {
		if !f.Measured || f.Source != SourceCachegrind || !strings.HasPrefix(f.Name, "hot_") {
			t.Errorf("figure %+v", f)
		}
	}
	for _, bad := range []string{"", "events: Ir\nsummary: 12\n", "events: Ir D1mr\nsummary: 1 x\n"} {
		if _, err := ParseCachegrind([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	// Callgrind's format: events in another order, totals:.
	cg := "events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\ntotals: 1000 300 100 5 30 10 1 4 2\n"
	s, err = ParseCachegrind([]byte(cg))
	if err != nil || s.DataRefs() != 400 || s.D1Misses() != 40 || s.LLDMisses() != 6 {
		t.Errorf("callgrind format: %v %v", s.Events, err)
	}
}

func TestFigureJSON(t *testing.T) {
	fs := []Figure{Measured("d1_hit_rate", 0.98, "", SourceCachegrind), NotMeasured("hitm_share", NoCounters)}
	b, err := json.Marshal(fs)
	if err != nil {
		t.Fatal(err)
	}
	var back []Figure
	if err := json.Unmarshal(b, &back); err != nil || !slices.Equal(back, fs) {
		t.Errorf("round trip %s: %+v %v", b, back, err)
	}
	if s := fs[1].String(); s != "hitm_share: "+NoCounters {
		t.Errorf("%q", s)
	}
	if s := fs[0].String(); s != "d1_hit_rate 0.98 (cachegrind)" {
		t.Errorf("%q", s)
	}
}

// TestPerfLive runs perf list and perf stat -p on this process: the
// output parses, and the event asked for is reported (counted or not).
func TestPerfLive(t *testing.T) {
	testenv.Tool(t, "perf")
	ctx := context.Background()
	evs, err := Perf{}.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(evs, func(e PerfEvent) bool { return e.Name == "task-clock" && e.Kind == "Software event" }) {
		t.Errorf("perf list lacks task-clock: %d events", len(evs))
	}
	cs, err := Perf{}.Stat(ctx, os.Getpid(), []string{"task-clock"}, 200*time.Millisecond)
	if err != nil {
		t.Skipf("perf stat -p not permitted here: %v", err)
	}
	if len(cs) != 1 || cs[0].Event != "task-clock" {
		t.Errorf("perf stat: %+v", cs)
	}
	if _, err := (Perf{}).Stat(ctx, os.Getpid(), nil, time.Millisecond); err == nil {
		t.Error("perf stat without events")
	}
}

// TestCallgrindZeroDump runs a real program under callgrind, finds it by
// its output file, zeroes its counters and dumps them while it runs: the
// dump parses, is labelled callgrind and has the simulated geometry asked
// for.
func TestCallgrindZeroDump(t *testing.T) {
	testenv.Tools(t, "valgrind", "callgrind_control")
	dir := t.TempDir()
	pattern := filepath.Join(dir, "callgrind.%p.out")
	d1, ll := Geometry{Size: 16 << 10, Assoc: 8, Line: 64}, Geometry{Size: 64 << 10, Assoc: 8, Line: 64}
	args := append(CallgrindArgs(pattern, d1, ll), "sh", "-c", "while :; do sleep 0.05; done")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var cg *Callgrind
	for {
		var err error
		if cg, err = FindCallgrind(pattern); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("callgrind never started: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if cg.PID != cmd.Process.Pid {
		t.Errorf("found pid %d, started %d", cg.PID, cmd.Process.Pid)
	}
	if err := cg.Zero(ctx); err != nil {
		t.Fatal(err)
	}
	sim, err := cg.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sim.Source != SourceCallgrind || !strings.HasPrefix(sim.D1, "16384 B, 64 B, 8-way") || !strings.HasPrefix(sim.LL, "65536 B") {
		t.Errorf("dump %+v", sim)
	}
	if _, err := os.Stat(cg.Out + ".1"); err != nil {
		t.Errorf("first dump file: %v", err)
	}
	if _, err := FindCallgrind(filepath.Join(dir, "nothing.out")); err == nil {
		t.Error("a pattern without the pid placeholder found a process")
	}
}
