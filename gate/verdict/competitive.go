package verdict

// Competitive is the competitive part of a verdict: Engram's position
// against one competitor on the same runner and fingerprint, how it moved
// since the baseline, and the milestone targets.
type Competitive struct {
	// Competitor is the competitor's name and version as its runs
	// recorded them ("postgres 15.10"); Method how its operations ran.
	Competitor string `json:"competitor"`
	Method     string `json:"method,omitempty"`
	// Threshold is the position worsening that counts (0.1 is 10 %).
	Threshold float64 `json:"threshold"`
	// Files: Engram's and the competitor's runs now, and at the baseline.
	Engram         []string   `json:"engram"`
	Versus         []string   `json:"versus"`
	BaselineEngram []string   `json:"baseline_engram,omitempty"`
	BaselineVersus []string   `json:"baseline_versus,omitempty"`
	Positions      []Position `json:"positions"`
	Targets        []Target   `json:"targets,omitempty"`
	// Regressed counts positions regressed and targets missed.
	Regressed int `json:"regressed"`
}

// Position is Engram's standing against the competitor on one
// (scenario, operation, metric).
type Position struct {
	Scenario       string `json:"scenario"`
	Operation      string `json:"operation"`
	Metric         string `json:"metric"`
	HigherIsBetter bool   `json:"higher_is_better"`
	NEngram        int    `json:"n_engram"`
	NVersus        int    `json:"n_versus"`
	// EngramMedian and VersusMedian are the medians over runs.
	EngramMedian float64 `json:"engram_median"`
	VersusMedian float64 `json:"versus_median"`
	// Ratio is EngramMedian/VersusMedian with its bootstrap interval
	// (below 1 is Engram faster for latencies, above 1 more throughput).
	Ratio     float64 `json:"ratio"`
	RatioLow  float64 `json:"ratio_low"`
	RatioHigh float64 `json:"ratio_high"`
	// BaselineRatio is the same ratio at the baseline, when one was given;
	// Change is how much worse the position got, relative (0.3: the
	// ratio of ratios is 30 % worse), with its interval and p-values
	// (raw, and Benjamini–Hochberg adjusted across the verdict's
	// positions).
	BaselineRatio *float64 `json:"baseline_ratio,omitempty"`
	Change        *float64 `json:"change,omitempty"`
	ChangeLow     *float64 `json:"change_low,omitempty"`
	ChangeHigh    *float64 `json:"change_high,omitempty"`
	PValue        *float64 `json:"p_value,omitempty"`
	PAdjusted     *float64 `json:"p_adjusted,omitempty"`
	// Decision is regressed, improved, unchanged or inconclusive against
	// the baseline; "" without one.
	Decision string `json:"decision,omitempty"`
	Reason   string `json:"reason"`
}

// Target is one milestone target of the policy file checked against
// Engram's runs.
type Target struct {
	Scenario  string `json:"scenario"`
	Operation string `json:"operation"`
	Metric    string `json:"metric"`
	// Bound is the target (an upper bound for latencies, a lower bound
	// for throughput); Median Engram's median over runs, with its interval.
	Bound  float64 `json:"bound"`
	Median float64 `json:"median"`
	Low    float64 `json:"low"`
	High   float64 `json:"high"`
	Met    bool    `json:"met"`
	Reason string  `json:"reason"`
}

// count returns the regressions and missed targets of c.
func (c *Competitive) count() int {
	if c == nil {
		return 0
	}
	n := 0
	for _, p := range c.Positions {
		if p.Decision == Regressed {
			n++
		}
	}
	for _, t := range c.Targets {
		if !t.Met {
			n++
		}
	}
	return n
}

// Summarize is SummarizeWith(v.Comparisons, v.Skipped, v.Criteria) with
// the competitive part folded in: its regressions and missed targets count as competitive
// regressions, which an internal regression still outranks.
func (v *Verdict) Summarize() Summary {
	s := SummarizeWith(v.Comparisons, v.Skipped, v.Criteria)
	if n := v.Versus.count(); n > 0 {
		s.Regressed += n
		s.CompetitiveRegressed += n
		if s.Outcome == OutcomePass {
			s.Outcome = OutcomeCompetitiveRegression
		}
		s.Answer = s.AnswerLine()
	}
	return s
}
