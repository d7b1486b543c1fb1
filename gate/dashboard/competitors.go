package dashboard

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/runners/result"
)

// CompetitorChart positions Engram against the competitors measured with
// the same scenario on the same hardware: one line per target over time,
// and the newest median of each.
type CompetitorChart struct {
	Scenario, Fingerprint, Metric, Unit string
	HigherIsBetter                      bool
	// Lines holds one series per target, Engram first.
	Lines []TargetLine
}

// TargetLine is one target's series.
type TargetLine struct {
	Target string
	Points []Point
	// Latest is the newest run's median; Ratio is it over Engram's newest
	// (1 for Engram itself, 0 when Engram has no run).
	Latest, Ratio float64
}

// Anchor is the chart's id on its group's page.
func (c *CompetitorChart) Anchor() string { return "vs." + render.PathSlug(c.Metric) }

// SVGPath is the chart's image, relative to the site root.
func (c *CompetitorChart) SVGPath() string {
	return "charts/" + render.PathSlug(c.Scenario) + "/" + render.PathSlug(c.Fingerprint) + "/" + c.Anchor() + ".svg"
}

// targetName names a run's target on the competitor charts.
func targetName(t string) string {
	if Competitor(t) {
		return strings.ToLower(t)
	}
	return "engram"
}

// competitorCharts builds, when a competitor ran the scenario, a chart per
// metric of the overall figures.
func competitorCharts(sc, fp string, docs []*result.Document, o Options) []*CompetitorChart {
	byTarget := map[string][]*result.Document{}
	for _, d := range docs {
		byTarget[targetName(d.Run.Target)] = append(byTarget[targetName(d.Run.Target)], d)
	}
	if len(byTarget) < 2 {
		return nil
	}
	targets := slices.SortedFunc(maps.Keys(byTarget), func(a, b string) int {
		rank := func(t string) int {
			if t == "engram" {
				return 0
			}
			return 1
		}
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b))
	})
	var out []*CompetitorChart
	for _, m := range o.Metrics {
		unit, hib := input.MetricInfo(m)
		c := &CompetitorChart{Scenario: sc, Fingerprint: fp, Metric: m, Unit: unit, HigherIsBetter: hib}
		for _, t := range targets {
			l := TargetLine{Target: t}
			for _, d := range byTarget[t] {
				if p, ok := point(d, result.OpOverall, m); ok {
					l.Points = append(l.Points, p)
				}
			}
			if len(l.Points) == 0 {
				continue
			}
			l.Latest = l.Points[len(l.Points)-1].Median
			c.Lines = append(c.Lines, l)
		}
		if len(c.Lines) < 2 {
			continue
		}
		if c.Lines[0].Target == "engram" && c.Lines[0].Latest != 0 {
			for i := range c.Lines {
				c.Lines[i].Ratio = c.Lines[i].Latest / c.Lines[0].Latest
			}
		}
		out = append(out, c)
	}
	return out
}
