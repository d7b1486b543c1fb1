package tasks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/engram/m18-gate/runners/dataset"
	"github.com/engram/m18-gate/runners/instrument"
	"github.com/engram/m18-gate/runners/result"
)

// NUMAConfig is how task 010 measures NUMA locality. NUMABudget returns
// each budget's; callers may adjust a copy.
type NUMAConfig struct {
	// Nodes memories are stored in the target; each policy runs
	// Repetitions rounds of Recalls recalls of K.
	Nodes, Recalls, K, Repetitions int
	// PerfDuration is how long node-load counters count (with counters).
	PerfDuration time.Duration
	// NodeDir and ProcRoot are where the topology and the target's
	// threads and pages are read (/sys/devices/system/node, /proc).
	NodeDir, ProcRoot string
	// Criteria: local share > MinLocalShare; remote/local p50 ratio <
	// MaxRemotePenalty.
	MinLocalShare, MaxRemotePenalty float64
}

// NUMABudget returns task 010's configuration for a budget.
func NUMABudget(b Budget) NUMAConfig {
	c := NUMAConfig{K: 10, NodeDir: "/sys/devices/system/node", ProcRoot: "/proc", MinLocalShare: 0.8, MaxRemotePenalty: 2}
	switch b {
	case BudgetNightly:
		c.Nodes, c.Recalls, c.Repetitions, c.PerfDuration = 4000, 500, 10, 20*time.Second
	case BudgetFull:
		c.Nodes, c.Recalls, c.Repetitions, c.PerfDuration = 100_000, 2000, 20, time.Minute
	default:
		c.Nodes, c.Recalls, c.Repetitions, c.PerfDuration = 2000, 100, 5, 5*time.Second
	}
	return c
}

// NUMAPolicy is one numactl policy the target runs under.
type NUMAPolicy struct {
	Name string   `json:"name"`
	Args []string `json:"args"`
}

// NUMAPolicies returns the policies task 010 compares on a machine with
// these nodes: local (CPUs and memory on the first node), remote (CPUs on
// the first, memory on the second), interleave (memory over all) and
// default (no numactl). Fewer than two nodes give none.
func NUMAPolicies(nodes []instrument.Node) []NUMAPolicy {
	if len(nodes) < 2 {
		return nil
	}
	a, b := strconv.Itoa(nodes[0].ID), strconv.Itoa(nodes[1].ID)
	return []NUMAPolicy{
		{"local", []string{"numactl", "--cpunodebind=" + a, "--membind=" + a}},
		{"remote", []string{"numactl", "--cpunodebind=" + a, "--membind=" + b}},
		{"interleave", []string{"numactl", "--interleave=all"}},
		{"default", nil},
	}
}

// PlacementFigures is where a process left to itself runs and keeps its
// memory.
type PlacementFigures struct {
	// ThreadNodes are the nodes its threads last ran on; NodesUsed of
	// Nodes; CPUsUsed distinct CPUs.
	ThreadNodes []int `json:"thread_nodes"`
	NodesUsed   int   `json:"nodes_used"`
	Nodes       int   `json:"nodes"`
	CPUsUsed    int   `json:"cpus_used"`
	Threads     int   `json:"threads"`
	// BytesByNode is its resident pages per node (numa_maps).
	BytesByNode map[string]int64 `json:"bytes_by_node"`
	// NumastatMiB is numastat -p's MiB per node, a cross-check of
	// BytesByNode (absent without numastat).
	NumastatMiB map[string]float64 `json:"numastat_mib,omitempty"`
	// LocalShare is the share of its pages on the nodes its threads run on.
	LocalShare instrument.Figure `json:"local_share"`
	// Spread: its threads use every node when there are at least as many
	// threads as nodes.
	Spread bool `json:"spread"`
}

// Placement judges a process's placement from its threads, its pages and
// the machine's nodes.
func Placement(threads []instrument.Thread, pages instrument.Placement, nodes []instrument.Node) PlacementFigures {
	used := map[int]bool{}
	for _, t := range threads {
		if n := instrument.NodeOfCPU(nodes, t.LastCPU); n >= 0 {
			used[n] = true
		}
	}
	var tn []int
	for n := range used {
		tn = append(tn, n)
	}
	slices.Sort(tn)
	nu, cu := instrument.Spread(threads, nodes)
	p := PlacementFigures{ThreadNodes: tn, NodesUsed: nu, Nodes: len(nodes), CPUsUsed: cu, Threads: len(threads), BytesByNode: map[string]int64{}}
	for n, b := range pages.BytesByNode {
		p.BytesByNode[strconv.Itoa(n)] = b
	}
	if share, ok := pages.ShareOn(tn); ok {
		p.LocalShare = instrument.Measured("local_share", share, "", instrument.SourceNumaMaps)
		p.LocalShare.Note = "resident pages on the nodes the threads last ran on"
	} else {
		p.LocalShare = instrument.NotMeasured("local_share", "numa_maps lists no pages with a node")
	}
	p.Spread = len(threads) < len(nodes) || nu == len(nodes)
	return p
}

// CounterLocality is the share of node loads that were local, 1 −
// node-load-misses / node-loads.
func CounterLocality(cs []instrument.Count) instrument.Figure {
	l, ok1 := instrument.Lookup(cs, "node-loads")
	m, ok2 := instrument.Lookup(cs, "node-load-misses")
	if !ok1 || !ok2 || l <= 0 {
		return instrument.NotMeasured("local_share", "perf counted no node-loads/node-load-misses on this CPU")
	}
	f := instrument.Measured("local_share", 1-m/l, "", instrument.SourcePerf)
	f.Note = "1 − node-load-misses / node-loads"
	return f
}

// NUMAPolicyRun is one policy's measurement.
type NUMAPolicyRun struct {
	Policy NUMAPolicy `json:"policy"`
	// P50Ms, P99Ms and Throughput are per repetition.
	P50Ms      []float64 `json:"p50_ms"`
	P99Ms      []float64 `json:"p99_ms"`
	Throughput []float64 `json:"throughput"`
}

// NUMAReport is task 010's section of the result document.
type NUMAReport struct {
	Budget string `json:"budget"`
	Nodes  int    `json:"nodes"`
	// Runs holds each policy's figures.
	Runs []NUMAPolicyRun `json:"runs,omitempty"`
	// RemotePenalty is remote/local p50 (and P99Penalty p99) with 95 %
	// intervals: [ratio, low, high].
	RemotePenalty []float64 `json:"remote_penalty,omitempty"`
	P99Penalty    []float64 `json:"p99_penalty,omitempty"`
	// Placement is the default policy's (the target left to itself).
	Placement *PlacementFigures `json:"placement,omitempty"`
	// Locality is the counters' local share (or why not measured).
	Locality instrument.Figure `json:"locality"`
	Skipped  []string          `json:"skipped,omitempty"`
	Checks   []result.Check    `json:"checks"`
}

// NUMA runs task 010: on a machine with two or more NUMA nodes, the target
// under each numactl policy, comparing recall latency and throughput, its
// placement left to itself, and its locality from counters. On one node
// it is skipped with the reason.
func NUMA(ctx context.Context, env Env, cfg NUMAConfig) (*Outcome, error) {
	start := time.Now()
	rep := &NUMAReport{Budget: string(env.Budget)}
	nodes, err := instrument.ReadNodes(cfg.NodeDir)
	if err != nil {
		return nil, fmt.Errorf("task 010: %w", err)
	}
	rep.Nodes = len(nodes)
	fp := env.Hardware
	fp.NUMANodes = max(len(nodes), 1)
	skips := HardwareSkips(fp, onPath)
	rep.Skipped = skipsOf(skips, "010")
	rep.Locality = instrument.NotMeasured("local_share", "")
	if why, ok := skipReason(skips, "010", "NUMA placement and policies"); ok {
		rep.Locality.Note = why
		return &Outcome{Document: hwDocument(env, "010", "NUMA cross-socket", start, rep), Skipped: rep.Skipped}, nil
	}
	if why, ok := skipReason(skips, "010", "NUMA policies (numactl)"); ok {
		rep.Locality.Note = why
		return &Outcome{Document: hwDocument(env, "010", "NUMA cross-socket", start, rep), Skipped: rep.Skipped}, nil
	}
	ienv, why := instrumentedEnv(env)
	if why != "" {
		rep.Skipped = append(rep.Skipped, "NUMA policies: "+why)
		rep.Locality.Note = why
		return &Outcome{Document: hwDocument(env, "010", "NUMA cross-socket", start, rep), Skipped: rep.Skipped}, nil
	}
	data := hwData(env.Seed, cfg.Nodes)
	for _, pol := range NUMAPolicies(nodes) {
		progressf(env, "010 %s: %s\n", pol.Name, strings.Join(pol.Args, " "))
		run, placement, loc, err := numaPolicyRun(ctx, ienv, cfg, data, pol, nodes)
		if err != nil {
			return nil, fmt.Errorf("task 010 %s: %w", pol.Name, err)
		}
		rep.Runs = append(rep.Runs, run)
		if pol.Name == "default" {
			rep.Placement, rep.Locality = placement, loc
		}
	}
	local, remote := rep.Runs[0], rep.Runs[1]
	m, lo, hi := logRatioInterval(local.P50Ms, remote.P50Ms)
	rep.RemotePenalty = []float64{m, lo, hi}
	m, lo, hi = logRatioInterval(local.P99Ms, remote.P99Ms)
	rep.P99Penalty = []float64{m, lo, hi}
	rep.Checks = append(rep.Checks, check("remote_penalty_p50", rep.RemotePenalty[0], "<", cfg.MaxRemotePenalty, "×"))
	share := rep.Locality
	if !share.Measured && rep.Placement != nil {
		share = rep.Placement.LocalShare
	}
	if share.Measured {
		c := check("numa_local_share", share.Value, ">", cfg.MinLocalShare, "")
		c.Message += " (" + share.Source + ")"
		rep.Checks = append(rep.Checks, c)
	}
	if rep.Placement != nil {
		c := checkAs("threads_spread_over_nodes", float64(rep.Placement.NodesUsed), "=", float64(rep.Placement.Nodes), " nodes", rep.Placement.Spread)
		rep.Checks = append(rep.Checks, c)
	}
	return &Outcome{Document: hwDocument(env, "010", "NUMA cross-socket", start, rep), Checks: rep.Checks, Skipped: rep.Skipped}, nil
}

// numaPolicyRun starts the target under pol, stores the memories and times
// the repetitions; under the default policy it also reads the target's
// placement, and its locality from counters where they exist.
func numaPolicyRun(ctx context.Context, env Env, cfg NUMAConfig, data *dataset.Generator, pol NUMAPolicy, nodes []instrument.Node) (NUMAPolicyRun, *PlacementFigures, instrument.Figure, error) {
	run := NUMAPolicyRun{Policy: pol}
	loc := instrument.NotMeasured("local_share", instrument.NoCounters)
	srv, err := StartServer(ctx, env, ServerParams{Values: map[string]string{"instrument": ShellJoin(pol.Args), "simd": "on"}})
	if err != nil {
		return run, nil, loc, err
	}
	defer srv.Close()
	c := newHWClient(srv.URL, data)
	defer c.close()
	if err := c.store(ctx, "m18-numa", 0, cfg.Nodes); err != nil {
		return run, nil, loc, err
	}
	for r := range cfg.Repetitions {
		h := hdr.New(1, int64(time.Hour/time.Microsecond), 3)
		begin := time.Now()
		for q := range cfg.Recalls {
			t := time.Now()
			if _, err := c.recall(ctx, "m18-numa", uint64((r*cfg.Recalls+q)*7919%cfg.Nodes), cfg.K); err != nil {
				return run, nil, loc, err
			}
			_ = h.RecordValue(max(time.Since(t).Microseconds(), 1))
		}
		el := time.Since(begin).Seconds()
		run.P50Ms = append(run.P50Ms, float64(h.ValueAtQuantile(50))/1000)
		run.P99Ms = append(run.P99Ms, float64(h.ValueAtQuantile(99))/1000)
		run.Throughput = append(run.Throughput, float64(cfg.Recalls)/el)
	}
	if pol.Name != "default" {
		return run, nil, loc, nil
	}
	if srv.PID == 0 {
		return run, nil, instrument.NotMeasured("local_share", "the target's pid is unknown"), nil
	}
	threads, err := instrument.Threads(cfg.ProcRoot, srv.PID)
	if err != nil {
		return run, nil, loc, err
	}
	b, err := os.ReadFile(filepath.Join(cfg.ProcRoot, strconv.Itoa(srv.PID), "numa_maps"))
	if err != nil {
		return run, nil, loc, err
	}
	pages, err := instrument.ParseNumaMaps(b)
	if err != nil {
		return run, nil, loc, err
	}
	p := Placement(threads, pages, nodes)
	if onPath("numastat") {
		if mib, err := instrument.Numastat(ctx, srv.PID); err == nil {
			p.NumastatMiB = map[string]float64{}
			for n, v := range mib {
				p.NumastatMiB[strconv.Itoa(n)] = v
			}
		}
	}
	if env.Hardware.PerfCounters {
		evs, err := instrument.Perf{}.List(ctx)
		if err == nil {
			wl := cacheWorkload{name: "recall", send: func(ctx context.Context, c *hwClient) (int, error) {
				_, err := c.recall(ctx, "m18-numa", 0, cfg.K)
				return 1, err
			}}
			counts, err := perfWorkloads(ctx, env, srv.PID, instrument.ChooseEvents(evs, instrument.NodeEvents), cfg.PerfDuration, c, []cacheWorkload{wl})
			if err == nil {
				loc = CounterLocality(counts["recall"])
			} else {
				loc.Note = err.Error()
			}
		}
	}
	return run, &p, loc, nil
}
