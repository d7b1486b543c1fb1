package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/engram/m18-gate/gate"
	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/history"
	"github.com/engram/m18-gate/internal/competitortest"
	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/competitor/postgres"
	"github.com/engram/m18-gate/runners/competitor/weaviate"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/result"
	"github.com/engram/m18-gate/runners/scenario"
	"github.com/engram/m18-gate/runners/target"

	git "github.com/go-git/go-git/v5"
	"github.com/jackc/pgx/v5"
)

// TestCompetitivePositionPostgres is the competitive gate's proof: the
// ci/competitive scenario runs against a real PostgreSQL and against the
// reference target (m18-target) three ways — the baseline, the head slowed
// on purpose (--slowdown 30) and an unslowed head. Every run is stored in a
// history repository (PostgreSQL's under its own series, SCENARIO@postgres);
// the gate, pairing the runs round by round, shows the position, calls the
// slowed head a competitive regression (exit 2) and the unslowed one none
// (exit 0); with the internal comparison given, an internal regression
// takes precedence (exit 1).
//
// The design, for a shared 2-core machine whose speed changes from one
// second to the next (runners/README.md, "The competitive proof"):
//   - Each server runs in a process of its own, so its CPU time per request
//     (cpu_per_op) is measured apart from the load generators'. --slowdown
//     30 spins for 30 % of each request's handling time, so it adds about
//     30 % to that CPU time however busy the machine is; the wall-clock
//     p50 moves as much on a quiet machine, and less when other jobs' waits
//     for the CPU dominate it. The CPU position decides: the exit 2 must not
//     depend on the machine's load.
//   - In each round the four sides run at once, so whatever else the
//     machine does in those seconds falls on all of them; their schedules
//     are staggered by a quarter of the interval between requests, so their
//     requests do not arrive together and queue behind one another, and
//     the stagger rotates from round to round, so no side is always first.
//   - A round in which a generator could not keep its schedule (more than
//     half of its sends 100 ms late: the generator, not the target, was
//     measured) is run again, up to `attempts` rounds.
func TestCompetitivePositionPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: 12 rounds of 4 simultaneous 3-s runs; skipped with -short")
	}
	const (
		rounds   = 12                     // valid rounds wanted
		attempts = 20                     // rounds run at most
		length   = 3 * time.Second        // of each measured run
		rate     = 20.0                   // requests a second, per side
		warmup   = 300 * time.Millisecond // before each run
	)
	url := competitortest.Postgres(t)
	sc, err := scenario.Load("ci/competitive")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	type side struct {
		name     string
		slowdown string // m18-target's --slowdown
		url      string
		pid      int // the server's process, whose CPU time per request is measured
		pg       *postgres.Adapter
		commit   string
		files    []string
	}
	sides := []*side{
		{name: "base", commit: "aaaaaaaaaaaa", slowdown: "0"},
		{name: "slowed", commit: "bbbbbbbbbbbb", slowdown: "30"},
		{name: "head", commit: "cccccccccccc", slowdown: "0"},
		{name: "postgres", commit: "aaaaaaaaaaaa", pg: &postgres.Adapter{URL: url, NoPGVector: true}},
	}
	bin := filepath.Join(t.TempDir(), "m18-target")
	testenv.Build(t, bin, "./cmd/m18-target")
	for _, s := range sides {
		if s.pg != nil {
			t.Cleanup(s.pg.Close)
			s.url, s.pid = url, postmasterPID(t, url)
			continue
		}
		s.url, s.pid = startTarget(t, bin, "--addr", "127.0.0.1:0", "--slowdown", s.slowdown)
	}
	fp := result.Fingerprint{Hash: "e2ecompete01", CPUModel: "e2e", LogicalCores: 2}
	// run measures one side and returns the document, or why the round
	// must be run again (the generator's own error), or a failure.
	run := func(s *side, preloaded bool, delay time.Duration) (*result.Document, error, error) {
		time.Sleep(delay)
		w := warmup
		cfg := load.Config{Scenario: sc, Duration: length, Rate: rate, Warmup: &w, Repetitions: 1, Seed: 7, Hardware: fp, TargetPID: s.pid,
			Commit: s.commit, Limits: load.Limits{LateAfter: 100 * time.Millisecond, DropAfter: 2 * time.Second, MaxLateFraction: 0.5, MaxDroppedFraction: 0.2}}
		if preloaded {
			cfg.PreloadedNodes = sc.Data.NumNodes
		}
		if s.pg != nil {
			cfg.Adapter, cfg.Endpoint = s.pg, "postgres://127.0.0.1"
		} else {
			cfg.Endpoint, cfg.Target = s.url, "builtin"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		doc, err := load.Run(ctx, cfg)
		switch {
		case doc != nil && errors.Is(err, load.ErrGeneratorBottleneck):
			return doc, err, nil
		case err != nil:
			return nil, nil, fmt.Errorf("%s: %v", s.name, err)
		case doc.OverallErrorRate > 0.01:
			return nil, nil, fmt.Errorf("%s: %d of %d requests failed", s.name, doc.TotalErrors, doc.TotalOperations)
		}
		return doc, nil, nil
	}
	gap := time.Second / time.Duration(4*rate)
	valid := 0
	for a := 0; a < attempts && valid < rounds; a++ {
		docs := make([]*result.Document, len(sides))
		retry := make([]error, len(sides))
		errs := make(chan error, len(sides))
		for i := range sides {
			go func() {
				var err error
				docs[i], retry[i], err = run(sides[i], a > 0, time.Duration((i+a)%len(sides))*gap)
				errs <- err
			}()
		}
		for range sides {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", a, err)
			}
		}
		line := ""
		for i, s := range sides {
			if docs[i] == nil {
				line += "  " + s.name + " -"
				continue
			}
			st, _ := docs[i].Repetitions[0].Stats(result.OpPatternCompletion)
			line += fmt.Sprintf("  %s %.3g/%.3g", s.name, st.Latency.P50, docs[i].Repetitions[0].Target.CPUPerOpMs)
		}
		t.Logf("round %d: PatternCompletion p50/CPU per request, ms:%s", a, line)
		if err := errors.Join(retry...); err != nil {
			continue
		}
		for i, s := range sides {
			path := filepath.Join(dir, fmt.Sprintf("%s-%02d.json", s.name, valid))
			if err := result.WriteFile(path, docs[i]); err != nil {
				t.Fatal(err)
			}
			s.files = append(s.files, path)
		}
		valid++
	}
	if valid < rounds {
		t.Fatalf("only %d of %d rounds kept the generators' schedules: this machine is too busy to measure anything", valid, attempts)
	}
	// The positions are compared round by round (paired), as the
	// action's ab mode compares interleaved runs.
	p := gate.DefaultPolicy()
	p.Paired = true
	position := func(head *side) (*verdict.Competitive, *verdict.Verdict) {
		pg := sides[3].files
		c, err := gate.CompareVersusFiles(gate.VersusFiles{Engram: head.files, Versus: pg, BaselineEngram: sides[0].files, BaselineVersus: pg}, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, pos := range c.Positions {
			ch := "-"
			if pos.Change != nil {
				ch = fmt.Sprintf("%+.1f%% [%+.1f%%, %+.1f%%] p %.4f", 100**pos.Change, 100**pos.ChangeLow, 100**pos.ChangeHigh, *pos.PAdjusted)
			}
			t.Logf("%s vs %s: %s %s engram %.3g pg %.3g ratio %.3g %s → %s", head.name, c.Competitor, pos.Operation, pos.Metric, pos.EngramMedian, pos.VersusMedian, pos.Ratio, ch, pos.Decision)
		}
		return c, gate.VersusVerdict(c, p)
	}
	slowed, head := sides[1], sides[2]
	c, v := position(slowed)
	for _, m := range gate.VersusMetrics {
		op := result.OpPatternCompletion
		if m == result.MetricCPUPerOp {
			op = result.OpOverall
		}
		if pos := findPosition(c, op, m); pos == nil || pos.Change == nil || pos.NEngram != rounds || pos.NVersus != rounds {
			t.Errorf("slowed head: %s %s position %+v, want one over %d rounds with its move", op, m, pos, rounds)
		}
	}
	if cpu := findPosition(c, result.OpOverall, result.MetricCPUPerOp); v.Summary.ExitCode() != 2 || cpu == nil || cpu.Decision != verdict.Regressed {
		t.Errorf("slowed head: exit %d (%s); CPU-per-request position %+v, want a competitive regression (exit 2)", v.Summary.ExitCode(), v.Summary.Answer, cpu)
	}
	c0, v0 := position(head)
	// Unchanged where the machine lets the interval shrink within ±10 %,
	// inconclusive where it does not; never a move either way.
	if cpu := findPosition(c0, result.OpOverall, result.MetricCPUPerOp); v0.Summary.ExitCode() != 0 || cpu == nil || (cpu.Decision != verdict.Unchanged && cpu.Decision != verdict.Inconclusive) {
		t.Errorf("unslowed head: exit %d (%s); CPU-per-request position %+v, want exit 0: no competitive regression", v0.Summary.ExitCode(), v0.Summary.Answer, cpu)
	}
	// With the internal comparison given, an internal regression outranks
	// the competitive one (exit 1), whenever the internal comparison finds it.
	iv, err := gate.CompareFiles(sides[0].files, slowed.files, p)
	if err != nil {
		t.Fatal(err)
	}
	internal := iv.Summary.Outcome == verdict.OutcomeRegression
	iv.Versus = c
	iv.Summary = iv.Summarize()
	if internal && iv.Summary.ExitCode() != 1 {
		t.Errorf("internal regression with the competitive one: exit %d, want 1", iv.Summary.ExitCode())
	}

	// Every run goes to the history repository; PostgreSQL's under its
	// own series name, beside Engram's.
	var files []string
	for _, s := range sides {
		files = append(files, s.files...)
	}
	snap := storeAll(t, files)
	n := len(sides[3].files)
	pgSeries, warns := snap.Series(sc.Ref+"@postgres", fp.Hash, result.OpPatternCompletion, result.MetricP50)
	engSeries, _ := snap.Series(sc.Ref, fp.Hash, result.OpPatternCompletion, result.MetricP50)
	if len(warns) > 0 || len(pgSeries) != n || len(engSeries) != 3*n {
		t.Fatalf("history holds %d PostgreSQL and %d Engram runs (warnings %v), want %d and %d", len(pgSeries), len(engSeries), warns, n, 3*n)
	}
}

// storeAll pushes result files to a new history repository and returns
// its snapshot.
func storeAll(t *testing.T, files []string) *history.Snapshot {
	t.Helper()
	repo := filepath.Join(t.TempDir(), "results.git")
	if _, err := git.PlainInit(repo, true); err != nil {
		t.Fatal(err)
	}
	rem := history.Remote{URL: "file://" + repo}
	var all []history.Result
	for _, f := range files {
		r, err := history.ReadResult(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	ctx := context.Background()
	if _, err := rem.Append(ctx, all...); err != nil {
		t.Fatal(err)
	}
	snap, err := rem.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// TestCompetitivePositionWeaviate runs ci/competitive_vector against a
// real weaviate-server and the reference target, together in rounds,
// stores both in a history repository (Weaviate's under SCENARIO@weaviate)
// and checks that the gate shows the position of every operation.
func TestCompetitivePositionWeaviate(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: 4 rounds of 2 simultaneous 2-s runs against weaviate-server; skipped with -short")
	}
	url := competitortest.Weaviate(t)
	sc, err := scenario.Load("ci/competitive_vector")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := target.Start(target.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	wv := &weaviate.Adapter{URL: url}
	defer wv.Close()
	dir := t.TempDir()
	warmup := 500 * time.Millisecond
	fp := result.Fingerprint{Hash: "e2ecompete02", CPUModel: "e2e", LogicalCores: 2}
	var engram, vs []string
	for r := range 4 {
		errs := make(chan error, 2)
		for _, side := range []string{"engram", "weaviate"} {
			go func() {
				cfg := load.Config{Scenario: sc, Duration: 2 * time.Second, Warmup: &warmup, Repetitions: 1, Seed: 7, Hardware: fp,
					Limits: load.Limits{LateAfter: 100 * time.Millisecond, DropAfter: 2 * time.Second, MaxLateFraction: 0.5, MaxDroppedFraction: 0.2}}
				if r > 0 {
					cfg.PreloadedNodes = sc.Data.NumNodes
				}
				if side == "weaviate" {
					cfg.Adapter, cfg.Endpoint = wv, url
				} else {
					cfg.Endpoint, cfg.Target = inst.URL(), "builtin"
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				doc, err := load.Run(ctx, cfg)
				if doc == nil {
					errs <- fmt.Errorf("%s round %d: %v", side, r, err)
					return
				}
				if doc.TotalErrors > 0 {
					errs <- fmt.Errorf("%s round %d: %d of %d requests failed", side, r, doc.TotalErrors, doc.TotalOperations)
					return
				}
				errs <- result.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%02d.json", side, r)), doc)
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		engram = append(engram, filepath.Join(dir, fmt.Sprintf("engram-%02d.json", r)))
		vs = append(vs, filepath.Join(dir, fmt.Sprintf("weaviate-%02d.json", r)))
	}
	snap := storeAll(t, append(append([]string(nil), engram...), vs...))
	if wvs, warns := snap.Series(sc.Ref+"@weaviate", fp.Hash, result.OpRecall, result.MetricP50); len(wvs) != 4 || len(warns) > 0 {
		t.Fatalf("history holds %d Weaviate runs (%v), want 4", len(wvs), warns)
	}
	p := gate.DefaultPolicy()
	c, err := gate.CompareVersusFiles(gate.VersusFiles{Engram: engram, Versus: vs}, p)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := render.VersusText(&b, c); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", b.String())
	for _, op := range []string{result.OpStore, result.OpRecall, result.OpSearch} {
		// Latencies and throughput; no CPU time: these runs did not measure it.
		for _, m := range []string{result.MetricP50, result.MetricP99, result.MetricThroughput} {
			pos := findPosition(c, op, m)
			if pos == nil || !(pos.Ratio > 0) || !(pos.RatioLow <= pos.Ratio && pos.Ratio <= pos.RatioHigh) || pos.NEngram != 4 || pos.NVersus != 4 {
				t.Errorf("%s %s: position %+v", op, m, pos)
			}
		}
	}
	if v := gate.VersusVerdict(c, p); v.Summary.ExitCode() != 0 || !strings.HasPrefix(c.Competitor, "weaviate 1.") {
		t.Errorf("no baseline, no milestone: exit %d (%s), competitor %q", v.Summary.ExitCode(), v.Summary.Answer, c.Competitor)
	}
}

func findPosition(c *verdict.Competitive, op, metric string) *verdict.Position {
	for i, p := range c.Positions {
		if p.Operation == op && p.Metric == metric {
			return &c.Positions[i]
		}
	}
	return nil
}

// startTarget starts m18-target (bin) with args in a process of its own
// and returns the URL it prints and its process id; the process is
// stopped when the test ends.
func startTarget(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("%s %s printed no URL: %v\n%s", bin, strings.Join(args, " "), err, stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return strings.TrimSpace(line), cmd.Process.Pid
}

// postmasterPID returns the process id of the PostgreSQL server at url,
// from the postmaster.pid file in its data directory: its backends are
// its children, so the server's CPU time per request is that tree's.
func postmasterPID(t *testing.T, url string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var dir string
	if err := conn.QueryRow(ctx, "SHOW data_directory").Scan(&dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		t.Fatalf("postmaster.pid: first line %q is not a process id", first)
	}
	return pid
}
