package tasks

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/engram/m18-gate/runners/procstat"
	"github.com/engram/m18-gate/runners/target"
	"github.com/engram/m18-gate/runners/window"
)

// synthRSS returns samples every step over span whose RSS is base +
// slope·t (MiB, MiB/h) plus Gaussian noise of sd MiB.
func synthRSS(span, step time.Duration, base, slope, sd float64, seed uint64) []procstat.Stats {
	rng := rand.New(rand.NewPCG(seed, 1))
	t0 := time.Unix(1_700_000_000, 0)
	var out []procstat.Stats
	for t := time.Duration(0); t <= span; t += step {
		mb := base + slope*t.Hours() + sd*rng.NormFloat64()
		out = append(out, procstat.Stats{At: t0.Add(t), RSSBytes: uint64(mb * (1 << 20))})
	}
	return out
}

func TestAnalyzeLeak(t *testing.T) {
	tests := []struct {
		name    string
		samples []procstat.Stats
		leak    bool
		slope   float64 // expected slope, MB/h (±10 %)
	}{
		// 60 MB/h over an hour with 1 MB noise: growth 60 MB ≫ noise.
		{"steady leak", synthRSS(time.Hour, 10*time.Second, 200, 60, 1, 1), true, 60},
		// 5 MB/h: below 10 MB/h however steady.
		{"slow growth", synthRSS(time.Hour, 10*time.Second, 200, 5, 0.1, 2), false, 5},
		// Flat with large noise: slope near 0, R² near 0.
		{"noisy flat", synthRSS(time.Hour, 10*time.Second, 200, 0, 20, 3), false, 0},
		// Steep but drowned in noise over a short span: R² too low.
		{"noise beats slope", synthRSS(5*time.Minute, time.Second, 200, 30, 5, 4), false, math.NaN()},
		{"too few", synthRSS(time.Minute, 10*time.Second, 200, 600, 0, 5), false, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := AnalyzeLeak(tt.samples, 10, 0.8)
			t.Logf("%s", f.Reason)
			if f.Leak != tt.leak {
				t.Errorf("Leak = %v, want %v (%s)", f.Leak, tt.leak, f.Reason)
			}
			if !math.IsNaN(tt.slope) && math.Abs(f.SlopeMBPerHour-tt.slope) > 0.1*math.Max(tt.slope, 10) {
				t.Errorf("slope = %.2f MB/h, want %.2f", f.SlopeMBPerHour, tt.slope)
			}
		})
	}
	if f := AnalyzeLeak(nil, 10, 0.8); f.Measured || f.Leak {
		t.Errorf("no samples: %+v", f)
	}
}

// TestAnalyzeLeakStopped: growth that stopped halfway fits a steep line
// with a fair R² (0.80 here, so the test lowers the bar to 0.5), but its
// second half is flat: settling, not a leak.
func TestAnalyzeLeakStopped(t *testing.T) {
	f := AnalyzeLeak(settling(), 10, 0.5)
	if f.Leak || f.R2 <= 0.5 || f.SlopeMBPerHour <= 10 || math.Abs(f.LastHalfSlopeMBPerHour) > 1 {
		t.Fatalf("settling RSS: leak=%v slope=%.1f R²=%.2f last half %.1f MB/h (%s)", f.Leak, f.SlopeMBPerHour, f.R2, f.LastHalfSlopeMBPerHour, f.Reason)
	}
}

// settling is RSS rising linearly by 100 MiB over the first 30 minutes (half) of
// an hour and flat after.
func settling() []procstat.Stats {
	ss := synthRSS(time.Hour, 10*time.Second, 200, 0, 0, 6)
	for i := range ss {
		m := min(ss[i].At.Sub(ss[0].At).Minutes(), 30)
		ss[i].RSSBytes += uint64(m / 30 * 100 * (1 << 20))
	}
	return ss
}

// synthWindows returns one-minute windows over span whose p99 is base·(1 +
// pct/100·t) (t in hours) plus noise of sd ms.
func synthWindows(span time.Duration, base, pctPerHour, sd float64, seed uint64) []window.Window {
	rng := rand.New(rand.NewPCG(seed, 2))
	var ws []window.Window
	for s := time.Duration(0); s+time.Minute <= span; s += time.Minute {
		mid := s + 30*time.Second
		p99 := base*(1+pctPerHour/100*mid.Hours()) + sd*rng.NormFloat64()
		ws = append(ws, window.Window{Start: s, End: s + time.Minute, Count: 1000, P99: p99})
	}
	return ws
}

func TestAnalyzeDrift(t *testing.T) {
	tests := []struct {
		name  string
		ws    []window.Window
		last  time.Duration
		drift bool
		pct   float64 // expected %/h (±0.5), NaN = not checked
		from  float64
		nWin  int
	}{
		// 10 %/h of the start over 4 h, small noise: drift. The slope is
		// 0.1 ms/h against a mean p99 of 1.2 ms (the value at 2 h), 8.33 %/h.
		{"drifting", synthWindows(4*time.Hour, 1.0, 10, 0.005, 1), 4 * time.Hour, true, 10 / 1.2, 0, 240},
		// 0.5 %/h: 0.005 / 1.01 = 0.495 %/h, under 2 %/h.
		{"stable", synthWindows(4*time.Hour, 1.0, 0.5, 0.001, 2), 4 * time.Hour, false, 0.5 / 1.01, 0, 240},
		// Falling latency is never drift: −0.1 / 0.8 = −12.5 %/h.
		{"improving", synthWindows(4*time.Hour, 1.0, -10, 0.001, 3), 4 * time.Hour, false, -10 / 0.8, 0, 240},
		// Only the last hour is fitted: 60 windows from 3 h on.
		{"last hour", synthWindows(4*time.Hour, 1.0, 10, 0.005, 4), time.Hour, true, math.NaN(), 3 * 3600, 60},
		// Noise of 20 % per window: no trend claimed.
		{"noise", synthWindows(time.Hour, 1.0, 0, 0.2, 5), time.Hour, false, math.NaN(), 0, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			end := tt.ws[len(tt.ws)-1].End
			f := AnalyzeDrift(tt.ws, end, tt.last, 100, 2, 0.7)
			if f.Drift != tt.drift {
				t.Errorf("Drift = %v, want %v (%s)", f.Drift, tt.drift, f.Reason)
			}
			if f.Windows != tt.nWin || f.FromSeconds != tt.from {
				t.Errorf("fitted %d windows from %v s, want %d from %v", f.Windows, f.FromSeconds, tt.nWin, tt.from)
			}
			if !math.IsNaN(tt.pct) && math.Abs(f.SlopePctPerHour-tt.pct) > 0.2 {
				t.Errorf("slope = %.2f %%/h, want %.2f", f.SlopePctPerHour, tt.pct)
			}
		})
	}
	// Windows with too few requests are not fitted.
	ws := synthWindows(time.Hour, 1, 10, 0, 6)
	for i := range ws {
		ws[i].Count = 10
	}
	if f := AnalyzeDrift(ws, time.Hour, time.Hour, 100, 2, 0.7); f.Windows != 0 || f.Drift {
		t.Errorf("sparse windows fitted: %+v", f)
	}
}

// soakTestConfig is the pr budget shortened for tests.
func soakTestConfig(d time.Duration) SoakConfig {
	c := SoakBudget(BudgetPR)
	c.Duration, c.Warmup = d, 3*time.Second
	c.CheckpointEvery = 3 * time.Second
	return c
}

// leakProofThreshold is the leak threshold of the CI-sized leak proof,
// MB/h. A 30-s soak cannot resolve the milestone's 10 MB/h (0.08 MB in
// 30 s). A clean reference target's RSS rises by a few hundred KB in its
// first minute of load as its heap settles, in steps (measured here, in a
// child process with the load capped at 16 in flight, other jobs
// running: 39–190 MB/h, R² up to 0.86), and by about 100 KB per
// connection whenever a latency spike of the shared machine grows the
// load's pool (with pr's cap of 64: 189–371 MB/h, R² up to 0.89). 1000
// MB/h is five times the worst clean slope measured with the cap of 16;
// the injected leak, 3600 MB/h, fits at 6300–6600 MB/h.
const leakProofThreshold = 1000

// leakProofConfig is the soak of the leak proof: pr's scenario (200 ops/s
// of reads over 2 000 memories), at most 16 requests in flight (so at most
// 16 connections: about 80 ms of a stall absorbed before the generator
// runs late, which this proof does not judge), 1-s settle, RSS every
// 250 ms, for d, judged against leakProofThreshold with the milestone's
// R² > 0.8.
func leakProofConfig(d time.Duration) SoakConfig {
	c := SoakBudget(BudgetPR)
	c.LeakMBPerHour, c.LeakMinR2, c.MaxInFlight = leakProofThreshold, 0.8, 16
	c.Duration, c.DriftWindow = d, d
	c.Warmup, c.Settle = 5*time.Second, time.Second
	c.SampleEvery, c.Window, c.CheckpointEvery = 250*time.Millisecond, 2*time.Second, d/3
	c.MaxP99Ms = 0 // about memory: a hiccup of the shared machine must not abort it
	return c
}

// runChildSoak soaks the reference target with options o, run in a child
// process so that the RSS sampled is the target's alone (no load
// generator, no garbage of this package's other tests), as with an
// external target and --target-pid.
func runChildSoak(t *testing.T, cfg SoakConfig, o target.Options) *SoakReport {
	t.Helper()
	url, pid := startChildTarget(t, o)
	env := Env{Budget: BudgetPR, Seed: 42, Dir: t.TempDir(), Endpoint: url, TargetPID: pid}
	out, err := Soak(context.Background(), env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep := out.Document.Tasks["002"].(*SoakReport)
	t.Logf("leak: %s; RSS %.1f → %.1f MB over %d samples", rep.Leak.Reason, rep.Leak.StartMB, rep.Leak.EndMB, rep.Leak.Samples)
	t.Logf("drift: %s (%d windows, mean p99 %.2f ms)", rep.Drift.Reason, rep.Drift.Windows, rep.Drift.MeanP99Ms)
	if rep.Aborted {
		t.Fatalf("soak aborted after %.1f s: %s", rep.RanSeconds, rep.AbortReason)
	}
	if !rep.Leak.Measured || rep.TargetPID != pid || rep.Target != "external" {
		t.Fatalf("the child target %d was not sampled: %+v", pid, rep.Leak)
	}
	return rep
}

// settledSamples returns the resource samples the soak's leak verdict was
// fitted to (those after the settle period), for judging them against
// another threshold.
func settledSamples(t *testing.T, rep *SoakReport) []procstat.Stats {
	t.Helper()
	if len(rep.Samples) < rep.Leak.Samples || len(rep.Samples) == 512 {
		t.Fatalf("%d samples reported, %d fitted: thinned, the fitted ones are not known", len(rep.Samples), rep.Leak.Samples)
	}
	return rep.Samples[len(rep.Samples)-rep.Leak.Samples:]
}

// TestSoakLeakProof is the proof at CI size, each target in its
// own process and both soaks at once: the reference target leaking
// 60 MB/min is caught by a 30-s soak — "within 5 minutes" — both by the
// milestone's criterion (slope above 10 MB/h with R² > 0.8) and by
// leakProofThreshold; the clean target is not flagged by the latter. The
// clean target's verdict at 10 MB/h is logged, not asserted: 30 s cannot
// resolve it (see leakProofThreshold; TestSoakLeakFiveMinutes does, with
// M18_LONG=1).
//
// Drift is computed and logged, not asserted: over 30 s any p99 trend is
// thousands of %/h, so the verdict rests on R² alone, and on a shared
// 2-core machine another job starting mid-soak makes a steady trend. What
// is asserted is that it was measured (enough windows).
func TestSoakLeakProof(t *testing.T) {
	if resRace {
		t.Skip("asserts outcomes of real load, which the race detector's slowdown distorts")
	}
	// In parallel with the other soak tests: each target is its own
	// process, and only memory is judged.
	t.Parallel()
	d := 30 * time.Second
	if testing.Short() {
		d = 15 * time.Second
	}
	cfg := leakProofConfig(d)
	const leakMBPerMin = 60
	milestone := SoakBudget(BudgetNightly)
	t.Run("clean", func(t *testing.T) {
		t.Parallel()
		rep := runChildSoak(t, cfg, target.Options{})
		if rep.Leak.Leak {
			t.Errorf("clean target flagged as leaking: %s", rep.Leak.Reason)
		}
		m := AnalyzeLeak(settledSamples(t, rep), milestone.LeakMBPerHour, milestone.LeakMinR2)
		t.Logf("at the milestone's %.0f MB/h (not asserted over %v): %s", milestone.LeakMBPerHour, d, m.Reason)
		checkSoakFigures(t, rep, cfg)
	})
	t.Run("leaking", func(t *testing.T) {
		t.Parallel()
		rep := runChildSoak(t, cfg, target.Options{LeakMBPerMin: leakMBPerMin})
		if !rep.Leak.Leak {
			t.Errorf("a leak of %d MB/min not caught in %v at %.0f MB/h: %s", leakMBPerMin, d, cfg.LeakMBPerHour, rep.Leak.Reason)
		}
		if m := AnalyzeLeak(settledSamples(t, rep), milestone.LeakMBPerHour, milestone.LeakMinR2); !m.Leak {
			t.Errorf("a leak of %d MB/min not caught in %v by the milestone's criterion: %s", leakMBPerMin, d, m.Reason)
		}
		// The leak is live heap in a Go process with GOGC=100, whose heap
		// grows to about twice its live data before a collection: RSS rises
		// by one to two times the leak.
		injected := leakMBPerMin * 60.0
		if got := rep.Leak.SlopeMBPerHour; got < 0.7*injected || got > 3*injected {
			t.Errorf("slope %.0f MB/h, injected %.0f MB/h", got, injected)
		}
		checkSoakFigures(t, rep, cfg)
	})
}

// checkSoakFigures checks what a soak must have measured whatever the
// target did: RSS samples through the run (at least 80 % of those
// planned), and enough latency windows for a drift verdict.
func checkSoakFigures(t *testing.T, rep *SoakReport, cfg SoakConfig) {
	t.Helper()
	want := int(0.8 * float64(cfg.Duration-cfg.Settle) / float64(cfg.SampleEvery))
	if rep.Leak.Samples < want {
		t.Errorf("RSS fitted over %d samples, want ≥ %d", rep.Leak.Samples, want)
	}
	if rep.Drift.Windows < minDriftWindows || rep.Drift.MeanP99Ms <= 0 {
		t.Errorf("drift fitted over %d windows (mean p99 %.2f ms), want ≥ %d", rep.Drift.Windows, rep.Drift.MeanP99Ms, minDriftWindows)
	}
	if rep.Resources.ThreadsMax == 0 || rep.Resources.FDsMax == 0 || rep.Resources.CPUSeconds <= 0 {
		t.Errorf("resources not sampled: %+v", rep.Resources)
	}
}

// TestSoakLeakFiveMinutes is the proof at the milestone's size: a
// 5-minute soak catches a 1 MB/min leak (60 MB/h against 10 MB/h) and does
// not flag a clean target. It takes about 6 minutes (both soaks at once):
// run it with M18_LONG=1 go test -run FiveMinutes -v -timeout 20m ./runners/tasks/
func TestSoakLeakFiveMinutes(t *testing.T) {
	if os.Getenv("M18_LONG") != "1" {
		t.Skip("set M18_LONG=1 to run the 5-minute soaks (about 6 minutes)")
	}
	cfg := SoakBudget(BudgetNightly)
	cfg.Duration, cfg.Warmup, cfg.DriftWindow = 5*time.Minute, 30*time.Second, 5*time.Minute
	cfg.Window, cfg.MinWindowCount, cfg.CheckpointEvery = 10*time.Second, 500, 30*time.Second
	cfg.MaxP99Ms, cfg.MaxInFlight = 0, 16 // as leakProofConfig
	t.Run("clean", func(t *testing.T) {
		t.Parallel()
		if rep := runChildSoak(t, cfg, target.Options{}); rep.Leak.Leak {
			t.Errorf("clean 5-min soak flagged: %s", rep.Leak.Reason)
		}
	})
	t.Run("leaking", func(t *testing.T) {
		t.Parallel()
		if rep := runChildSoak(t, cfg, target.Options{LeakMBPerMin: 1}); !rep.Leak.Leak {
			t.Errorf("1 MB/min leak not caught in 5 min: %s", rep.Leak.Reason)
		}
	})
}

func checkCheckpoints(t *testing.T, dir string, rep *SoakReport) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, SoakCheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	var ck SoakCheckpoint
	if err := json.Unmarshal(b, &ck); err != nil {
		t.Fatalf("checkpoint file is not valid JSON: %v", err)
	}
	if !ck.Final || ck.Sequence != rep.Checkpoints || ck.Report.Leak.Samples != rep.Leak.Samples {
		t.Errorf("final checkpoint: final=%v seq=%d (want %d) samples=%d (want %d)", ck.Final, ck.Sequence, rep.Checkpoints, ck.Report.Leak.Samples, rep.Leak.Samples)
	}
	if rep.Checkpoints < 3 {
		t.Errorf("%d checkpoints in a 12-s soak at 3 s, want ≥ 3", rep.Checkpoints)
	}
	lines, err := os.ReadFile(filepath.Join(dir, SoakCheckpointLog))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range splitLines(lines) {
		var cl checkpointLine
		if err := json.Unmarshal(l, &cl); err != nil {
			t.Fatalf("checkpoint log line %d: %v", n+1, err)
		}
		n++
	}
	if n != rep.Checkpoints {
		t.Errorf("checkpoint log has %d lines, want %d", n, rep.Checkpoints)
	}
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != '\n' {
			i++
		}
		if i > 0 {
			out = append(out, b[:i])
		}
		if i == len(b) {
			break
		}
		b = b[i+1:]
	}
	return out
}
