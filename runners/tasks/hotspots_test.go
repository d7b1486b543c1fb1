package tasks

import (
	"context"
	"testing"
)

// TestHotspotsKeyLock is task 008's proof at the pr budget: against the
// reference target whose requests wait 100 ms (so that 16 writers send
// only ~160 ops/s, and the throughput is the waiting's, not a share of a
// loaded machine's CPU), Zipf popularity (s = 1 over 64 spaces: the top
// space gets 21 % of requests) costs no throughput when spaces do not
// contend, and most of it with one lock per space, where 16 writers queue
// on the celebrity space: its lock passes 10 requests a second, 21 % of
// all, so all carry at most ~48 ops/s of the ~150 that 16 writers send
// uniformly (a loss near 2/3).
func TestHotspotsKeyLock(t *testing.T) {
	if testing.Short() || resRace {
		t.Skip("runs task 008's pr budget twice (about 1 min)")
	}
	for _, tc := range []struct {
		name    string
		keyLock bool
		ok      func(loss float64) bool
		want    string
	}{
		{"no key lock", false, func(l float64) bool { return l < 0.10 }, "loss < 10 %"},
		{"key lock", true, func(l float64) bool { return l > 0.30 }, "loss > 30 %"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := Env{Budget: BudgetPR, Seed: 8, Dir: t.TempDir(), Progress: testLog{t}}
			env.TargetOptions.Work = HotspotsBudget(BudgetPR).Work
			env.TargetOptions.KeyLock = tc.keyLock
			o, err := Hotspots(context.Background(), env, HotspotsBudget(BudgetPR))
			if err != nil {
				t.Fatal(err)
			}
			var rep HotspotsReport
			trSection(t, trRoundTrip(t, o.Document), "008", &rep)
			if len(rep.Points) != 3 || rep.Spaces != 64 || rep.Knobs == nil || rep.Knobs.KeyLock != tc.keyLock {
				t.Fatalf("report %+v", rep)
			}
			last := rep.Points[2]
			if !tc.ok(last.Loss) {
				t.Errorf("loss at %d writers %.3f [%.3f, %.3f], want %s", last.Writers, last.Loss, last.LossLo, last.LossHi, tc.want)
			}
			if !(last.LossLo <= last.Loss && last.Loss <= last.LossHi) {
				t.Errorf("loss %.3f outside its interval [%.3f, %.3f]", last.Loss, last.LossLo, last.LossHi)
			}
			if last.Hot.Count == 0 || last.Cold.Count == 0 || last.UniformLa.Count == 0 {
				t.Errorf("latency split empty: %+v", last)
			}
			// With the lock, the celebrity's requests queue: its p50 far above
			// the cold spaces'.
			if tc.keyLock && last.Hot.P50Ms < 2*last.Cold.P50Ms {
				t.Errorf("hot p50 %.2f ms, cold %.2f ms: want the hot space at least 2× slower", last.Hot.P50Ms, last.Cold.P50Ms)
			}
			if passed := o.Passed(); passed == tc.keyLock {
				t.Errorf("criteria passed = %v with key lock %v: %+v", passed, tc.keyLock, o.Checks)
			}
		})
	}
}
