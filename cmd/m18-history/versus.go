package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/engram/m18-gate/gate/input"
	gseries "github.com/engram/m18-gate/gate/series"
	"github.com/engram/m18-gate/gate/stats"
	"github.com/engram/m18-gate/history"
)

// versus prints Engram's series against a competitor's: the ratio at each
// Engram run, the trend of the last window and the change points of the
// ratio.
func versus(snap *history.Snapshot, scenario, fp, op, metric, competitor string, window time.Duration, asJSON bool, stdout, stderr io.Writer) error {
	eng, warns := snap.Series(scenario, fp, op, metric)
	warn(stderr, warns)
	comp, warns := snap.Series(scenario+"@"+competitor, fp, op, metric)
	warn(stderr, warns)
	if len(comp) == 0 {
		return fmt.Errorf("%w: no runs of %s stored for scenario %s on fingerprint %s (series %s@%s): run m18-run --scenario %s --competitor %s and push its result", history.ErrBadInput, competitor, scenario, fp, scenario, competitor, scenario, competitor)
	}
	pts := func(ps []history.Point) []gseries.Point {
		var out []gseries.Point
		for _, p := range ps {
			if len(p.Values) > 0 {
				out = append(out, gseries.Point{Time: p.Start, Label: p.Commit, Value: stats.Median(p.Values)})
			}
		}
		return out
	}
	st := gseries.Standings(pts(eng), pts(comp))
	_, hib := input.MetricInfo(metric)
	trend := gseries.PositionTrend(st, window, 0.95, hib)
	ratios := make([]float64, len(st))
	for i, s := range st {
		ratios[i] = s.Ratio
	}
	cps := stats.EDivisive(ratios, stats.EDivisiveOptions{Alpha: 0.05, Permutations: 200, MinSize: 4, Seed: 1})
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Scenario     string              `json:"scenario"`
			Competitor   string              `json:"competitor"`
			Operation    string              `json:"operation"`
			Metric       string              `json:"metric"`
			Standings    []gseries.Standing  `json:"standings"`
			Trend        gseries.Trend       `json:"trend"`
			ChangePoints []stats.ChangePoint `json:"change_points"`
		}{scenario, competitor, op, metric, st, trend, cps})
	}
	fmt.Fprintf(stdout, "# %s %s %s: Engram vs %s (ratio = Engram / %s)\n", scenario, op, metric, competitor, competitor)
	fmt.Fprintf(stdout, "# start\tcommit\tengram\t%s\tratio\n", competitor)
	for _, s := range st {
		fmt.Fprintf(stdout, "%s\t%s\t%.4g\t%.4g\t%.3f\n", s.Time.Format(time.RFC3339), s.Label, s.Engram, s.Competitor, s.Ratio)
	}
	fmt.Fprintf(stdout, "trend over the last %s (%d standings, Theil-Sen, 95%%): %s\n", window, trend.N, trend.Words)
	for _, cp := range cps {
		if cp.Index < len(st) {
			fmt.Fprintf(stdout, "change point at %s (%s): ratio %.3g → %.3g, p %.3g\n", st[cp.Index].Time.Format(time.RFC3339), st[cp.Index].Label, cp.Before, cp.After, cp.PValue)
		}
	}
	return nil
}
