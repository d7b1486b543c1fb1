package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/gate"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/result"
)

// TestAB runs the local A/B gate on a small scenario, in duet pairs
// (child processes at once) and in sequence (this process): a head three
// times slower is a regression, confirmed on fresh pairs when --confirm is
// on (or, on a machine too busy to tell, honestly inconclusive, never
// unchanged); every run and the verdict are written, each run records its
// target process's CPU time per request, a duet's sides overlap in time
// and each has a target process of its own.
func TestAB(t *testing.T) {
	if testing.Short() {
		t.Skip("up to 58 one-second runs: skipped with -short")
	}
	// Duet pairs run this test binary as m18-run (TestMain).
	t.Setenv("M18_RUN_TEST_MAIN", "1")
	tests := []struct {
		name    string
		args    []string
		overlap bool   // base and head of a pair measured at once
		confirm bool   // a confirming re-run
		target  string // result.Run.Target of every run
	}{
		{name: "duet", overlap: true, confirm: true, target: "external"},
		{name: "sequential", args: []string{"--duet=false", "--confirm=false"}, target: "builtin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// testdata/ab.toml is recall-only over 500 memories, 1 s a run.
			out := filepath.Join(t.TempDir(), "out")
			const pairs = 10
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"ab", "--scenario", filepath.Join("testdata", "ab.toml"), "--slowdown", "200", "--repetitions", strconv.Itoa(pairs),
				"--looks", "off", "--rate", "100", "--out", out, "--quiet"}, tt.args...), &stdout, &stderr)
			v, err := verdict.ReadFile(filepath.Join(out, "verdict.json"))
			if err != nil {
				t.Fatalf("no verdict (exit %d): %v\n%s", code, err, stderr.String())
			}
			if !strings.Contains(stdout.String(), "verdict written to") {
				t.Errorf("stdout does not name the verdict:\n%s", stdout.String())
			}
			for i := range pairs {
				b, h := abResult(t, out, "base", i), abResult(t, out, "head", i)
				for _, d := range []*result.Document{b, h} {
					if d.Repetitions[0].Target == nil || d.Repetitions[0].Target.CPUPerOpMs <= 0 {
						t.Errorf("pair %d: %s records no CPU time per request", i+1, d.Run.Labels)
					}
					if d.Run.Target != tt.target {
						t.Errorf("pair %d: target %q, want %q", i+1, d.Run.Target, tt.target)
					}
				}
				if tt.overlap && b.Run.Endpoint == h.Run.Endpoint {
					t.Errorf("pair %d: base and head measured one target, %s", i+1, b.Run.Endpoint)
				}
				rb, rh := b.Repetitions[0], h.Repetitions[0]
				if overlap := rb.Start.Before(rh.End) && rh.Start.Before(rb.End); overlap != tt.overlap {
					t.Errorf("pair %d: measured base %s–%s, head %s–%s: overlap %v, want %v", i+1,
						rb.Start.Format(time.StampMilli), rb.End.Format(time.StampMilli), rh.Start.Format(time.StampMilli), rh.End.Format(time.StampMilli), overlap, tt.overlap)
				}
			}
			confirms, _ := filepath.Glob(filepath.Join(out, "confirm-head-*.json"))
			if _, err := os.Stat(filepath.Join(out, "first-verdict.json")); (err == nil) != (len(confirms) > 0) {
				t.Errorf("%d confirming head runs, first verdict kept: %v", len(confirms), err == nil)
			}
			for _, c := range v.Comparisons {
				if c.Metric == "cpu_per_op" && c.Operation == "overall" {
					switch c.Decision {
					case verdict.Unchanged, verdict.Improved:
						t.Fatalf("a head three times slower was called %s: %s", c.Decision, c.Reason)
					case verdict.Inconclusive:
						t.Skipf("this machine is too busy to tell even a 200 %% slowdown (honestly inconclusive): %s", c.Reason)
					}
				}
			}
			if code != 1 {
				t.Errorf("exit %d, want 1 (regression)\n%s%s", code, stdout.String(), stderr.String())
			}
			if got := v.Confirmation != nil; got != tt.confirm {
				t.Fatalf("confirmed %v (%+v), want %v", got, v.Confirmation, tt.confirm)
			}
			if !tt.confirm {
				return
			}
			// Confirmed at a look of the plan the first verdict asks for,
			// on that look's pairs.
			first, err := verdict.ReadFile(filepath.Join(out, "first-verdict.json"))
			if err != nil {
				t.Fatal(err)
			}
			plan := gate.ConfirmLooks(first, gate.DefaultPolicy())
			s := v.Confirmation.Sequential
			if s == nil || !slices.Equal(s.Looks, plan) || s.Look < 1 || len(confirms) != plan[s.Look-1] || v.Confirmation.Pairs != len(confirms) || s.Continue {
				t.Errorf("confirmed on %d pairs with %d confirming runs at %+v, want a look of %v (gate.ConfirmLooks of the first verdict)", v.Confirmation.Pairs, len(confirms), s, plan)
			}
		})
	}
}

// abResult reads SIDE-NN.json of pair i in out.
func abResult(t *testing.T, out, side string, i int) *result.Document {
	t.Helper()
	d, err := result.ReadFile(filepath.Join(out, fmt.Sprintf("%s-%02d.json", side, i+1)))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDuetPairChildren: what a duet child's exit status means for ab — a
// failed [validation] keeps the result, a slipped generator keeps it with a
// warning, an interrupted child interrupts the gate, and any other failure
// names the side and ends with the child's stderr — and a side's target
// that does not start, or ends before its run, fails the pair naming it.
// The runs are a stand-in script; the targets are this test binary's
// m18-run target, through the script.
func TestDuetPairChildren(t *testing.T) {
	const serving = `M18_RUN_TEST_MAIN=1 exec "$TESTBIN" "$@"`
	tests := []struct {
		name      string
		exit      int    // the head run's
		target    string // the head target's shell
		interrupt bool
		fail      string // the error's end; "" for none
		says      string // what else the error says
		warn      string
	}{
		{name: "ok"},
		{name: "validation", exit: exitValidation},
		{name: "generator", exit: exitGenerator, warn: "kept; expect an inconclusive verdict"},
		{name: "interrupted", exit: exitInterrupted, interrupt: true, fail: "interrupted"},
		{name: "failed", exit: 3, fail: "head went wrong"},
		{name: "target refused", target: "echo 'cannot listen' >&2; exit 3", fail: "cannot listen", says: "exited before answering"},
		// Killed half a second after it started: answering by then, and
		// before its run (a second) ends.
		{name: "target crashed", target: `M18_RUN_TEST_MAIN=1 "$TESTBIN" "$@" & sleep 0.5; kill -9 $!; echo SIGSEGV >&2; exit 2`,
			fail: "SIGSEGV", says: "ended before"},
	}
	testBin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TESTBIN", testBin)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			self := filepath.Join(dir, "m18-run")
			// The head's target and run do as the case says; the base's
			// serve and succeed.
			script := fmt.Sprintf(`#!/bin/sh
case "$*" in
target*--slowdown*) %s ;;
target*) %s ;;
*m18-side:head*) sleep 1; echo "head went wrong" >&2; exit %d ;;
esac
sleep 1
`, cmp.Or(tt.target, serving), serving, tt.exit)
			if err := os.WriteFile(self, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			var progress bytes.Buffer
			r := abRunner{scenario: "ci/pr_gate", slowdown: 10, out: dir, duet: true, self: self, progress: &progress}
			paths, err := r.duetPair(context.Background(), "", 0, [2]string{"base", "head"})
			t.Log(err)
			if (err != nil) != (tt.fail != "") {
				t.Fatalf("error %v, want failure %v", err, tt.fail != "")
			}
			if got := errors.Is(err, load.ErrInterrupted); got != tt.interrupt {
				t.Errorf("interrupted %v, want %v (%v)", got, tt.interrupt, err)
			}
			if tt.fail != "" && !tt.interrupt && (!strings.HasPrefix(err.Error(), "head: ") || !strings.HasSuffix(strings.TrimSpace(err.Error()), tt.fail) || !strings.Contains(err.Error(), tt.says)) {
				t.Errorf("the error names neither the side nor the child's stderr, or does not say %q: %v", tt.says, err)
			}
			if !strings.Contains(progress.String(), tt.warn) || tt.warn == "" && progress.Len() > 0 {
				t.Errorf("progress %q, want %q", progress.String(), tt.warn)
			}
			if paths != [2]string{filepath.Join(dir, "base-01.json"), filepath.Join(dir, "head-01.json")} {
				t.Errorf("paths %q", paths)
			}
		})
	}
}

// TestABFlags: a mistyped flag is named with the right one, and too few
// repetitions are refused before anything runs.
func TestABFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"ab", "--slowdwn", "10"}, &stdout, &stderr); code != 3 || !strings.Contains(stderr.String(), "did you mean --slowdown?") {
		t.Errorf("mistyped flag: exit %d\n%s", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"ab", "--repetitions", "1"}, &stdout, &stderr); code != 3 || !strings.Contains(stderr.String(), "at least 2") {
		t.Errorf("--repetitions 1: exit %d\n%s", code, stderr.String())
	}
	for _, looks := range []string{"10", "10,8", "ten"} {
		stderr.Reset()
		if code := run([]string{"ab", "--looks", looks}, &stdout, &stderr); code != 3 || !strings.Contains(stderr.String(), "--looks: looks \""+looks+"\"") {
			t.Errorf("--looks %s: exit %d\n%s", looks, code, stderr.String())
		}
	}
	stderr.Reset()
	if code := run([]string{"ab", "--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String()+stderr.String(), "Exit codes") {
		t.Errorf("--help: exit %d, no exit codes\n%s", code, stderr.String())
	}
}

// TestABLooks: --looks auto is the action's plan (scripts/action/lib.sh
// looks_plan, TestLooksPlan): the repetitions, 1.5× and 2× them, and no
// looks below 8 pairs.
func TestABLooks(t *testing.T) {
	tests := []struct {
		looks string
		reps  int
		want  string
	}{
		{"auto", 10, "10,15,20"},
		{"auto", 8, "8,12,16"},
		{"auto", 7, ""},
		{"off", 10, ""},
		{"6,9,12", 10, "6,9,12"},
	}
	for _, tt := range tests {
		got, err := abLooks(tt.looks, tt.reps)
		if err != nil || got.String() != tt.want {
			t.Errorf("abLooks(%q, %d) = %q, %v; want %q", tt.looks, tt.reps, got.String(), err, tt.want)
		}
	}
}

// TestABInterrupted: an interrupted gate interrupts its duet children,
// which keep what they measured as .partial files and exit (ab waits for
// both); ab reports the interruption (exit 130) and writes no verdict.
func TestABInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("runs duet pairs: skipped with -short")
	}
	t.Setenv("M18_RUN_TEST_MAIN", "1")
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Interrupt once the first pair is written and the second is
		// measuring: its targets and runs start and preload in about a
		// second here (several under load), and then measure for 8 s.
		for {
			if _, err := os.Stat(filepath.Join(out, "head-01.json")); err == nil {
				time.Sleep(3 * time.Second)
				cancel()
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	var stdout, stderr bytes.Buffer
	err := ab(ctx, []string{"--scenario", filepath.Join("testdata", "ab.toml"), "--duration", "8s", "--repetitions", "4", "--looks", "off",
		"--out", out, "--quiet"}, &stdout, &stderr)
	if !errors.Is(err, load.ErrInterrupted) || exitCode(err) != exitInterrupted {
		t.Fatalf("error %v (exit %d), want interrupted (%d)\n%s", err, exitCode(err), exitInterrupted, stderr.String())
	}
	// The second pair's children were interrupted (not killed, and not
	// left to run out their 8 s): each wrote its partial result.
	for _, side := range []string{"base", "head"} {
		if _, err := os.Stat(filepath.Join(out, side+"-02.json.partial")); err != nil {
			t.Errorf("no partial result of the interrupted %s run: %v", side, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "verdict.json")); err == nil {
		t.Error("an interrupted gate wrote a verdict")
	}
}
