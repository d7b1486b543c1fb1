package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/cli"
	"github.com/engram/m18-gate/internal/testenv"
)

// TestCompareConfirmExitCodes: compare --confirm fails (exit 1) only when
// the re-run regresses too; a re-run of an identical head turns the
// regression into inconclusive (exit 0); a first verdict without
// regression is copied (exit 0, "nothing to confirm"); bad input is exit 3.
func TestCompareConfirmExitCodes(t *testing.T) {
	dir := t.TempDir()
	r := writeCompareRuns(t, dir)
	first, pass := filepath.Join(dir, "first.json"), filepath.Join(dir, "pass.json")
	if code, out, errOut := testenv.Run(run, "compare", "--base", r.base, "--head", r.slow, "--output", first); code != exitRegression {
		t.Fatalf("first compare: exit %d, want 1\n%s%s", code, out, errOut)
	}
	if code, out, errOut := testenv.Run(run, "compare", "--base", r.base, "--head", r.same, "--output", pass); code != exitPass {
		t.Fatalf("A/A compare: exit %d, want 0\n%s%s", code, out, errOut)
	}
	w := func(name string, p50 float64, seed uint64) string {
		return writeResult(t, dir, name, "ci/fast_regression_check", "aaaaaaaaaaaa", p50, 10, seed, nil)
	}
	base2, slow2, same2 := w("base2", 0.2, 11), w("slow2", 0.24, 12), w("same2", 0.2, 13)
	near2 := w("near2", 0.206, 15) // +3 %: within noise of the 5 % threshold, undecided
	other := writeResult(t, dir, "otherscen", "ci/other", "aaaaaaaaaaaa", 0.2, 10, 14, nil)
	out := filepath.Join(dir, "out.json")
	// --confirm-looks: 9 pairs, the fewest with which the exact signed-rank
	// test reaches a look's half of α 0.01 (2/2⁹ < 0.005 < 2/2⁸; the
	// first verdict's 2 % noise asks for no more), then twice as many.
	runCases(t, []cmdCase{
		{"confirmed", []string{"compare", "--confirm", first, "--base", base2, "--head", slow2, "--output", out}, exitRegression, "confirmed by a re-run of 10 pairs: ", ""},
		{"not confirmed", []string{"compare", "--confirm", first, "--base", base2, "--head", same2}, exitPass, "not confirmed by a re-run of 10 pairs: ", ""},
		{"nothing to confirm", []string{"compare", "--confirm", pass, "--base", base2, "--head", slow2}, exitPass, "PASS", "nothing to confirm: " + pass},
		{"pairs", []string{"compare", "--confirm", first, "--confirm-pairs"}, exitPass, "8\n", ""},
		{"pairs of a pass", []string{"compare", "--confirm", pass, "--confirm-pairs"}, exitPass, "0\n", ""},
		{"unreadable first", []string{"compare", "--confirm", filepath.Join(dir, "missing.json"), "--base", base2, "--head", slow2}, exitUsage, "", "missing.json"},
		{"first not a verdict", []string{"compare", "--confirm", r.base, "--base", base2, "--head", slow2}, exitUsage, "", "is this an m18-gate verdict"},
		{"other scenario", []string{"compare", "--confirm", first, "--base", other, "--head", other}, exitUsage, "", "re-run the same scenarios"},
		{"no files", []string{"compare", "--confirm", first}, exitUsage, "", "needs the re-run's --base"},
		{"looks", []string{"compare", "--confirm", first, "--confirm-looks"}, exitPass, "9,18\n", ""},
		{"looks of a pass", []string{"compare", "--confirm", pass, "--confirm-looks"}, exitPass, "\n", ""},
		{"confirmed at a look", []string{"compare", "--confirm", first, "--looks", "9,18", "--paired", "--base", base2, "--head", slow2}, exitRegression, "confirmed by a re-run of 10 pairs (look 1 of 2): ", ""},
		{"cleared at a look", []string{"compare", "--confirm", first, "--looks", "9,18", "--paired", "--base", base2, "--head", same2}, exitPass, "not confirmed by a re-run of 10 pairs (look 1 of 2): ", ""},
		{"undecided at a look", []string{"compare", "--confirm", first, "--looks", "9,18", "--paired", "--base", base2, "--head", near2}, cli.ExitIncomplete, "", "not decided at this look: look 1 of 2 at 10 pairs"},
		{"looks and pairs", []string{"compare", "--confirm", first, "--confirm-looks", "--confirm-pairs"}, exitUsage, "", "one of"},
		{"pairs without confirm", []string{"compare", "--confirm-pairs"}, exitUsage, "", "need --confirm VERDICT"},
		{"looks without confirm", []string{"compare", "--confirm-looks"}, exitUsage, "", "need --confirm VERDICT"},
	})
	v, err := verdict.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if c := v.Confirmation; c == nil || c.Pairs != 10 || len(c.Comparisons) != v.Summary.Regressed || c.First.Outcome != verdict.OutcomeRegression {
		t.Errorf("confirmation %+v, want every regression of the first verdict confirmed on 10 pairs (summary %+v)", c, v.Summary)
	}
	code, stdout, stderr := testenv.Run(run, "compare", "--help")
	help := stdout + stderr
	if code != 0 || !strings.Contains(help, "--confirm VERDICT") || !strings.Contains(help, "alpha x alpha") {
		t.Errorf("compare --help (exit %d) does not describe --confirm:\n%s", code, help)
	}
}
