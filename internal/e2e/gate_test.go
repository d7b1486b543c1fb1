package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/gate"
	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/result"
	"github.com/engram/m18-gate/runners/scenario"
	"github.com/engram/m18-gate/runners/target"
)

// side is one target under test and the result files measured against it.
type side struct {
	name  string
	inst  *target.Instance
	files []string
}

// ab measures base and head in interleaved repetitions (A B B A A B …), one
// result document per repetition, as the action's ab mode does: machine
// drift during the run then falls on both sides alike.
func ab(t *testing.T, sc *scenario.Scenario, base, head target.Options, reps int, duration time.Duration, dir string) (b, h *side) {
	t.Helper()
	b, h = &side{name: "base"}, &side{name: "head"}
	for _, s := range []struct {
		s *side
		o target.Options
	}{{b, base}, {h, head}} {
		inst, err := target.Start(s.o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { inst.Close() })
		s.s.inst = inst
	}
	more(t, sc, b, h, reps, duration, dir)
	return b, h
}

// more measures reps further interleaved repetitions on both sides; the
// first repetition of a side preloads its target.
func more(t *testing.T, sc *scenario.Scenario, b, h *side, reps int, duration time.Duration, dir string) {
	t.Helper()
	nodes := sc.Data.NumNodes
	none := 0
	warmup := 300 * time.Millisecond
	run := func(s *side) {
		i := len(s.files)
		n := &none
		if i == 0 {
			n = &nodes
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		doc, err := load.Run(ctx, load.Config{
			Scenario:    sc,
			Endpoint:    s.inst.URL(),
			Target:      "builtin",
			Duration:    duration,
			Warmup:      &warmup,
			Repetitions: 1,
			Seed:        uint64(1000 + i),
			Nodes:       n,
			Hardware:    result.Fingerprint{Hash: "e2e000000000"},
		})
		if doc == nil {
			t.Fatalf("%s repetition %d: %v", s.name, i, err)
		}
		path := filepath.Join(dir, fmt.Sprintf("%s-%02d.json", s.name, i))
		if err := result.WriteFile(path, doc); err != nil {
			t.Fatal(err)
		}
		s.files = append(s.files, path)
	}
	for k := 0; k < reps; k++ {
		// A B B A: alternate which side goes first.
		if (len(b.files)+k)%2 == 0 {
			run(b)
			run(h)
		} else {
			run(h)
			run(b)
		}
	}
}

func compare(t *testing.T, b, h *side) *verdict.Verdict {
	t.Helper()
	// The runs were interleaved on one machine: compare them pair by pair,
	// as the action's ab mode does, so drift shared by a pair cancels.
	p := gate.DefaultPolicy()
	p.Paired = true
	// The base runs are repeated runs of one build, that is A/A runs: they
	// calibrate the noise, so that every verdict states its MDE.
	aa, err := input.Load(b.files...)
	if err != nil {
		t.Fatal(err)
	}
	if p.Calibration, err = gate.Calibrate(aa, len(b.files), p.Alpha, p.Power); err != nil {
		t.Fatal(err)
	}
	v, err := gate.CompareFiles(b.files, h.files, p)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func find(v *verdict.Verdict, op, metric string) (verdict.Comparison, bool) {
	for _, c := range v.Comparisons {
		if c.Operation == op && c.Metric == metric {
			return c, true
		}
	}
	return verdict.Comparison{}, false
}

// e2eScenario is testdata/e2e_recall.toml, recall-heavy on purpose so that
// the target's --slowdown shows end to end (the file says why).
func e2eScenario(t *testing.T) *scenario.Scenario {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "e2e_recall.toml"))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Parse("e2e_recall.toml", data)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestSlowdownIsCaught puts a 10 % CPU slowdown into the head's target and
// expects the gate to call p50 and mean latency regressed. p99 must be either
// regressed or honestly inconclusive (this machine's p99 is noisy), never
// "unchanged".
func TestSlowdownIsCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: 20 measured repetitions; skipped with -short")
	}
	sc, dir := e2eScenario(t), t.TempDir()
	b, h := ab(t, sc, target.Options{}, target.Options{Slowdown: 10}, 10, 4*time.Second, dir)
	v := compare(t, b, h)
	logVerdict(t, v)
	if !regressed(v, result.MetricP50, result.MetricMean) {
		// The gate said what 10 pairs could not settle on this machine; a
		// user would add runs, and so does the test, once.
		t.Logf("10 pairs did not settle it (%s); measuring 10 more", v.Summary.Answer)
		more(t, sc, b, h, 10, 4*time.Second, dir)
		v = compare(t, b, h)
		logVerdict(t, v)
		if !regressed(v, result.MetricP50, result.MetricMean) && honestAboutNoise(t, v) {
			// Still unsettled at 20 pairs: this machine is noisier than the
			// slowdown is large. The gate said so instead of guessing, which
			// is the behaviour wanted; what it must never do is call the
			// slowdown unchanged or improved (honestAboutNoise fails then).
			t.Skipf("20 interleaved pairs on this machine could not settle a 10 %% slowdown; the gate said inconclusive: %s", v.Summary.Answer)
		}
	}
	for _, m := range []string{result.MetricP50, result.MetricMean} {
		c, ok := find(v, result.OpPatternCompletion, m)
		if !ok {
			t.Fatalf("no %s %s comparison", result.OpPatternCompletion, m)
		}
		if c.Decision != verdict.Regressed {
			t.Errorf("%s %s: decision %s (%s), want regressed", c.Operation, m, c.Decision, c.Reason)
		}
	}
	if c, ok := find(v, result.OpPatternCompletion, result.MetricP99); ok {
		switch c.Decision {
		case verdict.Regressed:
		case verdict.Inconclusive:
			// Honest about the noise: why, and the smallest change this
			// many runs could have shown.
			if c.MDE == nil || !strings.Contains(c.Reason, "MDE") {
				t.Errorf("p99 inconclusive without its MDE: %q", c.Reason)
			} else {
				t.Logf("p99 inconclusive: %s", c.Reason)
			}
		default:
			t.Errorf("p99: decision %s (%s), want regressed or inconclusive", c.Decision, c.Reason)
		}
	}
	if v.Summary.Outcome != verdict.OutcomeRegression || v.Summary.ExitCode() != 1 {
		t.Errorf("outcome %s (exit %d), want regression (exit 1)", v.Summary.Outcome, v.Summary.ExitCode())
	}
}

func logVerdict(t *testing.T, v *verdict.Verdict) {
	t.Helper()
	for _, c := range v.Comparisons {
		t.Logf("%s %-10s n=%d base %8.3f head %8.3f change %+6.1f%% p %.4f → %s", c.Operation, c.Metric, c.NBase, c.BaseMedian, c.HeadMedian, 100*c.Change, c.PAdjusted, c.Decision)
	}
}

// honestAboutNoise fails the test when the gate called the slowdown's p50
// or mean unchanged or improved, and reports whether it called any of them
// inconclusive with the change in the right direction.
func honestAboutNoise(t *testing.T, v *verdict.Verdict) bool {
	t.Helper()
	honest := false
	for _, m := range []string{result.MetricP50, result.MetricMean} {
		c, ok := find(v, result.OpPatternCompletion, m)
		if !ok {
			t.Fatalf("no %s comparison", m)
		}
		switch c.Decision {
		case verdict.Unchanged, verdict.Improved:
			t.Fatalf("%s: the gate called a 10 %% slowdown %s: %s", m, c.Decision, c.Reason)
		case verdict.Inconclusive:
			if c.Change <= 0 || c.Reason == "" {
				t.Fatalf("%s: inconclusive with change %+.1f%% and reason %q", m, 100*c.Change, c.Reason)
			}
			honest = true
		}
	}
	return honest
}

// regressed reports whether every named metric of the scenario's one
// operation was called regressed.
func regressed(v *verdict.Verdict, metrics ...string) bool {
	for _, m := range metrics {
		if c, ok := find(v, result.OpPatternCompletion, m); !ok || c.Decision != verdict.Regressed {
			return false
		}
	}
	return true
}

// TestIdenticalTargetsPass measures two identical configurations and expects
// no regression in any metric, several times over: a gate that cries wolf on
// A/A is switched off by its users.
func TestIdenticalTargetsPass(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: repeated A/A verdicts; skipped with -short")
	}
	rounds := 5
	for r := range rounds {
		b, h := ab(t, e2eScenario(t), target.Options{}, target.Options{}, 10, time.Second, t.TempDir())
		v := compare(t, b, h)
		t.Logf("round %d: %s", r+1, v.Summary.Answer)
		for _, c := range v.Comparisons {
			if c.Decision == verdict.Regressed {
				t.Errorf("round %d: A/A regression on %s %s: %+.1f%% p %.4f (%s)", r+1, c.Operation, c.Metric, 100*c.Change, c.PAdjusted, c.Reason)
			}
		}
	}
}
