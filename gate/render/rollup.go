package render

import (
	"math"
	"regexp"
	"strings"

	"github.com/engram/m18-gate/gate/verdict"
)

// ScenarioRow is one scenario's line of the report: its decision, the
// comparison that decided it, and the geometric mean of its changes.
type ScenarioRow struct {
	Scenario string
	// By is the comparison that decided the scenario: the most severe
	// decision among its comparisons (a regression before an inconclusive
	// one before an improvement before unchanged), the largest change
	// among equals.
	By verdict.Comparison
	// Comparisons counts the scenario's comparisons.
	Comparisons int
	// Geomean is the geometric mean of the head/base median ratios of the
	// scenario's time comparisons, minus 1 (benchstat's geomean row): +0.032
	// is 3.2 % slower overall. NaN when none has a time unit and positive
	// medians.
	Geomean float64
	// GeomeanOf counts the comparisons in Geomean.
	GeomeanOf int
	// Owners are the config's owners of the scenario's regressions, valid
	// GitHub logins or teams only, deduplicated.
	Owners []string
}

// timeUnits are the units whose ratios the geometric mean rolls up: one
// direction (lower is better), comparable as ratios. Throughput and error
// rates are left out, as benchstat keeps units apart.
var timeUnits = map[string]bool{"ns": true, "µs": true, "us": true, "ms": true, "s": true, "sec": true, "sec/op": true, "ns/op": true}

// Rollup groups v's comparisons by scenario, most severe scenario first
// (the order of Sorted), each with the comparison that decided it.
func Rollup(v *verdict.Verdict) []ScenarioRow {
	var rows []ScenarioRow
	index := map[string]int{}
	logSum := map[string]float64{}
	for _, c := range Sorted(v) {
		i, ok := index[c.Scenario]
		if !ok {
			i = len(rows)
			index[c.Scenario] = i
			rows = append(rows, ScenarioRow{Scenario: c.Scenario, By: c})
		}
		r := &rows[i]
		r.Comparisons++
		if decisionRank(c) == decisionRank(r.By) && math.Abs(c.Change) > math.Abs(r.By.Change) {
			r.By = c
		}
		if timeUnits[c.Unit] && c.BaseMedian > 0 && c.HeadMedian > 0 && !math.IsInf(c.HeadMedian/c.BaseMedian, 0) {
			logSum[c.Scenario] += math.Log(c.HeadMedian / c.BaseMedian)
			r.GeomeanOf++
		}
		if c.Decision == verdict.Regressed {
			for _, o := range c.Owners {
				if o = mention(o); o != "" && !containsString(r.Owners, o) && len(r.Owners) < maxOwners {
					r.Owners = append(r.Owners, o)
				}
			}
		}
	}
	for i := range rows {
		r := &rows[i]
		r.Geomean = math.NaN()
		if r.GeomeanOf > 0 {
			r.Geomean = math.Exp(logSum[r.Scenario]/float64(r.GeomeanOf)) - 1
		}
	}
	return rows
}

// maxOwners caps the owners mentioned per scenario.
const maxOwners = 5

// login is a GitHub user ("alice") or team ("org/team") name.
var login = regexp.MustCompile(`^@?[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}(?:/[A-Za-z0-9][A-Za-z0-9_.-]{0,99})?$`)

// mention returns "@name" for a valid GitHub login or team, else "".
// Owners come from the gate's config; anything else (a sentence, a URL,
// markup) is not mentioned at all.
func mention(s string) string {
	s = strings.TrimSpace(s)
	if !login.MatchString(s) {
		return ""
	}
	return "@" + strings.TrimPrefix(s, "@")
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// Settle is what would settle the inconclusive comparisons of v, said
// once for all of them: "" when none is inconclusive.
func Settle(v *verdict.Verdict) string {
	n, most, unknown := 0, 0, false
	for _, c := range v.Comparisons {
		if c.Decision != verdict.Inconclusive {
			continue
		}
		n++
		if c.RunsNeeded > 0 {
			most = max(most, c.RunsNeeded)
		} else {
			unknown = true
		}
	}
	if n == 0 {
		return ""
	}
	what := plural(n, "comparison", "comparisons") + " could not be decided at these run counts"
	switch {
	case most > 1000:
		return what + "; settling them would take more than 1000 runs per side (about " + plural(most, "run", "runs") +
			"): the noise is too large for the threshold, so quieten the runner or widen the threshold"
	case most > 0 && !unknown:
		return what + "; about " + plural(most, "run", "runs") + " per side would settle " + pick(n, "it", "them all")
	case most > 0:
		return what + "; at least " + plural(most, "run", "runs") + " per side would settle " + pick(n, "it", "them")
	}
	return what + "; more runs per side would settle " + pick(n, "it", "them")
}

func pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Geomean formats a ScenarioRow's Geomean: "+3.2%", "—" when NaN.
func Geomean(g float64) string {
	if math.IsNaN(g) {
		return "—"
	}
	return SignedChange(g, false)
}
