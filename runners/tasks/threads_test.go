package tasks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/target"
)

// TestThreadsSerialKnob is task 007's proof at the pr budget: against the
// reference target limited to k workers whose requests wait 50 ms, the
// USL's σ is near 0 when nothing serialises and large when 80 % of each
// request runs under one global lock (Amdahl: X(k) ≤ 1/(0.8·50 ms), so
// S(2) ≤ 1.25 and σ ≥ 0.6). The requests wait rather than compute, so
// throughput grows past the runner's two cores; at 50 ms each, a loaded
// machine's scheduling stalls are small against them.
func TestThreadsSerialKnob(t *testing.T) {
	if testing.Short() || resRace {
		t.Skip("runs task 007's pr budget twice (about 90 s)")
	}
	for _, tc := range []struct {
		name   string
		serial float64
		check  func(sigma float64) bool
		want   string
	}{
		{"no serial", 0, func(s float64) bool { return s < 0.2 }, "σ < 0.2"},
		{"serial 0.8", 0.8, func(s float64) bool { return s > 0.4 }, "σ > 0.4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := Env{Budget: BudgetPR, Seed: 7, Dir: t.TempDir(), Progress: testLog{t}}
			env.TargetOptions.Serial = tc.serial
			o, err := Threads(context.Background(), env, ThreadsBudget(BudgetPR))
			if err != nil && !errors.Is(err, load.ErrGeneratorBottleneck) {
				t.Fatal(err)
			}
			var rep ThreadsReport
			trSection(t, trRoundTrip(t, o.Document), "007", &rep)
			for _, p := range rep.Points {
				t.Logf("k=%d X=%.0f (%s, first bad %.0f) S=%.2f E=%.2f p50 %.2f p99 %.2f", p.Threads, p.Throughput, p.Reason, p.FirstBad, p.Speedup, p.Efficiency, p.P50Ms, p.P99Ms)
			}
			if rep.USL == nil {
				t.Fatalf("no USL fit: %s", rep.FitError)
			}
			t.Logf("USL %+v; predicted %+v", *rep.USL, rep.Predicted)
			for _, c := range o.Checks {
				t.Log(c.Message)
			}
			if rep.LimitedBy != "workers" || len(rep.Points) != 4 || rep.Model != "amdahl" || rep.USLFull == nil {
				t.Errorf("limited by %q, %d points, model %q; want workers, 4, amdahl (four points cannot afford κ) beside the full fit", rep.LimitedBy, len(rep.Points), rep.Model)
			}
			if !tc.check(rep.USL.Sigma) {
				t.Errorf("σ = %.3f, want %s", rep.USL.Sigma, tc.want)
			}
			for _, p := range rep.Predicted {
				if !p.Extrapolated || p.Note == "" {
					t.Errorf("prediction at %d threads from k ≤ 4 not marked extrapolated: %+v", p.Threads, p)
				}
			}
		})
	}
}

// testLog writes a task's progress to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Helper()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestThreadsTargetCommand runs task 007 against servers it starts itself:
// the reference target in a child process whose worker pool is the
// command's {threads}, pinned to k CPUs as well. The report must say both
// were used, record each step's command and CPUs, and show the placeholder
// reached the server: two workers carry far more than one (each request
// waits 50 ms, so S(2) ≈ 2 whatever the machine's load).
func TestThreadsTargetCommand(t *testing.T) {
	if testing.Short() || resRace {
		t.Skip("climbs twice against started targets (about 30 s)")
	}
	cfg := ThreadsBudget(BudgetPR)
	cfg.Threads, cfg.StepDuration, cfg.LoadDuration, cfg.From = []int{1, 2}, time.Second, time.Second, 16
	env := Env{Budget: BudgetPR, Seed: 11, Dir: t.TempDir(), Progress: testLog{t}, Affinity: true,
		TargetCommand: childWorkersEnv + "={threads} " + childCommand(t, target.Options{Work: 50 * time.Millisecond})}
	o, err := Threads(context.Background(), env, cfg)
	if err != nil && !errors.Is(err, load.ErrGeneratorBottleneck) {
		t.Fatal(err)
	}
	var rep ThreadsReport
	trSection(t, trRoundTrip(t, o.Document), "007", &rep)
	if rep.LimitedBy != "threads-placeholder+cpu-affinity" {
		t.Errorf("limited by %q", rep.LimitedBy)
	}
	for _, p := range rep.Points {
		t.Logf("k=%d X=%.0f (%s) cpus %v", p.Threads, p.Throughput, p.Reason, p.CPUs)
		if !strings.Contains(p.Command, fmt.Sprintf("%s=%d ", childWorkersEnv, p.Threads)) || len(p.CPUs) != p.Threads {
			t.Errorf("k=%d: command %q, cpus %v", p.Threads, p.Command, p.CPUs)
		}
	}
	if len(rep.Points) < 2 {
		t.Skipf("this runner lets the test use %d CPU(s): %v", len(rep.Points), rep.Skipped)
	}
	if s := rep.Points[1].Speedup; s < 1.5 {
		t.Errorf("S(2) = %.2f, want > 1.5: {threads} did not reach the server's worker pool", s)
	}
}
