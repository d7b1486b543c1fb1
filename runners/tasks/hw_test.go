package tasks

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/instrument"
	"github.com/engram/m18-gate/runners/result"
	"github.com/engram/m18-gate/runners/target"
)

// instrumentedChild is a --target-command serving the reference target
// from this test binary, with {instrument} in front of it.
func instrumentedChild(t *testing.T, o target.Options) string {
	t.Helper()
	return strings.Replace(childCommand(t, o), " exec ", " exec {instrument} ", 1)
}

// writeReadBack writes doc as a result file and reads it back.
func writeReadBack(t *testing.T, doc *result.Document) *result.Document {
	t.Helper()
	path := filepath.Join(t.TempDir(), "result.json")
	if err := result.WriteFile(path, doc); err != nil {
		t.Fatalf("write: %v", err)
	}
	back, err := result.ReadFile(path)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	return back
}

// hwRoundTrip writes the outcome's document, reads it back strictly and
// decodes task id's section into v, refusing fields v does not have.
func hwRoundTrip(t *testing.T, out *Outcome, id string, v any) {
	t.Helper()
	b, err := json.Marshal(writeReadBack(t, out.Document).Tasks[id])
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("Tasks[%q] does not decode into %T: %v", id, v, err)
	}
}

func figure(t *testing.T, fs []instrument.Figure, name string) instrument.Figure {
	t.Helper()
	for _, f := range fs {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no figure %s in %v", name, fs)
	return instrument.Figure{}
}

func TestHardwareSkips(t *testing.T) {
	all := func(string) bool { return true }
	none := func(string) bool { return false }
	for _, tt := range []struct {
		name string
		f    result.Fingerprint
		have func(string) bool
		want []string // task/part
	}{
		{"this runner: 1 node, no counters", result.Fingerprint{NUMANodes: 1}, all,
			[]string{"010/NUMA placement and policies", "010/locality from node-load counters", "012/line bouncing (perf c2c HITM)", "013/prefetch coverage from counters"}},
		{"no valgrind either", result.Fingerprint{NUMANodes: 1}, none,
			[]string{"010/NUMA placement and policies", "010/locality from node-load counters", "012/line bouncing (perf c2c HITM)", "013/prefetch coverage from counters",
				"012/cache hit rates", "013/sequential and random miss rates"}},
		{"2 sockets with counters", result.Fingerprint{NUMANodes: 2, PerfCounters: true}, all, nil},
		{"2 sockets without numactl", result.Fingerprint{NUMANodes: 2, PerfCounters: true}, none, []string{"010/NUMA policies (numactl)"}},
	} {
		var got []string
		for _, s := range HardwareSkips(tt.f, tt.have) {
			got = append(got, s.Task+"/"+s.Part)
			if s.Reason == "" || len(s.Labels) == 0 {
				t.Errorf("%s: %+v has no reason or labels", tt.name, s)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n got %v\nwant %v", tt.name, got, tt.want)
		}
	}
	s := HardwareSkips(result.Fingerprint{NUMANodes: 1}, all)
	if s[0].Reason != "needs 2 or more NUMA nodes, this runner has 1" || s[2].Reason != instrument.NoCounters {
		t.Errorf("reasons: %q, %q", s[0].Reason, s[2].Reason)
	}
}

// TestNUMADecisions runs 010's decisions on a 2-socket fixture: the
// policies, the placement of a process left to itself (spread or not,
// pages local or not) and the counters' locality.
func TestNUMADecisions(t *testing.T) {
	nodes, err := instrument.ReadNodes("testdata/two-socket/node") // node0 CPUs 0-7,16-23, node1 8-15,24-31
	if err != nil {
		t.Fatal(err)
	}
	pols := NUMAPolicies(nodes)
	if len(pols) != 4 || strings.Join(pols[1].Args, " ") != "numactl --cpunodebind=0 --membind=1" || pols[3].Args != nil {
		t.Errorf("policies %+v", pols)
	}
	if NUMAPolicies(nodes[:1]) != nil {
		t.Error("policies on one node")
	}
	// numa_maps of a process: 900 pages on node 0, 100 on node 1, and 2 MiB
	// huge pages: 2 on node 1.
	maps := "7f00 default anon=900 N0=900 kernelpagesize_kB=4\n7f10 default anon=100 N1=100 kernelpagesize_kB=4\n7f20 default huge N1=2 kernelpagesize_kB=2048\n"
	pages, err := instrument.ParseNumaMaps([]byte(maps))
	if err != nil {
		t.Fatal(err)
	}
	b0, b1 := 900*4096.0, 100*4096.0+2*2048*1024.0
	for _, tt := range []struct {
		name    string
		cpus    []int
		spread  bool
		local   float64
		tnodes  []int
		measure bool
	}{
		{"threads on both sockets", []int{0, 3, 9, 17}, true, 1, []int{0, 1}, true},
		{"threads on socket 0 only", []int{0, 1, 2, 16}, false, b0 / (b0 + b1), []int{0}, true},
		{"threads on socket 1 only", []int{8, 9, 10, 24}, false, b1 / (b0 + b1), []int{1}, true},
		{"one thread", []int{5}, true, b0 / (b0 + b1), []int{0}, true},
	} {
		var ts []instrument.Thread
		for i, c := range tt.cpus {
			ts = append(ts, instrument.Thread{TID: 100 + i, LastCPU: c})
		}
		p := Placement(ts, pages, nodes)
		if p.Spread != tt.spread || !slices.Equal(p.ThreadNodes, tt.tnodes) {
			t.Errorf("%s: spread %v nodes %v, want %v %v", tt.name, p.Spread, p.ThreadNodes, tt.spread, tt.tnodes)
		}
		if !p.LocalShare.Measured || p.LocalShare.Source != instrument.SourceNumaMaps || math.Abs(p.LocalShare.Value-tt.local) > 1e-12 {
			t.Errorf("%s: local share %+v, want %v", tt.name, p.LocalShare, tt.local)
		}
	}
	if p := Placement(nil, instrument.Placement{}, nodes); p.LocalShare.Measured {
		t.Error("local share of no pages measured")
	}
	cs, err := instrument.ParsePerfStat([]byte("1000,,node-loads,1,100.00,,\n150,,node-load-misses,1,100.00,,\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f := CounterLocality(cs); !f.Measured || f.Value != 0.85 || f.Source != instrument.SourcePerf {
		t.Errorf("counter locality %+v", f)
	}
	if f := CounterLocality(nil); f.Measured {
		t.Error("locality without counts")
	}
}

// TestNUMASkippedHere runs task 010 from the catalogue on this machine's
// topology: one node, so skipped with the reason, and the section says so.
func TestNUMASkippedHere(t *testing.T) {
	nodes, err := instrument.ReadNodes("/sys/devices/system/node")
	if err != nil || len(nodes) > 1 {
		t.Skipf("this machine has %d NUMA nodes (%v): the skip is for one", len(nodes), err)
	}
	env := Env{Budget: BudgetPR, Seed: 1, Dir: t.TempDir(), Hardware: result.Fingerprint{NUMANodes: 1}}
	out, err := lookup(t, "010").Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Checks) != 0 || len(out.Skipped) == 0 || !strings.Contains(out.Skipped[0], "needs 2 or more NUMA nodes, this runner has 1") {
		t.Errorf("checks %v skipped %v", out.Checks, out.Skipped)
	}
	var rep NUMAReport
	hwRoundTrip(t, out, "010", &rep)
	if rep.Locality.Measured || !strings.Contains(rep.Locality.Note, "NUMA nodes") || rep.Runs != nil {
		t.Errorf("section %+v", rep)
	}
}

// TestArchSIMDFallback runs task 011 against the built-in target: the
// scalar fallback returns the same memories in the same order, and its
// cost is measured with an interval.
func TestArchSIMDFallback(t *testing.T) {
	env := Env{Budget: BudgetPR, Seed: 7, Dir: t.TempDir(), Hardware: result.Fingerprint{Arch: "x86_64"}}
	cfg := ArchBudget(BudgetPR)
	cfg.Nodes, cfg.Queries, cfg.Rounds, cfg.RoundQueries = 600, 30, 4, 10
	out, err := Arch(context.Background(), env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Passed() {
		t.Errorf("checks failed: %v", out.Checks)
	}
	var rep ArchReport
	hwRoundTrip(t, out, "011", &rep)
	if rep.Mismatches != 0 || rep.AnswersDigest != rep.ScalarAnswersDigest || rep.AnswersDigest == "" {
		t.Errorf("answers differ: %d mismatches, %s vs %s", rep.Mismatches, rep.AnswersDigest, rep.ScalarAnswersDigest)
	}
	if rep.MaxScoreDiff > 1e-5 {
		t.Errorf("scores differ by %v", rep.MaxScoreDiff)
	}
	if rep.DatasetDigest != DatasetDigest(7, 600) || rep.DatasetDigest == DatasetDigest(8, 600) {
		t.Errorf("dataset digest %s not the seed's", rep.DatasetDigest)
	}
	c := rep.Cost
	if c == nil || c.Rounds != 4 || c.SIMDRecallUs <= 0 || c.ScalarRecallUs <= 0 || !(c.RatioLow <= c.Ratio && c.Ratio <= c.RatioHigh) {
		t.Errorf("cost %+v", c)
	}
}

// TestArchCommandNeedsSIMDPlaceholder: a target command without {simd}
// runs the SIMD path only and says why.
func TestArchCommandNeedsSIMDPlaceholder(t *testing.T) {
	env := Env{Budget: BudgetPR, Seed: 7, Dir: t.TempDir(), TargetCommand: strings.Replace(instrumentedChild(t, target.Options{}), "{instrument} ", "", 1)}
	out, err := Arch(context.Background(), env, ArchConfig{Nodes: 50, Queries: 5, K: 5, Rounds: 2, RoundQueries: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Skipped) != 1 || !strings.Contains(out.Skipped[0], "{simd}") {
		t.Errorf("skipped %v", out.Skipped)
	}
}

func TestRatioIntervals(t *testing.T) {
	// Log ratios 0.1, 0.2, 0.3: mean 0.2, sd 0.1, t(0.975, 2) = 4.302653.
	mid, lo, hi := ratioInterval([]float64{0.1, 0.2, 0.3})
	h := 4.302653 * 0.1 / math.Sqrt(3)
	if math.Abs(mid-math.Exp(0.2)) > 1e-9 || math.Abs(lo-math.Exp(0.2-h)) > 1e-5 || math.Abs(hi-math.Exp(0.2+h)) > 1e-5 {
		t.Errorf("ratioInterval %v %v %v", mid, lo, hi)
	}
}

// TestCompareArchitectures puts x86_64 and arm64 results side by side;
// the ratio is the ratio of geometric means, computed here by hand.
func TestCompareArchitectures(t *testing.T) {
	doc := func(arch, hash string, p50s ...float64) *result.Document {
		d := &result.Document{Run: result.Run{Scenario: "ci/smoke", Hardware: result.Fingerprint{Arch: arch, Hash: hash}}}
		for _, p := range p50s {
			var r result.Repetition
			r.Overall.Latency.P50, r.Overall.Latency.P99, r.Overall.Throughput = p, 2*p, 1000/p
			d.Repetitions = append(d.Repetitions, r)
		}
		return d
	}
	docs := []*result.Document{doc("aarch64", "arm1", 2, 4), doc("x86_64", "x1", 1, 1, 1), doc("x86_64", "x1", 1),
		{Run: result.Run{Scenario: "other", Hardware: result.Fingerprint{Arch: "x86_64"}}, P50LatencyMs: 1, P99LatencyMs: 2, OverallThroughput: 5}}
	cs := CompareArchitectures(docs)
	if len(cs) != 3 {
		t.Fatalf("%d comparisons: %+v", len(cs), cs)
	}
	p50 := cs[0]
	if p50.Metric != "p50_ms" || p50.Base != "x86_64" || p50.Other != "arm64" || p50.BaseSamples != 4 || p50.OtherSamp != 2 || p50.OtherHash != "arm1" {
		t.Errorf("%+v", p50)
	}
	// Geometric mean of 2 and 4 is √8; of 1,1,1,1 is 1.
	if math.Abs(p50.Ratio-math.Sqrt(8)) > 1e-9 || !strings.Contains(p50.Note, "not a regression verdict") {
		t.Errorf("ratio %v, want √8", p50.Ratio)
	}
	if thr := cs[2]; thr.Metric != "throughput" || math.Abs(thr.Ratio-1/math.Sqrt(8)) > 1e-9 {
		t.Errorf("throughput %+v", thr)
	}
}

func TestInstrumentedEnv(t *testing.T) {
	if _, why := instrumentedEnv(Env{Endpoint: "http://127.0.0.1:1"}); !strings.Contains(why, "--endpoint") {
		t.Errorf("endpoint: %q", why)
	}
	if _, why := instrumentedEnv(Env{TargetCommand: "engram --port {port}"}); !strings.Contains(why, "{instrument}") {
		t.Errorf("command without placeholder: %q", why)
	}
	if e, why := instrumentedEnv(Env{TargetCommand: "{instrument} engram --port {port}"}); why != "" || e.TargetCommand != "{instrument} engram --port {port}" {
		t.Errorf("command: %q %q", e.TargetCommand, why)
	}
	// The built-in target, with m18-target on PATH.
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "m18-target"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	e, why := instrumentedEnv(Env{TargetOptions: target.Options{ScalarDot: true, Counters: target.CountersShared, Slowdown: 50, StallEvery: 2 * time.Second, StallFor: 100 * time.Millisecond}})
	want := "{instrument} " + filepath.Join(bin, "m18-target") + " --addr {addr} --seed {seed} --slowdown 50 --slowdown-of handler --stall-every 2s --stall-for 100ms --simd off --counters shared-line"
	if why != "" || e.TargetCommand != want || e.TargetOptions != (target.Options{}) {
		t.Errorf("built in: %q %q", e.TargetCommand, why)
	}
	// m18-target found first; else the reference target's command given.
	ref := []string{"/opt/my tools/m18-run", "target"}
	if e, _ := instrumentedEnv(Env{ReferenceTarget: ref}); !strings.HasPrefix(e.TargetCommand, "{instrument} "+filepath.Join(bin, "m18-target")+" ") {
		t.Errorf("m18-target on PATH and a reference command: %q", e.TargetCommand)
	}
	t.Setenv("PATH", t.TempDir())
	if e, why := instrumentedEnv(Env{ReferenceTarget: ref}); why != "" || e.TargetCommand != "{instrument} '/opt/my tools/m18-run' target --addr {addr} --seed {seed}" {
		t.Errorf("reference command: %q %q", e.TargetCommand, why)
	}
	if _, why := instrumentedEnv(Env{}); !strings.Contains(why, "m18-target") {
		t.Errorf("no m18-target: %q", why)
	}
}

// valgrindEnv is the environment of the cache-simulation proofs: the pr
// budget against the reference target from this test binary, under the
// task's instrument. It skips the test without valgrind.
func valgrindEnv(t *testing.T) Env {
	t.Helper()
	testenv.Tools(t, "valgrind", "callgrind_control")
	return Env{Budget: BudgetPR, Seed: 3, Dir: t.TempDir(), TargetCommand: instrumentedChild(t, target.Options{})}
}

// TestCacheLinesCachegrind is task 012's proof on a runner without
// counters: cachegrind separates the hot set from a working set larger
// than the simulated cache, by the lines its embeddings hold, and line
// bouncing is reported as not measured.
func TestCacheLinesCachegrind(t *testing.T) {
	env := valgrindEnv(t)
	cfg := CacheLineBudget(BudgetPR)
	cfg.Recalls = 20
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := CacheLines(ctx, env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var rep CacheLineReport
	hwRoundTrip(t, out, "012", &rep)
	if rep.Source != instrument.SourceCachegrind || len(rep.Runs) != 2 || !strings.Contains(rep.Geometry, "262144 B") {
		t.Fatalf("section %+v", rep)
	}
	hot, large := figure(t, rep.Figures, "hot_hit_rate"), figure(t, rep.Figures, "large_hit_rate")
	if !hot.Measured || !large.Measured || hot.Value <= large.Value || hot.Source != instrument.SourceCachegrind {
		t.Errorf("hit rates hot %v, large %v", hot, large)
	}
	// Each recall over the large space streams its embeddings through the
	// cache: LargeNodes × 3072 B / 64 B lines more LL misses than a hot
	// recall, give or take a fifth.
	hm := figure(t, rep.Runs[0].Figures, "hot_ll_misses_per_request").Value
	lm := figure(t, rep.Runs[1].Figures, "large_ll_misses_per_request").Value
	want := float64(cfg.LargeNodes) * target.Dim * 4 / 64
	if d := lm - hm; d < 0.8*want || d > 1.2*want {
		t.Errorf("large − hot LL misses per recall = %.0f, want about %.0f (the embeddings' lines)", d, want)
	}
	if h := figure(t, rep.Figures, "hitm_share"); h.Measured || h.Note != instrument.NoCounters {
		t.Errorf("hitm %+v", h)
	}
	if len(out.Checks) != 1 || out.Checks[0].Name != "hot_set_hit_rate" || !out.Checks[0].Passed {
		t.Errorf("checks %v", out.Checks)
	}
	if !slices.ContainsFunc(out.Skipped, func(s string) bool {
		return strings.Contains(s, "perf c2c") && strings.Contains(s, instrument.NoCounters)
	}) {
		t.Errorf("skipped %v", out.Skipped)
	}
}

// TestPrefetchCachegrind is task 013's proof on a runner without
// counters: the same memories read in the order they were stored and
// shuffled, under callgrind's cache simulation in one target process.
// The reference target lays memories out in storage order (records in
// chunks, their text in an arena), so reading in that order reuses lines
// the read before brought in, and shuffled reads do not: sequential order
// must miss the last level clearly less per memory read. Coverage needs
// counters (not measured here); the proxy is labelled as one.
func TestPrefetchCachegrind(t *testing.T) {
	env := valgrindEnv(t)
	cfg := PrefetchBudget(BudgetPR)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out, err := Prefetch(ctx, env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var rep PrefetchReport
	hwRoundTrip(t, out, "013", &rep)
	if rep.Source != instrument.SourceCallgrind || len(rep.Runs) != 3 || rep.Batch != 100 || !strings.Contains(rep.Geometry, "65536 B") {
		t.Fatalf("section %+v", rep)
	}
	for _, name := range []string{"sequential_miss_rate", "random_miss_rate"} {
		if f := figure(t, rep.Figures, name); !f.Measured || f.Source != instrument.SourceCallgrind || f.Value <= 0 {
			t.Errorf("%+v", f)
		}
	}
	per := map[string]float64{}
	for _, r := range rep.Runs {
		f := figure(t, r.Figures, r.Workload+"_ll_read_misses_per_read")
		if !f.Measured || r.Requests != cfg.Passes*cfg.Nodes || r.Unit != "read" {
			t.Errorf("%s: %d reads, %+v", r.Workload, r.Requests, f)
		}
		per[r.Workload] = f.Value
		t.Logf("%s: %.2f last-level read misses per memory read", r.Workload, f.Value)
	}
	// Reading in storage order saves about one line per contiguous
	// region a memory occupies (its record and its text): measured here
	// 2.2–3.4 lines a read (runners/README.md), against a spread of one
	// order's figure across runs under 0.6.
	if d := per["random"] - per["sequential"]; d < 1 {
		t.Errorf("random − sequential = %.2f last-level read misses per memory read, want ≥ 1 (storage order reuses lines)", d)
	}
	if per["same"] >= per["sequential"] {
		t.Errorf("reading one memory (%.2f) missed no less than reading all in order (%.2f): the working set fits the cache", per["same"], per["sequential"])
	}
	if f := figure(t, rep.Figures, "prefetch_coverage"); f.Measured || !strings.HasPrefix(f.Note, instrument.NoCounters) {
		t.Errorf("coverage %+v", f)
	}
	p := figure(t, rep.Figures, "prefetch_coverage_proxy")
	want := 1 - (per["sequential"]-per["same"])/(per["random"]-per["same"])
	if !p.Measured || !p.Proxy || math.Abs(p.Value-want) > 1e-9 || p.Value <= 0 || !strings.Contains(p.Note, "no prefetcher") {
		t.Errorf("proxy %+v, want %.4f", p, want)
	}
	if len(out.Checks) != 0 {
		t.Errorf("a criterion checked against a proxy: %v", out.Checks)
	}
}

func TestPrefetchFigures(t *testing.T) {
	if p := PrefetchProxy(30, 50, 10, instrument.SourceCallgrind); !p.Proxy || math.Abs(p.Value-0.5) > 1e-12 || p.Source != instrument.SourceCallgrind {
		t.Errorf("proxy %+v", p)
	}
	if p := PrefetchProxy(30, 9, 10, instrument.SourceCallgrind); p.Measured {
		t.Errorf("proxy measured when random misses no more than same: %+v", p)
	}
	cs, _ := instrument.ParsePerfStat([]byte("300,,L1-dcache-prefetches,1,100.00,,\n100,,L1-dcache-load-misses,1,100.00,,\n"))
	if f := PrefetchCoverage(cs); !f.Measured || f.Value != 0.75 {
		t.Errorf("coverage %+v", f)
	}
	cs, _ = instrument.ParsePerfStat([]byte("80,,l2_rqsts.pf_hit,1,100.00,,\n20,,l2_rqsts.pf_miss,1,100.00,,\n100,,L1-dcache-load-misses,1,100.00,,\n"))
	if f := PrefetchCoverage(cs); !f.Measured || f.Value != 0.5 {
		t.Errorf("intel coverage %+v", f)
	}
	if f := PrefetchCoverage(nil); f.Measured {
		t.Error("coverage without counts")
	}
}

func TestPerfHitRate(t *testing.T) {
	for _, tt := range []struct {
		csv  string
		want float64
		ok   bool
	}{
		{"1000,,L1-dcache-loads,1,100.00,,\n50,,L1-dcache-load-misses,1,100.00,,\n", 0.95, true},
		{"200,,cache-references,1,100.00,,\n20,,cache-misses,1,100.00,,\n", 0.9, true},
		{"<not supported>,,L1-dcache-loads,0,100.00,,\n", 0, false},
	} {
		cs, err := instrument.ParsePerfStat([]byte(tt.csv))
		if err != nil {
			t.Fatal(err)
		}
		f := perfHitRate("hot_hit_rate", cs)
		if f.Measured != tt.ok || math.Abs(f.Value-tt.want) > 1e-12 || (tt.ok && f.Source != instrument.SourcePerf) {
			t.Errorf("%q: %+v", tt.csv, f)
		}
	}
}

// TestArchCompareFiles: --compare results of two architectures give 011's
// cross-architecture report; an unreadable one is an error naming it.
func TestArchCompareFiles(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i, arch := range []string{"x86_64", "aarch64"} {
		d := &result.Document{Schema: result.SchemaVersion, Run: result.Run{Scenario: "ci/smoke", Seed: 1, Hardware: result.Fingerprint{Arch: arch, Hash: arch}},
			P50LatencyMs: float64(1 + i), P99LatencyMs: float64(2 + i), OverallThroughput: 100}
		f := filepath.Join(dir, arch+".json")
		if err := result.WriteFile(f, d); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	cfg := ArchConfig{Nodes: 40, Queries: 4, K: 5, Rounds: 2, RoundQueries: 2}
	env := Env{Budget: BudgetPR, Seed: 2, Dir: dir, Compare: files}
	out, err := Arch(context.Background(), env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var rep ArchReport
	hwRoundTrip(t, out, "011", &rep)
	if len(rep.CrossArch) != 3 || rep.CrossArch[0].Other != "arm64" || rep.CrossArch[0].Ratio != 2 {
		t.Errorf("cross-arch %+v", rep.CrossArch)
	}
	env.Compare = append(files, filepath.Join(dir, "missing.json"))
	if _, err := Arch(context.Background(), env, cfg); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}
