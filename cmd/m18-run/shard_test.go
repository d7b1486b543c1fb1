package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/engram/m18-gate/gate"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/result"
	"github.com/engram/m18-gate/runners/target"
	"github.com/engram/m18-gate/runners/tasks"
)

// TestMain lets the test binary act as m18-run when re-executed, so that
// the shard tests run several real m18-run processes (and run them in
// network namespaces).
func TestMain(m *testing.M) { testenv.MainAs(m, "M18_RUN_TEST_MAIN", run) }

// proofTOML is read-only (a merged and an unsharded run see the same
// store) and light: 600 ops/s, 0.6 s repetitions, no warm-up.
const proofTOML = `
name = "shard proof"
description = "read-only constant load for the sharding proof"
[duration]
total_seconds = 1
warmup_seconds = 0
[arrival]
pattern = "constant"
rate = 600.0
[operations]
store_weight = 0.0
recall_weight = 0.5
embedding_search_weight = 0.5
pattern_completion_weight = 0.0
[data]
num_nodes = 300
embedding_dim = 768
memory_spaces = 1
`

// fleet runs m18-run processes against one target.
type fleet struct {
	dir, scenario, endpoint string
	reps                    int
	duration, warmup        time.Duration
	rate                    float64  // ops/s (0: the scenario's)
	extra                   []string // flags after the shared ones (the last of a flag wins)
	// host returns the command prefix that runs shard i on its own host
	// (nil: this one).
	host func(i int) []string
}

func newFleet(t *testing.T, endpoint string, reps int) *fleet {
	t.Helper()
	dir := t.TempDir()
	sc := filepath.Join(dir, "proof.toml")
	if err := os.WriteFile(sc, []byte(proofTOML), 0o644); err != nil {
		t.Fatal(err)
	}
	return &fleet{dir: dir, scenario: sc, endpoint: endpoint, reps: reps, duration: 600 * time.Millisecond,
		host: func(int) []string { return nil }}
}

// args are the flags every run of the fleet shares.
func (f *fleet) args(out string) []string {
	return append([]string{"--scenario", f.scenario, "--endpoint", f.endpoint, "--repetitions", fmt.Sprint(f.reps),
		"--duration", f.duration.String(), "--warmup", f.warmup.String(), "--rate", fmt.Sprint(f.rate),
		"--seed", "42", "--quiet", "--output", out}, f.extra...)
}

// command is the m18-run process of shard i (or of an unsharded run) with
// args, on shard i's host.
func (f *fleet) command(i int, args ...string) (*exec.Cmd, *bytes.Buffer) {
	exe, _ := os.Executable()
	argv := append(append(f.host(i), exe), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "M18_RUN_TEST_MAIN=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

// shards starts n shards with a start time lead from now; late shards
// start 1.2 s after it has passed (later than a send may wait, so they
// skip what was due). It returns the processes (started) and
// their output files.
func (f *fleet) shards(t *testing.T, name string, n int, lead time.Duration, late map[int]bool) ([]*exec.Cmd, []*bytes.Buffer, []string) {
	t.Helper()
	startAt := time.Now().Add(lead).UTC().Format(time.RFC3339Nano)
	cmds, outs, files := make([]*exec.Cmd, n), make([]*bytes.Buffer, n), make([]string, n)
	start := func(i int) {
		files[i] = filepath.Join(f.dir, fmt.Sprintf("%s-shard-%d.json", name, i))
		cmds[i], outs[i] = f.command(i, append(f.args(files[i]), "--shard", fmt.Sprintf("%d/%d", i, n), "--start-at", startAt)...)
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if !late[i] {
			start(i)
		}
	}
	if len(late) > 0 {
		time.Sleep(lead + 1200*time.Millisecond)
		for i := range late {
			start(i)
		}
	}
	return cmds, outs, files
}

// wait waits for every shard and fails unless each exits 0 (or 4, which
// the merge then reports).
func wait(t *testing.T, cmds []*exec.Cmd, outs []*bytes.Buffer) {
	t.Helper()
	for i, c := range cmds {
		if err := c.Wait(); err != nil && c.ProcessState.ExitCode() != exitGenerator {
			t.Fatalf("shard %d: %v\n%s", i, err, outs[i])
		}
	}
}

// mergeFiles runs m18-run merge and returns its exit code, the document
// it wrote (nil if none) and its stderr.
func mergeFiles(t *testing.T, out string, files ...string) (int, *result.Document, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"merge", "--output", out}, files...), &stdout, &stderr)
	for _, p := range []string{out, out + ".partial"} {
		if d, err := result.ReadFile(p); err == nil {
			return code, d, stderr.String()
		}
	}
	return code, nil, stderr.String()
}

// mergeComplete merges the shards of a run that went through: exit 0, or
// 4 when this shared machine stalled the generators past the schedule's
// tolerance (every send still went out, late, and the merge says which
// shard slipped).
func mergeComplete(t *testing.T, out string, files []string) (d *result.Document, slipped bool) {
	t.Helper()
	code, d, msg := mergeFiles(t, out, files...)
	switch {
	case code == exitGenerator && strings.Contains(msg, "bottleneck") && len(d.Run.Sharding.Problems) > 0:
		return d, true
	case code != exitOK:
		t.Fatalf("merge exited %d: %s", code, msg)
	}
	return d, false
}

// unsharded runs the same schedule from one m18-run process on host i,
// writing DIR/NAME.json; slipped says its generator was the bottleneck
// (exit 4).
func (f *fleet) unsharded(t *testing.T, name string, i int) (path string, slipped bool) {
	t.Helper()
	out := filepath.Join(f.dir, name+".json")
	cmd, buf := f.command(i, f.args(out)...)
	if err := cmd.Run(); err != nil && cmd.ProcessState.ExitCode() != exitGenerator {
		t.Fatalf("unsharded run: %v\n%s", err, buf)
	}
	return out, cmd.ProcessState.ExitCode() == exitGenerator
}

// checkIdentities is the proof's bookkeeping on one merged run: its
// requests are exactly the schedule's (the unsharded run's, repetition by
// repetition) and its rate the sum of the shards'.
func checkIdentities(t *testing.T, mergedPath, unshardedPath string, shardFiles []string) {
	t.Helper()
	m, u := readDoc(t, mergedPath), readDoc(t, unshardedPath)
	if len(m.Repetitions) != len(u.Repetitions) {
		t.Fatalf("%d merged repetitions, %d unsharded", len(m.Repetitions), len(u.Repetitions))
	}
	for i, mr := range m.Repetitions {
		ur := u.Repetitions[i]
		if mr.Generator.Scheduled != ur.Generator.Scheduled || mr.Overall.Count != ur.Overall.Count || mr.Overall.Count != mr.Generator.Scheduled {
			t.Errorf("repetition %d: merged %d scheduled, %d measured; unsharded %d scheduled, %d measured: want all equal",
				mr.Index, mr.Generator.Scheduled, mr.Overall.Count, ur.Generator.Scheduled, ur.Overall.Count)
		}
	}
	var sum float64
	ids := map[string]bool{}
	for _, f := range shardFiles {
		d := readDoc(t, f)
		sum += d.OverallThroughput
		if ids[d.Run.RunID] {
			t.Errorf("two shards have run id %s", d.Run.RunID)
		}
		ids[d.Run.RunID] = true
	}
	if m.OverallThroughput != sum {
		t.Errorf("merged throughput %g, want the shards' sum %g", m.OverallThroughput, sum)
	}
}

func readDoc(t *testing.T, path string) *result.Document {
	t.Helper()
	d, err := result.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The equivalence proof's plan. The target answers every request after a
// fixed wait (target.Options.Work), so that a run's latency is that floor
// plus what the generators, the loopback and this shared machine add, and
// ±5 % of it is a margin a pair of runs can hold here; the total rate is
// modest (the generators and the target share 2 cores) and a phase holds
// the tasks.MinSamplesFor(0.99) requests its p99 needs.
const (
	proofWork  = 20 * time.Millisecond
	proofRate  = 500.0
	proofPhase = 2 * time.Second
	proofTries = 18 // pairs run at most, the slipped ones discarded
	// proofP99Threshold is p99's margin: ten requests beyond it in a run
	// of 1000 make it move with every stall of a few milliseconds, so it
	// is judged at a wider margin than p50; runners/README.md has the
	// measured spread.
	proofP99Threshold = 0.75
)

// proveEquivalence is the proof that sharding changes nothing: unsharded
// and n-shard runs of one schedule, interleaved in pairs (U S, S U, U S …)
// so that the machine's drift falls on both sides of a pair, each pair's
// identities checked; the gate compares the merged runs with the
// unsharded ones pair by pair (m18-gate compare --paired) and must find
// p50 unchanged within the default ±5 % and nothing regressed or improved,
// and p99, where every run holds the requests it needs, unchanged within
// proofP99Threshold. It does so sequentially, as the action's gate does
// (m18-gate compare --looks 6,9,12, each look at its share of alpha): a
// look at which a judged comparison is still inconclusive — too few pairs
// for this machine's noise, not a difference — measures the next look's
// pairs; the proof fails when the gate tells the sides apart at any look,
// or leaves a comparison undecided at the last. A pair whose generator
// slipped (its sends left late: by the engine's own rule the run
// describes the generator, not the target) is run again; if this machine
// is too busy for a look's clean pairs in proofTries, the equivalence is
// not judged further and the test says so.
func proveEquivalence(t *testing.T, f *fleet, shards int) {
	t.Helper()
	f.reps, f.duration, f.warmup, f.rate = 1, proofPhase, 300*time.Millisecond, proofRate
	looks := gate.Looks{6, 9, 12}
	var base, head []string
	var slipped []string
	p := 0
	for k, n := range looks {
		// Clean pairs up to this look, while proofTries can still reach it.
		for ; len(base) < n && proofTries-p >= n-len(base); p++ {
			var u, m string
			var files []string
			var uSlip, mSlip bool
			for side := range 2 {
				if side == p%2 {
					u, uSlip = f.unsharded(t, fmt.Sprintf("unsharded-%02d", p), 0)
					continue
				}
				var cmds []*exec.Cmd
				var outs []*bytes.Buffer
				cmds, outs, files = f.shards(t, fmt.Sprintf("pair-%02d", p), shards, 1500*time.Millisecond, nil)
				wait(t, cmds, outs)
				m = filepath.Join(f.dir, fmt.Sprintf("merged-%02d.json", p))
				_, mSlip = mergeComplete(t, m, files)
			}
			checkIdentities(t, m, u, files)
			ul, ml := readDoc(t, u).Repetitions[0].Overall.Latency, readDoc(t, m).Repetitions[0].Overall.Latency
			t.Logf("pair %2d: unsharded p50 %.3f ms p99 %.3f ms, merged p50 %.3f ms p99 %.3f ms, slipped %v/%v", p+1, ul.P50, ul.P99, ml.P50, ml.P99, uSlip, mSlip)
			if uSlip || mSlip {
				slipped = append(slipped, fmt.Sprintf("pair %d (unsharded %v, sharded %v)", p+1, uSlip, mSlip))
				continue
			}
			base, head = append(base, u), append(head, m)
		}
		if len(slipped) > 0 {
			t.Logf("a generator slipped on this busy machine in %d pairs, run again: %s", len(slipped), strings.Join(slipped, ", "))
		}
		if len(base) < n {
			t.Skipf("%d of %d pairs ran without a generator slipping, %d needed for look %d of %v: this machine is too busy to judge equivalence further (each pair's identities were checked)",
				len(base), p, n, k+1, looks)
		}
		undecided := judgeEquivalence(t, base, head, looks, k == len(looks)-1)
		if undecided == 0 || t.Failed() {
			return
		}
		t.Logf("look %d of %v: %d judged comparisons inconclusive at %d pairs: measuring the next look's pairs", k+1, looks, undecided, n)
	}
}

// judgeEquivalence is one look of proveEquivalence: the first verdict, at
// the gate's default ±5 %, holds every comparison (none may be a
// regression or an improvement) and judges p50; the second judges p99
// alone at its own margin. It returns how many judged comparisons are not
// unchanged, an error each when last is true.
func judgeEquivalence(t *testing.T, base, head []string, looks gate.Looks, last bool) (undecided int) {
	t.Helper()
	fewest := fewestRequests(t, append(slices.Clone(base), head...))
	for _, j := range []struct {
		metric    string
		threshold float64
		every     bool
	}{{result.MetricP50, gate.DefaultThreshold, true}, {result.MetricP99, proofP99Threshold, false}} {
		pol := gate.DefaultPolicy()
		pol.Paired, pol.Threshold, pol.Looks = true, j.threshold, looks
		v, err := gate.CompareFiles(base, head, pol)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range v.Comparisons {
			if !j.every && c.Metric != j.metric {
				continue
			}
			t.Logf("%d pairs, ±%g%%: %s %s: %s, %+.1f%% [%+.1f%%, %+.1f%%] (%s)", len(base), 100*j.threshold, c.Operation, c.Metric, c.Decision, 100*c.Change, 100*c.CILow, 100*c.CIHigh, c.Reason)
			if c.Decision == verdict.Regressed || c.Decision == verdict.Improved {
				t.Errorf("%s %s: the gate tells the merged runs from the unsharded ones: %s (%s)", c.Operation, c.Metric, c.Decision, c.Reason)
			}
			need := uint64(1)
			if c.Metric == result.MetricP99 {
				need = tasks.MinSamplesFor(0.99)
			}
			if c.Metric == j.metric && fewest[c.Operation] >= need && c.Decision != verdict.Unchanged {
				undecided++
				if last {
					t.Errorf("%s %s: want unchanged (the whole interval inside ±%g%%) at the last look, got %s: %s", c.Operation, c.Metric, 100*j.threshold, c.Decision, c.Reason)
				}
			}
		}
	}
	return undecided
}

// fewestRequests returns, per operation, the fewest requests any
// repetition of the documents at paths measured.
func fewestRequests(t *testing.T, paths []string) map[string]uint64 {
	t.Helper()
	fewest := map[string]uint64{}
	for _, p := range paths {
		for _, r := range readDoc(t, p).Repetitions {
			for _, op := range append([]string{result.OpOverall}, slices.Sorted(maps.Keys(r.Operations))...) {
				st, _ := r.Stats(op)
				if n, ok := fewest[op]; !ok || st.Count < n {
					fewest[op] = st.Count
				}
			}
		}
	}
	return fewest
}

// TestShardsOnLoopback: three m18-run processes on this host, each one
// shard of one schedule, merge to the unsharded run: the same requests,
// the shards' summed rate, and latencies the gate finds unchanged.
func TestShardsOnLoopback(t *testing.T) {
	if testing.Short() {
		t.Skip("runs m18-run processes for 40–80 s; skipped with -short")
	}
	inst, err := target.Start(target.Options{Work: proofWork})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	f := newFleet(t, inst.URL(), 1)
	proveEquivalence(t, f, 3)
}

// TestShardsReportProblems: a killed shard and a late one make the merge
// say so (exit 3).
func TestShardsReportProblems(t *testing.T) {
	if testing.Short() {
		t.Skip("runs m18-run processes for about 5 s; skipped with -short")
	}
	inst, err := target.Start(target.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	f := newFleet(t, inst.URL(), 1)
	f.duration = 2 * time.Second
	cmds, outs, files := f.shards(t, "broken", 3, 1500*time.Millisecond, map[int]bool{1: true})
	// Shard 2 is killed during its phase: no document at all.
	time.Sleep(300 * time.Millisecond)
	_ = cmds[2].Process.Signal(syscall.SIGKILL)
	_ = cmds[2].Wait()
	wait(t, cmds[:2], outs[:2])
	code, d, msg := mergeFiles(t, filepath.Join(f.dir, "broken.json"), files[:2]...)
	if code != exitInput || d == nil {
		t.Fatalf("merge of a killed and a late shard: exit %d, document %v, want 3 and a .partial document: %s", code, d != nil, msg)
	}
	for _, want := range []string{"shard 2/3 missing", "shard 1/3", "ms late", "skipped the"} {
		if !strings.Contains(msg, want) || !strings.Contains(strings.Join(d.Run.Sharding.Problems, "; "), want) {
			t.Errorf("merge does not say %q: stderr %q, problems %q", want, msg, d.Run.Sharding.Problems)
		}
	}
}

// TestShardsOnSeparateHosts runs the shards in network namespaces, each
// its own host reaching the target over a veth pair, as a matrix of
// runners would, and proves the same equivalence.
func TestShardsOnSeparateHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs m18-run processes in network namespaces for 40–80 s; skipped with -short")
	}
	hosts := newHosts(t, 2)
	ln, err := net.Listen("tcp", hosts.target+":0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- target.Serve(ctx, ln, target.Options{Work: proofWork}) }()
	defer func() { cancel(); <-done }()

	f := newFleet(t, "http://"+ln.Addr().String(), 1)
	f.host = hosts.exec // the unsharded run on host 0, over the same kind of link
	proveEquivalence(t, f, 2)
}

// hosts is a set of network namespaces, each joined to this one by a
// veth pair; the target listens on an address of this namespace that
// every namespace routes to.
type hosts struct {
	names  []string
	target string
}

func (h *hosts) exec(i int) []string { return []string{"ip", "netns", "exec", h.names[i%len(h.names)]} }

// newHosts creates n namespaces and removes them when the test ends; it
// skips the test when namespaces cannot be made (not root, no iproute2).
func newHosts(t *testing.T, n int) *hosts {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root: run as root to test shards on separate hosts")
	}
	testenv.Tool(t, "ip")
	ip := func(args ...string) error {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	pid := os.Getpid()
	net := fmt.Sprintf("10.218.%d", pid%250)
	h := &hosts{target: net + ".1"}
	for i := range n {
		ns := fmt.Sprintf("m18shard-%d-%d", pid, i)
		outer, inner := fmt.Sprintf("m18o%d_%d", pid%100000, i), fmt.Sprintf("m18i%d_%d", pid%100000, i)
		// Host i is .4i+2 on a /30 with this namespace at .4i+1.
		here, there := fmt.Sprintf("%s.%d", net, 4*i+1), fmt.Sprintf("%s.%d", net, 4*i+2)
		if err := ip("netns", "add", ns); err != nil {
			t.Skipf("cannot make a network namespace: %v", err)
		}
		t.Cleanup(func() { _ = ip("netns", "del", ns) }) // deletes the veth pair with it
		h.names = append(h.names, ns)
		for _, args := range [][]string{
			{"link", "add", outer, "type", "veth", "peer", "name", inner, "netns", ns},
			{"addr", "add", here + "/30", "dev", outer},
			{"link", "set", outer, "up"},
			{"-n", ns, "addr", "add", there + "/30", "dev", inner},
			{"-n", ns, "link", "set", inner, "up"},
			{"-n", ns, "link", "set", "lo", "up"},
			{"-n", ns, "route", "add", "default", "via", here},
		} {
			if err := ip(args...); err != nil {
				t.Fatal(err)
			}
		}
	}
	return h
}

// The merge's exit codes, on documents: 0 complete, 3 missing (written to
// OUTPUT.partial), 4 a shard slipped (written to OUTPUT).
func TestMergeExitCodes(t *testing.T) {
	dir := t.TempDir()
	doc := func(i int, slipped bool) string {
		d := &result.Document{Schema: result.SchemaVersion,
			Run: result.Run{Scenario: "ci/x", Seed: 1, RunID: fmt.Sprint("r", i), Config: result.RunConfig{Repetitions: 1},
				Sharding: &result.Sharding{Count: 2, StartAt: time.Unix(1e9, 0).UTC(), Shards: []result.Shard{{Index: i}}}},
			Repetitions: []result.Repetition{{Index: 1, Overall: result.OpStats{}}},
		}
		if slipped {
			d.Repetitions[0].Generator.Bottleneck = "9 of 100 sends late"
		}
		p := filepath.Join(dir, fmt.Sprintf("s%d-%v.json", i, slipped))
		if err := result.WriteFile(p, d); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name  string
		files []string
		code  int
		file  string
	}{
		{"complete", []string{doc(0, false), doc(1, false)}, exitOK, "m.json"},
		{"missing", []string{doc(0, false)}, exitInput, "m.json.partial"},
		{"slipped", []string{doc(0, false), doc(1, true)}, exitGenerator, "m.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "m.json")
			var stdout, stderr bytes.Buffer
			if code := run(append([]string{"merge", "--output", out}, tc.files...), &stdout, &stderr); code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, stderr.String())
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(out), tc.file)); err != nil {
				t.Errorf("want %s written: %v", tc.file, err)
			}
		})
	}
	var stderr bytes.Buffer
	if code := run([]string{"merge", doc(0, false), filepath.Join(dir, "nope.json")}, &bytes.Buffer{}, &stderr); code != exitInput || !strings.Contains(stderr.String(), "nope.json") {
		t.Errorf("unreadable shard: exit %d, %q", code, stderr.String())
	}
}
