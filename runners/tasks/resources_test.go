package tasks

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// roundTrip writes the outcome's document as m18.result/v1, reads it back
// with the strict decoder and decodes the task's section into v.
func roundTrip(t *testing.T, out *Outcome, id string, v any) {
	t.Helper()
	if out == nil || out.Document == nil {
		t.Fatal("no document")
	}
	if len(out.Checks) == 0 {
		t.Error("no checks")
	}
	doc := writeReadBack(t, out.Document)
	if doc.TotalOperations == 0 || len(doc.Repetitions) == 0 {
		t.Errorf("document measured nothing: %d operations, %d repetitions", doc.TotalOperations, len(doc.Repetitions))
	}
	trSection(t, doc, id, v)
}

func lookup(t *testing.T, id string) Task {
	t.Helper()
	task, err := Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	if task.Title == "" || task.Description == "" {
		t.Errorf("task %s has no title or description", id)
	}
	return task
}

// TestSoakPR runs task 002 from the catalogue at the pr budget, shortened
// to 12 s, against a clean target: RSS fitted, resources sampled,
// checkpoints readable, the document valid.
func TestSoakPR(t *testing.T) {
	if resRace {
		t.Skip("asserts outcomes of real load, which the race detector's slowdown distorts")
	}
	if testing.Short() {
		t.Skip("runs a 12-s soak")
	}
	// In parallel with the other soak tests: it asserts what was sampled
	// and written, not timings, and no other test judges this process's
	// memory.
	t.Parallel()
	dir := t.TempDir()
	env := Env{Budget: BudgetPR, Seed: 42, Dir: dir, Duration: 12 * time.Second}
	if testing.Verbose() {
		env.Progress = os.Stderr
	}
	out, err := lookup(t, "002").Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	var rep SoakReport
	roundTrip(t, out, "002", &rep)
	t.Logf("leak: %s; drift: %s", rep.Leak.Reason, rep.Drift.Reason)
	if rep.Leak.Leak {
		// In-process, 12 s: the process sampled is the test binary itself,
		// whose heap still settles from the package's earlier tests, so a
		// clean verdict cannot be promised at this size. The 5-minute proof
		// (M18_LONG=1 TestSoakLeakFiveMinutes) asserts it.
		t.Logf("clean 12-s in-process soak flagged (not asserted at this size): %s", rep.Leak.Reason)
	}
	if !rep.Leak.Measured || rep.Leak.Samples < 35 {
		t.Errorf("RSS fitted over %d samples, want ≥ 35", rep.Leak.Samples)
	}
	if rep.Aborted || len(rep.Windows) < 5 {
		t.Errorf("aborted=%v (%s), %d windows", rep.Aborted, rep.AbortReason, len(rep.Windows))
	}
	if rep.Resources.ThreadsMax == 0 || rep.Resources.FDsMax == 0 || rep.Resources.CPUSeconds <= 0 {
		t.Errorf("resources not sampled: %+v", rep.Resources)
	}
	checkCheckpoints(t, dir, out.Document.Tasks["002"].(*SoakReport))
}

// TestSoakAborts: an RSS limit below the process's size trips the abort at
// the first resource sample, which stops the soak early with the reason.
func TestSoakAborts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a soak")
	}
	t.Parallel() // with the other soak tests, as TestSoakPR
	cfg := soakTestConfig(30 * time.Second)
	cfg.Warmup, cfg.MaxRSSMB = 0, 1
	env := Env{Budget: BudgetPR, Seed: 1, Dir: t.TempDir()}
	start := time.Now()
	out, err := Soak(context.Background(), env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep := out.Document.Tasks["002"].(*SoakReport)
	if !rep.Aborted || !strings.Contains(rep.AbortReason, "RSS") {
		t.Fatalf("not aborted on RSS > 1 MB: aborted=%v %q", rep.Aborted, rep.AbortReason)
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("abort took %v of a 30-s soak", el)
	}
	if out.Passed() || out.Checks[0].Passed {
		t.Error("an aborted soak passed")
	}
	t.Logf("aborted after %.1f s: %s", rep.RanSeconds, rep.AbortReason)
}

// TestTailsPR runs task 006 from the catalogue at the pr budget, shortened
// to 5 s: too few samples for p99.9, which must be marked and fail the
// samples check.
func TestTailsPR(t *testing.T) {
	if resRace {
		t.Skip("asserts outcomes of real load, which the race detector's slowdown distorts")
	}
	if testing.Short() {
		t.Skip("runs an 8-s load")
	}
	env := Env{Budget: BudgetPR, Seed: 9, Duration: 5 * time.Second}
	out, err := lookup(t, "006").Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	var rep TailReport
	roundTrip(t, out, "006", &rep)
	if rep.Samples < 1000 || len(rep.Slowest) != 100 || len(rep.Quantiles) != 4 {
		t.Fatalf("samples %d, slowest %d, quantiles %d", rep.Samples, len(rep.Slowest), len(rep.Quantiles))
	}
	q, _ := rep.Quantile("p99.9")
	if q.Reliable || out.Checks[0].Passed {
		t.Errorf("p99.9 from %d samples marked reliable=%v, samples check passed=%v", rep.Samples, q.Reliable, out.Checks[0].Passed)
	}
	for i := 1; i < len(rep.Slowest); i++ {
		if rep.Slowest[i].LatencyMs > rep.Slowest[i-1].LatencyMs {
			t.Fatal("slowest not sorted")
		}
	}
}
