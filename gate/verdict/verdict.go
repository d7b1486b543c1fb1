// Package verdict defines the m18.verdict/v1 document: every comparison the
// gate made, with its numbers and decision, and a summary that leads with the
// answer. The gate writes it; the reporter and the action read it, and treat
// it as untrusted data (Decode validates it).
package verdict

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/engram/m18-gate/internal/atomicfile"
	"github.com/engram/m18-gate/internal/jsondoc"
	"github.com/engram/m18-gate/internal/sizecap"
)

// SchemaVersion names the document format this package reads and writes.
const SchemaVersion = "m18.verdict/v1"

// Decisions a comparison can reach.
const (
	Regressed    = "regressed"
	Improved     = "improved"
	Unchanged    = "unchanged"
	Inconclusive = "inconclusive"
)

// Outcomes of a whole verdict, and the exit codes m18-gate maps them to.
const (
	OutcomePass                  = "pass"                   // exit 0
	OutcomeRegression            = "regression"             // exit 1
	OutcomeCompetitiveRegression = "competitive_regression" // exit 2
)

// Verdict is one m18.verdict/v1 document.
type Verdict struct {
	Schema    string    `json:"schema"`
	CreatedAt time.Time `json:"created_at"`
	// ToolVersion is the m18-gate version that decided.
	ToolVersion string `json:"tool_version"`
	// Settings are the defaults in force (per-comparison overrides show in
	// each Comparison's Threshold).
	Alpha                float64 `json:"alpha"`
	Threshold            float64 `json:"threshold"`
	CompetitiveThreshold float64 `json:"competitive_threshold"`
	Competitive          bool    `json:"competitive"`
	// Base and Head describe the two sides.
	Base Side `json:"base"`
	Head Side `json:"head"`
	// Comparisons holds every comparison made, regressions first.
	Comparisons []Comparison `json:"comparisons"`
	// Criteria holds the success criteria of M18 tasks (m18-run task), as
	// measured; a failed one fails the gate like an internal regression.
	Criteria []Criterion `json:"criteria,omitempty"`
	// Skipped lists what was not compared, and why.
	Skipped []Skip `json:"skipped,omitempty"`
	// Competitive is Engram's position against a competitor, when one
	// was compared (m18-gate compare --versus, m18-gate competitive).
	Versus *Competitive `json:"versus,omitempty"`
	// Sequential is the look of a sequential gate (m18-gate compare
	// --looks) this verdict was decided at; nil for a fixed design.
	Sequential *Sequential `json:"sequential,omitempty"`
	// Confirmation is the confirming re-run (m18-gate compare --confirm):
	// the comparisons this verdict first called regressed, judged again on
	// fresh pairs; nil when there was none.
	Confirmation *Confirmation `json:"confirmation,omitempty"`
	// Warnings travel with the verdict instead of being printed.
	Warnings []string `json:"warnings,omitempty"`
	Summary  Summary  `json:"summary"`
	// Links to the workflow run and the dashboard, when known.
	Links Links `json:"links,omitempty"`
	// Markdown is the rendered table the PR comment uses, when rendered.
	Markdown string `json:"markdown,omitempty"`
}

// Sequential describes one look of a sequential gate: pairs are measured in
// looks and the gate stops at the first clear verdict, each look testing at
// the part of Alpha it may spend (Spent), so that all looks together raise
// a false alarm with probability at most Alpha.
type Sequential struct {
	// Look is this look, from 1, of the planned Looks (numbers of pairs).
	Look  int   `json:"look"`
	Looks []int `json:"looks"`
	// Pairs is the number of pairs this look decided on.
	Pairs int `json:"pairs"`
	// Alpha is the whole design's; Spent this look's part of it, the
	// level every comparison of this verdict was tested at.
	Alpha float64 `json:"alpha"`
	Spent float64 `json:"spent"`
	// Continue is true when the verdict is not clear yet (inconclusive
	// comparisons, no regression) and a later look remains: measure up to
	// the next look's pairs and compare again.
	Continue bool `json:"continue"`
	// Reason says why the gate stops or goes on.
	Reason string `json:"reason"`
}

// Confirmation describes a confirming re-run: the comparisons a first
// verdict called regressed were judged again, with the same policy, on
// pairs measured after it. A comparison stays regressed only when the
// re-run also calls it regressed; otherwise it is inconclusive.
type Confirmation struct {
	// Pairs is the number of pairs the re-run measured.
	Pairs int `json:"pairs"`
	// Alpha is the level the re-run tested at (Benjamini–Hochberg over
	// its comparisons only): a look's part of the whole when the re-run
	// was sequential.
	Alpha float64 `json:"alpha"`
	// Sequential is the re-run's look when it was measured in looks of
	// its own (m18-gate compare --confirm --looks); nil when it decided
	// once on all its pairs. Continue asks for the next look's pairs.
	Sequential *Sequential `json:"sequential,omitempty"`
	// Base and Head are the re-run's files.
	Base Side `json:"base"`
	Head Side `json:"head"`
	// First is when and how the first verdict decided.
	First FirstDecision `json:"first"`
	// Comparisons lists the re-run's judgement of every comparison the
	// first verdict called regressed.
	Comparisons []Rerun `json:"comparisons"`
}

// FirstDecision is the first verdict of a confirmed gate, in brief.
type FirstDecision struct {
	CreatedAt time.Time `json:"created_at"`
	Outcome   string    `json:"outcome"`
	// Pairs the first verdict decided on (0 when unpaired).
	Pairs int `json:"pairs,omitempty"`
	// Look and Looks of a sequential first verdict (0 and none for a
	// fixed design).
	Look  int   `json:"look,omitempty"`
	Looks []int `json:"looks,omitempty"`
}

// Rerun is one comparison as the confirming re-run judged it.
type Rerun struct {
	Scenario  string `json:"scenario"`
	Operation string `json:"operation"`
	Metric    string `json:"metric"`
	// Confirmed is true when the re-run also called it regressed.
	Confirmed bool `json:"confirmed"`
	// Decision and Reason are the re-run's.
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
	// The re-run's numbers, as in Comparison.
	Change    float64 `json:"change"`
	CILow     float64 `json:"ci_low"`
	CIHigh    float64 `json:"ci_high"`
	PValue    float64 `json:"p_value"`
	PAdjusted float64 `json:"p_adjusted"`
	// Absolute is true when Change is a difference (error rates), not a
	// relative change.
	Absolute bool `json:"absolute,omitempty"`
}

// Side describes the base or the head sample set.
type Side struct {
	Files       []string `json:"files"`
	Commit      string   `json:"commit,omitempty"`
	Ref         string   `json:"ref,omitempty"`
	Fingerprint string   `json:"fingerprint,omitempty"`
	// Hardware is a one-line description of the machine (CPU, cores, memory).
	Hardware string `json:"hardware,omitempty"`
}

// Comparison is the decision for one (scenario, operation, metric).
type Comparison struct {
	Scenario  string `json:"scenario"`
	Operation string `json:"operation"`
	Metric    string `json:"metric"`
	// Unit of the medians ("ms", "ops/s", "fraction", "ns/op", "s", …).
	Unit string `json:"unit,omitempty"`
	// HigherIsBetter is true for throughput-like metrics.
	HigherIsBetter bool    `json:"higher_is_better"`
	NBase          int     `json:"n_base"`
	NHead          int     `json:"n_head"`
	BaseMedian     float64 `json:"base_median"`
	HeadMedian     float64 `json:"head_median"`
	// Change is head/base − 1 of the medians (0.052 is 5.2 % higher).
	Change float64 `json:"change"`
	// CILow and CIHigh bound Change at confidence 1−alpha (bootstrap).
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
	// HodgesLehmann is the Hodges–Lehmann estimate of head − base, in Unit.
	HodgesLehmann float64 `json:"hodges_lehmann"`
	// PValue is the raw two-sided Mann-Whitney p; PAdjusted is after
	// Benjamini–Hochberg across every comparison in this verdict.
	PValue    float64 `json:"p_value"`
	PAdjusted float64 `json:"p_adjusted"`
	// Threshold is the relative change that counts (0.05 is 5 %).
	Threshold   float64 `json:"threshold"`
	Competitive bool    `json:"competitive,omitempty"`
	Decision    string  `json:"decision"`
	// Follows names the metric this one is derived from ("sec/op" for a
	// go test -bench B/s): its decision is that metric's, and it is not
	// counted again in the summary. Empty for a metric decided on its own.
	Follows string `json:"follows,omitempty"`
	// Reason says why, in a sentence a reviewer can act on.
	Reason string `json:"reason"`
	// RunsNeeded, for inconclusive comparisons, estimates the runs per side
	// that would settle it (0 when unknown).
	RunsNeeded int `json:"runs_needed,omitempty"`
	// MDE is the minimum detectable relative effect for this n and alpha,
	// when calibration data was given.
	MDE *float64 `json:"mde,omitempty"`
	// Owners from the config, to mention or route to.
	Owners []string `json:"owners,omitempty"`
	// Source points at the config or scenario line this comparison's policy
	// comes from, for annotations.
	Source *Source `json:"source,omitempty"`
}

// Criterion is one success criterion of an M18 task, from the checks of
// the task's result document: what was measured against which limit.
type Criterion struct {
	// Task is the task's id ("002"); Scenario the document's run.scenario.
	Task     string `json:"task"`
	Scenario string `json:"scenario"`
	// Name is the check's name ("002/rss_slope_mib_per_h").
	Name string `json:"name"`
	// Measured is the measured value; Limit the value it was checked
	// against (the check's expected value); Message says it in words,
	// with the relation and unit ("measured 12 ms, expected ≤ 10 ms").
	Measured float64 `json:"measured"`
	Limit    float64 `json:"limit"`
	Passed   bool    `json:"passed"`
	Message  string  `json:"message,omitempty"`
	// File is the task document the criterion was read from.
	File string `json:"file,omitempty"`
}

// Source is a place in a file of the user's repository.
type Source struct {
	Path string `json:"path"`
	Line int    `json:"line"`
}

// Skip is a check that was not made, and why.
type Skip struct {
	Scenario  string `json:"scenario"`
	Operation string `json:"operation,omitempty"`
	Metric    string `json:"metric,omitempty"`
	Reason    string `json:"reason"`
}

// Summary counts decisions and states the outcome.
type Summary struct {
	Regressed    int `json:"regressed"`
	Improved     int `json:"improved"`
	Unchanged    int `json:"unchanged"`
	Inconclusive int `json:"inconclusive"`
	Skipped      int `json:"skipped"`
	// CompetitiveRegressed counts regressions among competitive comparisons.
	CompetitiveRegressed int `json:"competitive_regressed"`
	// CriteriaFailed and CriteriaPassed count the task criteria.
	CriteriaFailed int `json:"criteria_failed,omitempty"`
	CriteriaPassed int `json:"criteria_passed,omitempty"`
	// Outcome is OutcomePass, OutcomeRegression or OutcomeCompetitiveRegression.
	Outcome string `json:"outcome"`
	// Answer is the one-line answer: "2 regressions · 14 unchanged · 1 inconclusive".
	Answer string `json:"answer"`
	// DecidedBy lists the metrics whose regressions decided the outcome
	// (say cpu_per_op when the target's CPU per request caught what latency
	// could not); empty when nothing regressed.
	DecidedBy []string `json:"decided_by,omitempty"`
}

// Links are URLs a report points to.
type Links struct {
	Run       string `json:"run,omitempty"`
	Dashboard string `json:"dashboard,omitempty"`
	Artifact  string `json:"artifact,omitempty"`
}

// Tally counts the comparisons by decision (and the competitive ones among
// the regressions), the metrics that regressed (DecidedBy, in the order of
// cs) and the skips; Outcome and Answer are left empty. A
// comparison that follows another (Follows) is not counted: it is the same
// measurement.
func Tally(cs []Comparison, skipped int) Summary {
	s := Summary{Skipped: skipped}
	for _, c := range cs {
		if c.Follows != "" {
			continue // counted once, under the metric it follows
		}
		switch c.Decision {
		case Regressed:
			s.Regressed++
			if !slices.Contains(s.DecidedBy, c.Metric) {
				s.DecidedBy = append(s.DecidedBy, c.Metric)
			}
			if c.Competitive {
				s.CompetitiveRegressed++
			}
		case Improved:
			s.Improved++
		case Unchanged:
			s.Unchanged++
		case Inconclusive:
			s.Inconclusive++
		}
	}
	return s
}

// AnswerLine is the one-line answer for these counts: "2 regressions ·
// 14 unchanged · 1 inconclusive", led by "no regression" when nothing
// regressed and something was compared.
func (s Summary) AnswerLine() string {
	var parts []string
	add := func(n int, one, many string) {
		if n == 1 {
			parts = append(parts, "1 "+one)
		} else if n > 1 {
			parts = append(parts, strconv.Itoa(n)+" "+many)
		}
	}
	add(s.CriteriaFailed, "criterion failed", "criteria failed")
	add(s.Regressed, "regression", "regressions")
	add(s.Improved, "improvement", "improvements")
	add(s.Unchanged, "unchanged", "unchanged")
	add(s.Inconclusive, "inconclusive", "inconclusive")
	add(s.Skipped, "skipped", "skipped")
	add(s.CriteriaPassed, "criterion met", "criteria met")
	if len(parts) == 0 {
		return "nothing compared"
	}
	if s.Regressed == 0 && s.CriteriaFailed == 0 && s.Improved+s.Unchanged+s.Inconclusive+s.CriteriaPassed > 0 {
		// The words a reviewer looks for first.
		parts = append([]string{"no regression"}, parts...)
	}
	return strings.Join(parts, " · ")
}

// Summarize recomputes the summary from the comparisons and skips alone:
// any internal (non-competitive) regression makes the outcome
// OutcomeRegression, else any competitive one OutcomeCompetitiveRegression,
// else OutcomePass; Answer is the AnswerLine. This is the gate's rule; a
// reader of an untrusted verdict uses it instead of the stored summary.
func Summarize(cs []Comparison, skips []Skip) Summary {
	return SummarizeWith(cs, skips, nil)
}

// SummarizeWith is Summarize with task criteria: a failed criterion makes
// the outcome OutcomeRegression, as an internal regression does.
func SummarizeWith(cs []Comparison, skips []Skip, crit []Criterion) Summary {
	s := Tally(cs, len(skips))
	for _, c := range crit {
		if c.Passed {
			s.CriteriaPassed++
		} else {
			s.CriteriaFailed++
		}
	}
	switch {
	case s.Regressed > s.CompetitiveRegressed || s.CriteriaFailed > 0:
		s.Outcome = OutcomeRegression
	case s.CompetitiveRegressed > 0:
		s.Outcome = OutcomeCompetitiveRegression
	default:
		s.Outcome = OutcomePass
	}
	s.Answer = s.AnswerLine()
	return s
}

// Trusted returns a copy of v fit to publish when v came from a file anyone
// could have written (an artifact of a pull request's workflow): the
// summary is recomputed from the comparisons (Summarize), so a faked
// outcome or answer line never reaches the report; the links are replaced
// by links (empty: dropped), which the caller computes from what it trusts
// (the GitHub context: server URL, repository, run id); and the
// pre-rendered Markdown is dropped. The comparisons themselves are data, and
// every renderer escapes them.
func (v *Verdict) Trusted(links Links) *Verdict {
	t := *v
	t.Comparisons = append([]Comparison(nil), v.Comparisons...)
	t.Criteria = append([]Criterion(nil), v.Criteria...)
	t.Summary = t.Summarize()
	t.Links = links
	t.Markdown = ""
	return &t
}

// The outcomes that fail the gate, as errors: Summary.Err wraps them, a
// command maps them to its exit codes with errors.Is.
var (
	ErrRegression            = errors.New("internal regression")
	ErrCompetitiveRegression = errors.New("competitive regression")
)

// Err returns nil when the outcome passes, else ErrRegression or
// ErrCompetitiveRegression with the answer line.
func (s Summary) Err() error {
	switch s.Outcome {
	case OutcomeRegression:
		return fmt.Errorf("%w: %s", ErrRegression, s.Answer)
	case OutcomeCompetitiveRegression:
		return fmt.Errorf("%w: %s", ErrCompetitiveRegression, s.Answer)
	}
	return nil
}

// ExitCode maps an outcome to m18-gate's exit code.
func (s Summary) ExitCode() int {
	switch s.Outcome {
	case OutcomeRegression:
		return 1
	case OutcomeCompetitiveRegression:
		return 2
	}
	return 0
}

// MaxFileBytes bounds a verdict file: a verdict of ten thousand comparisons
// is under 10 MiB, so a larger file is not one m18-gate wrote, and reading
// it whole could exhaust the runner's memory.
const MaxFileBytes = 32 << 20

// Decode reads and validates a verdict: at most MaxFileBytes, the schema
// must be SchemaVersion, no unknown fields, every decision one of the four
// known ones.
func Decode(r io.Reader) (*Verdict, error) {
	data, err := sizecap.ReadAll(r, MaxFileBytes, "verdict", "")
	if err != nil {
		return nil, err
	}
	return decode(data)
}

func decode(data []byte) (*Verdict, error) {
	var v Verdict
	if err := jsondoc.Decode(data, SchemaVersion, "an m18-gate verdict", &v); err != nil {
		return nil, err
	}
	for i, c := range v.Comparisons {
		switch c.Decision {
		case Regressed, Improved, Unchanged, Inconclusive:
		default:
			return nil, fmt.Errorf("comparisons[%d].decision is %q, want regressed, improved, unchanged or inconclusive", i, c.Decision)
		}
	}
	switch v.Summary.Outcome {
	case OutcomePass, OutcomeRegression, OutcomeCompetitiveRegression:
	default:
		return nil, fmt.Errorf("summary.outcome is %q, want pass, regression or competitive_regression", v.Summary.Outcome)
	}
	if err := v.Sequential.validate("sequential"); err != nil {
		return nil, err
	}
	if err := v.Confirmation.validate(); err != nil {
		return nil, err
	}
	return &v, nil
}

// validate checks that a look, named field in messages, is one of its
// plan's; nil is no look.
func (s *Sequential) validate(field string) error {
	if s != nil && (s.Look < 1 || s.Look > len(s.Looks)) {
		return fmt.Errorf("%s.look is %d, want 1 to %d (its looks %v)", field, s.Look, len(s.Looks), s.Looks)
	}
	return nil
}

// validate checks a confirmation: pairs not negative, every re-run named,
// its decision known, and Confirmed exactly when it regressed.
func (c *Confirmation) validate() error {
	if c == nil {
		return nil
	}
	if c.Pairs < 0 {
		return fmt.Errorf("confirmation.pairs is %d, want the number of pairs the re-run measured (≥ 0)", c.Pairs)
	}
	if err := c.Sequential.validate("confirmation.sequential"); err != nil {
		return err
	}
	switch c.First.Outcome {
	case OutcomePass, OutcomeRegression, OutcomeCompetitiveRegression:
	default:
		return fmt.Errorf("confirmation.first.outcome is %q, want pass, regression or competitive_regression", c.First.Outcome)
	}
	for i, r := range c.Comparisons {
		if r.Scenario == "" || r.Metric == "" {
			return fmt.Errorf("confirmation.comparisons[%d] names no scenario or metric", i)
		}
		switch r.Decision {
		case Regressed, Improved, Unchanged, Inconclusive:
		default:
			return fmt.Errorf("confirmation.comparisons[%d].decision is %q, want regressed, improved, unchanged or inconclusive", i, r.Decision)
		}
		if r.Confirmed != (r.Decision == Regressed) {
			return fmt.Errorf("confirmation.comparisons[%d].confirmed is %v but its decision is %q: a re-run confirms exactly when it regressed", i, r.Confirmed, r.Decision)
		}
	}
	return nil
}

// ReadFile decodes the verdict at path; errors name the path. A file over
// MaxFileBytes is refused before it is read.
func ReadFile(path string) (*Verdict, error) {
	data, err := sizecap.ReadFile(path, MaxFileBytes, "verdict")
	if err != nil {
		return nil, err
	}
	v, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// Encode writes v as indented JSON, setting its schema.
func Encode(w io.Writer, v *Verdict) error {
	v.Schema = SchemaVersion
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteFile writes v to path atomically (atomicfile.Write), readable by all.
func WriteFile(path string, v *Verdict) error {
	var buf bytes.Buffer
	if err := Encode(&buf, v); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes(), 0o644)
}
