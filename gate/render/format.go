package render

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchunit"

	"github.com/engram/m18-gate/gate/verdict"
)

// Status words, emoji-free, that lead the answer line.
const (
	StatusPass                  = "PASS"
	StatusRegression            = "REGRESSION"
	StatusCompetitiveRegression = "COMPETITIVE REGRESSION"
	StatusInconclusive          = "INCONCLUSIVE"
	StatusSkipped               = "SKIPPED"
)

// Status is the one-word state of a verdict: a regression outcome wins; a
// passing verdict that compared nothing is SKIPPED, one with inconclusive
// comparisons is INCONCLUSIVE, otherwise PASS.
func Status(v *verdict.Verdict) string {
	switch v.Summary.Outcome {
	case verdict.OutcomeCompetitiveRegression:
		return StatusCompetitiveRegression
	case verdict.OutcomeRegression:
		return StatusRegression
	}
	if len(v.Comparisons) == 0 && len(v.Criteria) == 0 {
		return StatusSkipped
	}
	for _, c := range v.Comparisons {
		if c.Decision == verdict.Inconclusive {
			return StatusInconclusive
		}
	}
	return StatusPass
}

// Output words: the one-word outcome the action's verdict output and
// m18-gate compare --outcome give, in one spelling (lower case, words joined
// by "-").
const (
	OutcomePass                  = "pass"
	OutcomeRegression            = "regression"
	OutcomeCompetitiveRegression = "competitive-regression"
	// OutcomeInconclusive: no regression, but some comparison could not be
	// decided, or nothing was compared.
	OutcomeInconclusive = "inconclusive"
)

// Outcome is the one-word outcome of v for scripts: Status in the output
// words, so that a passing verdict with inconclusive comparisons is
// "inconclusive", never "pass".
func Outcome(v *verdict.Verdict) string {
	switch Status(v) {
	case StatusRegression:
		return OutcomeRegression
	case StatusCompetitiveRegression:
		return OutcomeCompetitiveRegression
	case StatusInconclusive, StatusSkipped:
		return OutcomeInconclusive
	}
	return OutcomePass
}

// Answer is the verdict's one-line answer in plain text: the gate's own
// Summary.Answer when present (control characters removed), otherwise one
// counted from the comparisons ("2 regressions · 14 unchanged · 1
// inconclusive").
func Answer(v *verdict.Verdict) string {
	if a := strings.TrimSpace(Plain(v.Summary.Answer)); a != "" {
		return clip(a, MaxNameRunes)
	}
	s := verdict.Tally(v.Comparisons, max(len(v.Skipped), v.Summary.Skipped))
	return s.AnswerLine()
}

// Look is the line that says which look of a sequential gate decided:
// "look 2 of 3 (15 pairs; α 0.0025 of 0.01 spent here): last look"; empty
// for a fixed design.
func Look(v *verdict.Verdict) string {
	s := v.Sequential
	if s == nil {
		return ""
	}
	return fmt.Sprintf("look %d of %d (%d pairs; α %s of %s spent here): %s",
		s.Look, len(s.Looks), s.Pairs, Level(s.Spent), Level(s.Alpha), Plain(s.Reason))
}

// Level formats a significance level with three significant digits: 0.01,
// 0.0025, 0.00273 (a look's part of α: 0.01 × 6/22).
func Level(a float64) string {
	return strconv.FormatFloat(a, 'g', 3, 64)
}

// SortedCriteria returns the task criteria of v, failed ones first, each
// group in the verdict's order.
func SortedCriteria(v *verdict.Verdict) []verdict.Criterion {
	cs := slices.Clone(v.Criteria)
	slices.SortStableFunc(cs, func(a, b verdict.Criterion) int {
		switch {
		case a.Passed == b.Passed:
			return 0
		case !a.Passed:
			return -1
		}
		return 1
	})
	return cs
}

// Headline is the status word and the answer: "REGRESSION: 2 regressions ·
// 14 unchanged · 1 inconclusive". It is plain text (the check-run title);
// Markdown callers escape it.
func Headline(v *verdict.Verdict) string {
	return Status(v) + ": " + Answer(v)
}

// DecisionRank is the order decisions are listed in, in a verdict and in
// every report: regressed 0, inconclusive 1, improved 2, unchanged 3, and
// anything else after them.
func DecisionRank(decision string) int {
	switch decision {
	case verdict.Regressed:
		return 0
	case verdict.Inconclusive:
		return 1
	case verdict.Improved:
		return 2
	case verdict.Unchanged:
		return 3
	}
	return 4
}

// decisionRank orders comparisons for display: in DecisionRank order, with
// competitive regressions before the other regressions (and an unknown
// decision beside unchanged).
func decisionRank(c verdict.Comparison) int {
	if c.Decision == verdict.Regressed && c.Competitive {
		return 0
	}
	return min(DecisionRank(c.Decision)+1, 4)
}

// Sorted returns v's comparisons in display order (regressions first), stable
// within a decision.
func Sorted(v *verdict.Verdict) []verdict.Comparison {
	cs := slices.Clone(v.Comparisons)
	slices.SortStableFunc(cs, func(a, b verdict.Comparison) int {
		return decisionRank(a) - decisionRank(b)
	})
	return cs
}

// Value formats a median with its unit: three significant digits, SI
// prefixes from 10 000 up, fractions as percentages.
func Value(x float64, unit string) string {
	unit = Plain(unit)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	if unit == "fraction" {
		return strconv.FormatFloat(x*100, 'f', 2, 64) + "%"
	}
	if isBenchUnit(unit) {
		// As benchstat prints it: "4.220µ sec/op", "3.383Gi B/s", "0 B/op".
		return benchunit.Scale(x, benchunit.ClassOf(unit)) + " " + unit
	}
	s := sig3(x)
	if unit == "" {
		return s
	}
	return s + " " + unit
}

// isBenchUnit tells the units of go test -bench (per operation, and the
// B/s of b.SetBytes), which are scaled as benchstat scales them.
func isBenchUnit(unit string) bool {
	return strings.HasSuffix(unit, "/op") || unit == "B/s"
}

func sig3(x float64) string {
	a := math.Abs(x)
	switch {
	case a == 0:
		return "0"
	case a >= 1e10:
		return strconv.FormatFloat(x/1e9, 'f', 0, 64) + "G"
	case a >= 1e9:
		return trim(strconv.FormatFloat(x/1e9, 'f', 2, 64)) + "G"
	case a >= 1e7:
		return trim(strconv.FormatFloat(x/1e6, 'f', 1, 64)) + "M"
	case a >= 1e6:
		return trim(strconv.FormatFloat(x/1e6, 'f', 2, 64)) + "M"
	case a >= 1e4:
		return trim(strconv.FormatFloat(x/1e3, 'f', 1, 64)) + "k"
	case a >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 0.001:
		digits := 2 - int(math.Floor(math.Log10(a)))
		return trim(strconv.FormatFloat(x, 'f', digits, 64))
	}
	return strconv.FormatFloat(x, 'e', 2, 64)
}

func trim(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}

// Change formats a relative change signed with one decimal: "+5.2%".
func Change(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	s := strconv.FormatFloat(x*100, 'f', 1, 64)
	if s == "-0.0" {
		s = "0.0"
	}
	if !strings.HasPrefix(s, "-") && s != "0.0" {
		s = "+" + s
	}
	return s + "%"
}

// CI formats a confidence interval of a relative change: "[+3.1%, +7.4%]".
func CI(lo, hi float64) string {
	if lo == 0 && hi == 0 {
		return "—"
	}
	return "[" + Change(lo) + ", " + Change(hi) + "]"
}

// Points formats an absolute change of a fraction in percentage points,
// signed with one decimal: 0.052 → "+5.2pp".
func Points(x float64) string {
	s := Change(x)
	if s == "—" {
		return s
	}
	return strings.TrimSuffix(s, "%") + "pp"
}

// isPoints reports whether c's change is a difference of fractions (error
// rates) rather than a relative change: the gate compares error rates in
// absolute points, as compare_m17 does.
func isPoints(c verdict.Comparison) bool {
	return c.Unit == "fraction" || c.Metric == "error_rate"
}

// ChangeOf formats c's change: relative for most metrics, in percentage
// points for error rates.
func ChangeOf(c verdict.Comparison) string {
	if isPoints(c) {
		return Points(c.Change)
	}
	return Change(c.Change)
}

// CIOf formats c's confidence interval in the unit ChangeOf uses.
func CIOf(c verdict.Comparison) string {
	if !isPoints(c) {
		return CI(c.CILow, c.CIHigh)
	}
	if c.CILow == 0 && c.CIHigh == 0 {
		return "—"
	}
	return "[" + Points(c.CILow) + ", " + Points(c.CIHigh) + "]"
}

// P formats a p-value: "<0.001" below a thousandth, else three decimals.
func P(p float64) string {
	switch {
	case math.IsNaN(p):
		return "—"
	case p < 0.001:
		return "<0.001"
	}
	return strconv.FormatFloat(p, 'f', 3, 64)
}

// Percent formats a threshold-like fraction: 0.05 → "5%".
func Percent(x float64) string {
	return trim(strconv.FormatFloat(x*100, 'f', 2, 64)) + "%"
}

// shortSHA shortens a commit id for display.
func shortSHA(s string) string {
	s = Plain(s)
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// decisionWord is the decision column's text; the Markdown renderer bolds
// regressions.
func decisionWord(c verdict.Comparison) string {
	d := c.Decision
	if c.Competitive && d == verdict.Regressed {
		d = "regressed (competitive)"
	}
	if c.Follows != "" {
		d += " (as " + Plain(c.Follows) + ")" // the same measurement, counted there
	}
	return d
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// The formats of a comparison's reason, which the gate writes: more precise
// than the table columns, so that a reason explains its decision.

// SignedChange formats a change in a reason: relative as "+5.2%", absolute
// points (an error rate, as a fraction) as "+5.2pp".
func SignedChange(f float64, points bool) string {
	unit := "%"
	if points {
		unit = "pp"
	}
	return fmt.Sprintf("%+.1f%s", f*100, unit)
}

// Fraction formats a fraction as a percentage with one decimal: 0.052 →
// "5.2%".
func Fraction(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }

// ReasonP formats a p-value in a reason: four decimals, or scientific
// notation below 0.0001.
func ReasonP(p float64) string {
	if p < 0.0001 {
		return fmt.Sprintf("%.1e", p)
	}
	return fmt.Sprintf("%.4f", p)
}

// Number formats a plain value with four significant digits.
func Number(f float64) string {
	return fmt.Sprintf("%.4g", f)
}

// QuoteList quotes the names of a list, ["a" "b"], at most eight of
// them; "(none)" when it is empty.
func QuoteList(list []string) string {
	if len(list) == 0 {
		return "(none)"
	}
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) > 8 {
		q = append(q[:8], fmt.Sprintf("… (%d more)", len(list)-8))
	}
	return "[" + strings.Join(q, " ") + "]"
}

// RerunNumbers is a confirming re-run's change and interval:
// "+1.2% [-2.0%, +4.1%]" (points for error rates).
func RerunNumbers(r verdict.Rerun) string {
	return fmt.Sprintf("%s [%s, %s]", SignedChange(r.Change, r.Absolute), SignedChange(r.CILow, r.Absolute), SignedChange(r.CIHigh, r.Absolute))
}

// Confirmed is the line that says what a confirming re-run found:
// "confirmed by a re-run of 8 pairs: cpu_per_op +9.8% [+6.0%, +12.1%]", or
// "not confirmed by a re-run of 8 pairs: cpu_per_op +1.2% [-2.0%, +4.1%]"
// ("of 18 pairs (look 2 of 2)" for a sequential re-run), both parts when
// the re-run confirmed some comparisons and not others; empty without a
// re-run.
func Confirmed(v *verdict.Verdict) string {
	c := v.Confirmation
	if c == nil || len(c.Comparisons) == 0 {
		return ""
	}
	var yes, no []string
	for _, r := range c.Comparisons {
		what := r.Metric
		if r.Operation != "" && r.Operation != "overall" {
			what = r.Operation + " " + r.Metric
		}
		s := Plain(what) + " " + RerunNumbers(r)
		if r.Confirmed {
			yes = append(yes, s)
		} else {
			no = append(no, s)
		}
	}
	var parts []string
	of := fmt.Sprintf("by a re-run of %d pairs", c.Pairs)
	if s := c.Sequential; s != nil {
		of += fmt.Sprintf(" (look %d of %d)", s.Look, len(s.Looks))
	}
	if len(yes) > 0 {
		parts = append(parts, "confirmed "+of+": "+strings.Join(yes, ", "))
	}
	if len(no) > 0 {
		nc := "not confirmed " + of + ": "
		if len(yes) > 0 {
			nc = "not confirmed: "
		}
		parts = append(parts, nc+strings.Join(no, ", "))
	}
	return clip(strings.Join(parts, "; "), 4*MaxNameRunes)
}
