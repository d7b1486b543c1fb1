package actiontest

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/engram/m18-gate/gate"
	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/competitortest"
	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/result"
)

// TestConfirmSetting: the confirm input is auto, off or a number of pairs,
// and anything else is refused before a pair is measured.
func TestConfirmSetting(t *testing.T) {
	tests := []struct {
		in, want string
		fails    bool
	}{
		{"", "auto", false},
		{"auto", "auto", false},
		{"off", "off", false},
		{"8", "8", false},
		{"12", "12", false},
		{"1", "", true},
		{"0", "", true},
		{"08", "", true},
		{"yes", "", true},
		{"-3", "", true},
	}
	for _, tt := range tests {
		got, err := libShell(t, "confirm_setting", []string{"M18_CONFIRM=" + tt.in})
		if tt.fails {
			if err == nil || !strings.Contains(got, "::error title=m18-gate::input confirm is '"+tt.in+"'; want auto, off or a number of pairs") {
				t.Errorf("confirm %q: %v %q, want the refusal", tt.in, err, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("confirm %q: %v %q, want %q", tt.in, err, got, tt.want)
		}
	}
}

// TestConfirm runs measure.sh and gate.sh in ab mode as the action does
// (10 pairs of a one-second scenario, the sides taking turns — one port
// for all targets; TestDuet covers duets —, decided once, confirm on), the
// head's target being m18-target with --slowdown 100, so that every request
// costs it twice the CPU: the gate regresses, measures the pairs of a
// confirming re-run into out/confirm, looking at them in the plan
// compare --confirm-looks gives, and fails because the re-run regresses
// too, at its first look. A re-run whose pairs disagree — every other pair
// the head slowed, every other the base — can neither confirm nor clear:
// it goes on to its last look and passes as inconclusive. A head slowed
// only during its first 10 targets — the kind of passing disturbance the
// re-run is for — regresses at first, is not confirmed by the 8 pairs
// asked for (confirm: 8, decided once), and passes as inconclusive. With
// confirm off the slowed head's first verdict fails the gate, and no
// confirming pair is measured.
// (TestDuet's gates, too few pairs to regress, show that a gate without
// regression measures no confirming pair.)
func TestConfirm(t *testing.T) {
	testenv.Tools(t, "bash", "git", "curl")
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	testenv.Build(t, bin+"/", "./cmd/m18-run")
	testenv.Build(t, bin+"/", "./cmd/m18-target")
	testenv.Build(t, bin+"/", "./cmd/m18-gate")
	target := func(slowdown string) string {
		return "#!/bin/sh\n" + slowdown + "\nexec " + bin + `/m18-target --addr "$M18_ADDR" --slowdown "$s"` + "\n"
	}
	// 200 requests per run: the CPU per request of a 1-second run is then
	// steady enough for the exact test; 20 memories preload quickly.
	scenario := strings.NewReplacer("rate = 50.0", "rate = 200.0", "num_nodes = 100", "num_nodes = 20").Replace(fixture(t, "tiny.toml"))

	// starts counts a side's targets: n is the number started before this one.
	starts := func(side string) string {
		return "n=$(cat ../" + side + ".starts 2>/dev/null | wc -l); echo x >> ../" + side + ".starts; s=0; "
	}
	tests := []struct {
		name      string
		base      string // the base's target.sh ("": not slowed)
		head      string // the head's target.sh
		confirm   string
		exit      string // gate.sh's exit-code output
		verdict   string // and its verdict output
		look      int    // the look of compare --confirm-looks' plan the re-run stops at; 0: a fixed re-run
		pairs     int    // a fixed re-run's pairs
		confirmed bool
	}{
		{"slowed head", "", target("s=100"), "auto", "1", "regression", 1, 0, true},
		{"re-run undecided: to its last look", target(starts("base") + `if [ "$n" -ge 10 ] && [ $((n % 2)) = 1 ]; then s=100; fi`),
			target(starts("head") + `if [ "$n" -lt 10 ] || [ $((n % 2)) = 0 ]; then s=100; fi`), "auto", "0", "inconclusive", 2, 0, false},
		{"slowed head, confirm off", "", target("s=100"), "off", "1", "regression", 0, 0, false},
		{"slowed during the first pairs only", "", target(starts("head") + `if [ "$n" -lt 10 ]; then s=100; fi`),
			"8", "0", "inconclusive", 0, 8, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Side by side: both sides of a pair share the machine alike either way.
			t.Parallel()
			work := filepath.Join(t.TempDir(), "work")
			outputs := filepath.Join(t.TempDir(), "outputs")
			dir, _, _, env := abCheckouts(t, map[string]string{"tiny.toml": scenario, "target.sh": cmp.Or(tt.base, target("s=0"))}, map[string]string{"target.sh": tt.head}, bin, work)
			env = append(env, "M18_REPETITIONS=10", "M18_LOOKS=off", "M18_CONFIRM="+tt.confirm, "M18_DUET=false", "M18_SCENARIOS=tiny.toml",
				"M18_TARGET_COMMAND=./target.sh", fmt.Sprintf("M18_ENDPOINT=http://127.0.0.1:%d", competitortest.FreePort(t)),
				"GITHUB_OUTPUT="+outputs)
			out, code := runScript(t, dir, "measure.sh", env...)
			if code != 0 {
				t.Fatalf("measure.sh: exit %d\n%s", code, tail(out, 40))
			}
			if !strings.Contains(out, "m18-gate: pair 10/10 of tiny.toml done (order head base)") {
				t.Errorf("measure.sh did not log its 10 pairs, the sides taking turns:\n%s", tail(out, 20))
			}
			gateOut, code := runScript(t, dir, "gate.sh", env...)
			if code != 0 {
				t.Fatalf("gate.sh: exit %d\n%s", code, tail(gateOut, 40))
			}
			if tt.confirm == "off" {
				// The first verdict is the gate's: no re-run, no
				// confirmation, the regression fails the gate.
				if _, err := os.Stat(filepath.Join(work, "out", "confirm")); err == nil {
					t.Error("confirm off: measure.sh measured confirming pairs")
				}
				if strings.Contains(out, "to confirm") || strings.Contains(gateOut, "confirming") {
					t.Errorf("confirm off: the logs speak of confirming:\n%s\n%s", tail(out, 10), tail(gateOut, 10))
				}
				got, err := os.ReadFile(outputs)
				if err != nil {
					t.Fatal(err)
				}
				v, err := verdict.ReadFile(filepath.Join(work, "out", "verdict.json"))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(got), "exit-code=1\n") || !strings.Contains(string(got), "verdict=regression\n") ||
					v.Confirmation != nil || v.Summary.Outcome != verdict.OutcomeRegression {
					t.Errorf("confirm off: outputs\n%s\nconfirmation %+v, outcome %s; want a regression without confirmation", got, v.Confirmation, v.Summary.Outcome)
				}
				return
			}
			first := filepath.Join(work, "out", "first-verdict.json")
			pairs, of := tt.pairs, ""
			var plan gate.Looks
			if tt.look > 0 { // auto: the looks the first verdict asks for
				o, err := exec.Command(filepath.Join(bin, "m18-gate"), "compare", "--confirm", first, "--confirm-looks").CombinedOutput()
				if plan, err = gate.ParseLooks(strings.TrimSpace(string(o))); err != nil || plan[0] < 8 {
					t.Fatalf("m18-gate compare --confirm-looks: %v %q, want a plan whose first look is 8 pairs or more", err, o)
				}
				pairs, of = plan[tt.look-1], fmt.Sprintf(" (look %d of %d)", tt.look, len(plan))
				if !strings.Contains(out, "regression after 10 pairs; confirming it on fresh pairs, looking at "+plan.String()+" of them") {
					t.Errorf("measure.sh did not say it confirms looking at %s pairs:\n%s", plan, tail(out, 30))
				}
				for _, end := range plan[:tt.look-1] {
					if !strings.Contains(out, fmt.Sprintf("confirm look at %d pairs: not decided yet; measuring up to the next look", end)) {
						t.Errorf("measure.sh did not go on after its look at %d pairs:\n%s", end, tail(out, 30))
					}
				}
			} else if !strings.Contains(out, fmt.Sprintf("regression after 10 pairs; measuring %d more pairs to confirm it", pairs)) {
				t.Errorf("measure.sh did not say it confirms with %d pairs:\n%s", pairs, tail(out, 30))
			}
			if extra, err := os.Stat(filepath.Join(work, "out", "confirm", "head", fmt.Sprintf("tiny-%03d.json", pairs))); err == nil {
				t.Errorf("a confirming pair beyond the %d of its look was measured: %v", pairs, extra.Name())
			}
			for _, side := range []string{"base", "head"} {
				for i := range pairs {
					if _, err := os.Stat(filepath.Join(work, "out", "confirm", side, fmt.Sprintf("tiny-%03d.json", i))); err != nil {
						t.Errorf("confirming pair %d: %v", i, err)
					}
				}
			}
			got, err := os.ReadFile(outputs)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(got), "exit-code="+tt.exit+"\n") || !strings.Contains(string(got), "verdict="+tt.verdict+"\n") {
				t.Errorf("gate.sh outputs:\n%s\nwant exit-code=%s verdict=%s\n%s", got, tt.exit, tt.verdict, tail(gateOut, 30))
			}
			v, err := verdict.ReadFile(filepath.Join(work, "out", "verdict.json"))
			if err != nil {
				t.Fatal(err)
			}
			md, err := os.ReadFile(filepath.Join(work, "out", "verdict.md"))
			if err != nil {
				t.Fatal(err)
			}
			c := v.Confirmation
			if c == nil || c.Pairs != pairs || c.First.Pairs != 10 || c.First.Outcome != verdict.OutcomeRegression || len(c.Comparisons) == 0 {
				t.Fatalf("confirmation %+v, want %d pairs re-judging a regression on 10", c, pairs)
			}
			if s := c.Sequential; (s == nil) != (tt.look == 0) || (s != nil && (s.Look != tt.look || !slices.Equal(s.Looks, plan) || s.Continue)) {
				t.Errorf("the re-run's look %+v, want look %d of %v, decided", s, tt.look, plan)
			}
			// The slowed head's CPU per request doubles in every pair:
			// the re-run confirms it (its latency percentiles, noisier
			// on a busy machine, may or may not be confirmed too). The
			// head that is no longer slowed confirms nothing.
			cpu := false
			for _, r := range c.Comparisons {
				if r.Metric == result.MetricCPUPerOp {
					cpu = true
				}
				if (r.Metric == result.MetricCPUPerOp || !tt.confirmed) && r.Confirmed != tt.confirmed {
					t.Errorf("%s %s: confirmed %v (%s), want %v", r.Operation, r.Metric, r.Confirmed, r.Reason, tt.confirmed)
				}
			}
			if !cpu {
				t.Errorf("the first verdict did not regress on cpu_per_op: %+v", c.Comparisons)
			}
			want := fmt.Sprintf("confirmed by a re-run of %d pairs%s: ", pairs, of)
			if !tt.confirmed {
				want = "not " + want
			}
			if !strings.Contains(string(md), render.Escape(want)) || !strings.Contains(gateOut, want) {
				t.Errorf("the report and the log do not say %q:\n%s\n%s", want, md, tail(gateOut, 20))
			}
		})
	}
}
