package tasks

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/engram/m18-gate/runners/load"
)

// TestInterferenceVerdicts checks the equivalence statement on per-phase
// figures whose intervals are known: identical sides are equivalent, a
// 20 % shift with little spread is interference, a wide spread with no
// shift is inconclusive with the phases that would settle it.
func TestInterferenceVerdicts(t *testing.T) {
	off := []float64{50.0, 50.1, 50.2, 50.1, 50.0, 50.1}
	for _, tc := range []struct {
		name string
		on   []float64
		want string
	}{
		{"same", []float64{50.1, 50.0, 50.2, 50.1, 50.1, 50.0}, "equivalent"},
		{"shifted", []float64{60.1, 60.0, 60.2, 60.1, 60.1, 60.3}, "interference"},
		{"noisy", []float64{40, 60, 45, 58, 50.1, 52}, "inconclusive"},
	} {
		in := interference(off, tc.on, 0.01, 0.95, 1)
		if in.Verdict != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, in.Statement, tc.want)
		}
		if !(in.Lo <= in.Change && in.Change <= in.Hi) {
			t.Errorf("%s: change %v outside [%v, %v]", tc.name, in.Change, in.Lo, in.Hi)
		}
		if tc.want == "inconclusive" && in.PhasesNeeded <= len(off) {
			t.Errorf("%s: %d phases needed, want more than the %d run", tc.name, in.PhasesNeeded, len(off))
		}
	}
	// The shifted change is the ratio of medians, 60.1/50.1 − 1.
	if in := interference(off, []float64{60.1, 60.0, 60.2, 60.1, 60.1, 60.3}, 0.01, 0.95, 1); math.Abs(in.Change-(60.1/50.1-1)) > 1e-12 {
		t.Errorf("change %v, want %v", in.Change, 60.1/50.1-1)
	}
}

// TestIsolationSharedWorkers is task 009's proof at the pr budget: the
// reference target's requests wait 50 ms on a pool of 10 workers (200
// ops/s). With a pool per space the aggressor's 200 ops/s fill only its
// own pool, and the victim's p50 may not move beyond ±1 % (or the
// verdict says it cannot tell); with one pool shared by both spaces the
// aggressor's load passes the pool's capacity and the victim queues
// behind it: its p50 rises by far more than 10 %. Either way the victim's
// reads never return the aggressor's memories.
func TestIsolationSharedWorkers(t *testing.T) {
	if testing.Short() || resRace {
		t.Skip("runs task 009's pr budget twice (about 80 s)")
	}
	for _, shared := range []bool{false, true} {
		name := map[bool]string{false: "pool per space", true: "shared pool"}[shared]
		t.Run(name, func(t *testing.T) {
			env := Env{Budget: BudgetPR, Seed: 9, Dir: t.TempDir(), Progress: testLog{t}}
			env.TargetOptions.Work = IsolationBudget(BudgetPR).Work
			env.TargetOptions.Workers = 10
			env.TargetOptions.SharedWorkers = shared
			o, err := Isolation(context.Background(), env, IsolationBudget(BudgetPR))
			if err != nil && !errors.Is(err, load.ErrGeneratorBottleneck) {
				t.Fatal(err)
			}
			var rep IsolationReport
			trSection(t, trRoundTrip(t, o.Document), "009", &rep)
			t.Logf("p50: %s", rep.P50.Statement)
			t.Logf("p99: %s", rep.P99.Statement)
			t.Logf("data isolation: %+v", rep.Data)
			for _, c := range o.Checks {
				t.Log(c.Message)
			}
			for _, s := range o.Skipped {
				t.Log("skipped: ", s)
			}
			if len(rep.Phases) != 12 || rep.Knobs == nil || rep.Knobs.SharedWorkers != shared {
				t.Fatalf("report %+v", rep)
			}
			if !rep.Data.Checked || rep.Data.Leaked != 0 || rep.Data.Control == 0 {
				t.Errorf("data isolation %+v: want checked, no leak, the control finding the aggressor's memories", rep.Data)
			}
			if shared {
				if rep.P50.Verdict != "interference" || rep.P50.Lo < 0.10 {
					t.Errorf("shared pool: p50 %s; want interference above +10 %%", rep.P50.Statement)
				}
				return
			}
			if rep.P50.Verdict == "interference" && math.Abs(rep.P50.Change) > 0.05 {
				t.Errorf("pool per space: p50 %s; want no interference beyond ±1 %%, or an inconclusive verdict, or at most a few percent", rep.P50.Statement)
			}
		})
	}
}

// TestTailGuard: a per-phase p99 of fewer requests than MinSamplesFor(0.99)
// is not judged, whatever its interval said; with enough it stands.
func TestTailGuard(t *testing.T) {
	seen := Interference{Change: 0.4, Lo: 0.2, Hi: 0.6, Verdict: "interference", Statement: "interference +40%"}
	phases := func(n uint64) []IsolationPhase {
		return []IsolationPhase{{VictimCount: 5000}, {VictimCount: n, Aggressor: true}}
	}
	for _, tt := range []struct {
		fewest uint64
		want   string
	}{{40, "inconclusive"}, {999, "inconclusive"}, {1000, "interference"}, {5000, "interference"}} {
		got := tailGuard(seen, phases(tt.fewest), 0.99)
		if got.Verdict != tt.want {
			t.Errorf("fewest %d: verdict %q, want %q (%s)", tt.fewest, got.Verdict, tt.want, got.Statement)
		}
		if tt.want == "inconclusive" && !strings.Contains(got.Statement, fmt.Sprintf("were %d, p99 needs 1000", tt.fewest)) {
			t.Errorf("fewest %d: statement %q does not say why", tt.fewest, got.Statement)
		}
	}
}
