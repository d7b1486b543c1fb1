package dashboard

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"

	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/series"
	"github.com/engram/m18-gate/gate/stats"
	"github.com/engram/m18-gate/runners/result"
)

// Accepted is an intended regression someone accepted (history's
// m18.accept/v1 marker): runs of Commit and later are the new normal.
type Accepted struct {
	Scenario string
	// Fingerprint is "" when the acceptance holds on every fingerprint.
	Fingerprint string
	Commit      string
	Time        time.Time
	Reason, By  string
}

// Options shape a dashboard.
type Options struct {
	// Title heads every page (default "m18 performance").
	Title string
	// Source is the repository under test, opened with go-git, to list the
	// commits between the last good and the first bad run with their
	// subjects; nil lists none (the compare link still works).
	Source *git.Repository
	// RepoURL is the repository's web address (https://github.com/OWNER/REPO),
	// for commit and compare links; "" links nothing.
	RepoURL string
	// Metrics are the metrics charted, in order (default result.Metrics).
	Metrics []string
	// ChangePoints configures E-divisive (default seed 1, as m18-gate).
	ChangePoints stats.EDivisiveOptions
	// MovedThreshold is the relative change across a regression's boundary
	// beyond which another operation or metric counts as having moved with
	// it (default 0.05).
	MovedThreshold float64
	// MaxCommits bounds the commits listed between last good and first bad
	// (default 50).
	MaxCommits int
	// MaxRuns bounds the runs charted per scenario and hardware: the newest
	// are kept (default 400). Change-point detection costs about the square
	// of the runs.
	MaxRuns int
}

func (o Options) withDefaults() Options {
	if o.Title == "" {
		o.Title = "m18 performance"
	}
	if len(o.Metrics) == 0 {
		o.Metrics = result.Metrics
	}
	if o.ChangePoints.Seed == 0 {
		o.ChangePoints.Seed = 1
	}
	if o.MovedThreshold <= 0 {
		o.MovedThreshold = 0.05
	}
	if o.MaxCommits <= 0 {
		o.MaxCommits = 50
	}
	if o.MaxRuns <= 0 {
		o.MaxRuns = 400
	}
	o.RepoURL = strings.TrimSuffix(o.RepoURL, "/")
	return o
}

// Site is the whole dashboard, before it is written.
type Site struct {
	Title string
	// Updated is the end of the newest run.
	Updated time.Time
	Groups  []*Group
	// Warnings say what was left out, and why.
	Warnings []string
	opts     Options
}

// Group is one scenario on one hardware fingerprint.
type Group struct {
	Scenario, Fingerprint string
	// Hardware describes the fingerprint in one line.
	Hardware    string
	Runs        int
	Charts      []*Chart
	Tasks       []*TaskChart
	Competitors []*CompetitorChart
	Accepted    []Accepted
}

// Path is the group's page, relative to the site root.
func (g *Group) Path() string {
	return "charts/" + render.PathSlug(g.Scenario) + "/" + render.PathSlug(g.Fingerprint) + "/index.html"
}

// Regressed lists the charts whose newest change point is a regression.
func (g *Group) Regressed() []*Chart {
	var out []*Chart
	for _, c := range g.Charts {
		if c.RootCause != nil && c.RootCause.Regression {
			out = append(out, c)
		}
	}
	return out
}

// Point is one run on a chart: the median over its repetitions, and their
// range as the run's interval.
type Point struct {
	RunID, Commit, Ref string
	Time               time.Time
	Median, Low, High  float64
	// N is the number of repetitions.
	N int
	// Resources are the target's CPU and memory in this run, nil when the
	// run did not record them.
	Resources *Resources
}

// Short is the commit's first 12 digits, or the run id.
func (p Point) Short() string {
	if p.Commit == "" {
		return p.RunID
	}
	return p.Commit[:min(12, len(p.Commit))]
}

// Chart is the trend of one metric of one operation.
type Chart struct {
	Scenario, Fingerprint, Operation, Metric, Unit string
	HigherIsBetter                                 bool
	Points                                         []Point
	// Changes are the E-divisive change points (Index: first point of the
	// new segment).
	Changes []series.ChangePointAt
	Note    string
	// Accepted holds, per accepted marker of the group, the index of the
	// first point it covers.
	Accepted []AcceptedAt
	// RootCause analyses the newest change point; nil when there is none.
	RootCause *RootCause
}

// AcceptedAt places an accepted regression on a chart.
type AcceptedAt struct {
	Accepted
	Index int
}

// Path is the chart's page, relative to the site root (render.ChartPath).
func (c *Chart) Path() string {
	return render.ChartPath(c.Scenario, c.Fingerprint, c.Operation, c.Metric)
}

// SVGPath is the chart's image beside its page.
func (c *Chart) SVGPath() string { return strings.TrimSuffix(c.Path(), ".html") + ".svg" }

// Anchor is the chart's id on its group's page.
func (c *Chart) Anchor() string {
	return render.PathSlug(c.Operation) + "." + render.PathSlug(c.Metric)
}

// worse says whether a change of the chart's metric by rel is a
// degradation.
func (c *Chart) worse(rel float64) bool {
	if c.HigherIsBetter {
		return rel < 0
	}
	return rel > 0
}

// Build groups documents by scenario and fingerprint and analyses them.
// Documents of competitor targets (Run.Target other than the built-in
// reference, an external Engram, or "engram") go to the competitor charts;
// the trend charts are Engram's.
func Build(docs []*result.Document, accepted []Accepted, o Options) (*Site, error) {
	o = o.withDefaults()
	site := &Site{Title: o.Title, opts: o}
	type gk struct{ sc, fp string }
	byGroup := map[gk][]*result.Document{}
	for _, d := range docs {
		if d == nil || d.Run.Scenario == "" {
			continue
		}
		k := gk{d.Run.Scenario, d.Run.Hardware.Hash}
		byGroup[k] = append(byGroup[k], d)
		if d.Run.End.After(site.Updated) {
			site.Updated = d.Run.End.UTC()
		}
	}
	keys := slices.SortedFunc(maps.Keys(byGroup), func(a, b gk) int { return cmp.Or(cmp.Compare(a.sc, b.sc), cmp.Compare(a.fp, b.fp)) })
	for _, k := range keys {
		ds := byGroup[k]
		sort.SliceStable(ds, func(i, j int) bool { return ds[i].Run.Start.Before(ds[j].Run.Start) })
		g := &Group{Scenario: k.sc, Fingerprint: k.fp, Hardware: input.DescribeHardware(ds[len(ds)-1].Run.Hardware)}
		for _, a := range accepted {
			if a.Scenario == k.sc && (a.Fingerprint == "" || a.Fingerprint == k.fp) {
				g.Accepted = append(g.Accepted, a)
			}
		}
		var own []*result.Document
		for _, d := range ds {
			if !Competitor(d.Run.Target) {
				own = append(own, d)
			}
		}
		if len(own) > o.MaxRuns {
			site.Warnings = append(site.Warnings, fmt.Sprintf("%s on %s: charting the newest %d of %d runs", k.sc, k.fp, o.MaxRuns, len(own)))
			own = own[len(own)-o.MaxRuns:]
		}
		g.Runs = len(own)
		g.Charts = charts(k.sc, k.fp, own, g.Accepted, o)
		for _, c := range g.Charts {
			c.RootCause = rootCause(c, g.Charts, o)
		}
		g.Tasks = taskCharts(k.sc, k.fp, own)
		g.Competitors = competitorCharts(k.sc, k.fp, ds, o)
		site.Groups = append(site.Groups, g)
	}
	return site, nil
}

// Competitor says whether a run's target is a competitor rather than Engram
// (or the built-in reference target standing in for it).
func Competitor(target string) bool {
	switch strings.ToLower(target) {
	case "", "builtin", "external", "engram":
		return false
	}
	return true
}

// charts builds every operation × metric chart of one group.
func charts(sc, fp string, docs []*result.Document, acc []Accepted, o Options) []*Chart {
	ops := map[string]bool{}
	for _, d := range docs {
		for _, r := range d.Repetitions {
			for op, st := range r.Operations {
				if st.Count > 0 {
					ops[op] = true
				}
			}
		}
	}
	opList := append([]string{result.OpOverall}, slices.Sorted(maps.Keys(ops))...)
	var out []*Chart
	for _, op := range opList {
		for _, m := range o.Metrics {
			unit, hib := input.MetricInfo(m)
			c := &Chart{Scenario: sc, Fingerprint: fp, Operation: op, Metric: m, Unit: unit, HigherIsBetter: hib}
			for _, d := range docs {
				if p, ok := point(d, op, m); ok {
					c.Points = append(c.Points, p)
				}
			}
			if len(c.Points) == 0 {
				continue
			}
			s := series.Series{Scenario: sc, Operation: op, Metric: m, Unit: unit}
			for _, p := range c.Points {
				s.Points = append(s.Points, series.Point{Time: p.Time, Label: p.Short(), Value: p.Median})
			}
			ch := series.ChangePoints([]series.Series{s}, o.ChangePoints)[0]
			c.Changes, c.Note = ch.ChangePoints, ch.Note
			for _, a := range acc {
				if i := acceptedIndex(c.Points, a); i >= 0 {
					c.Accepted = append(c.Accepted, AcceptedAt{Accepted: a, Index: i})
				}
			}
			out = append(out, c)
		}
	}
	return out
}

// acceptedIndex is the first point an accepted marker covers: the first run
// of its commit, else the first run after its time; -1 when none.
func acceptedIndex(ps []Point, a Accepted) int {
	if a.Commit != "" {
		for i, p := range ps {
			if p.Commit != "" && (strings.HasPrefix(p.Commit, a.Commit) || strings.HasPrefix(a.Commit, p.Commit)) {
				return i
			}
		}
	}
	for i, p := range ps {
		if !p.Time.Before(a.Time) {
			return i
		}
	}
	return -1
}

// point reads one run's value of a metric: the median over repetitions and
// their range.
func point(d *result.Document, op, metric string) (Point, bool) {
	all, err := d.Values(op, metric)
	if err != nil {
		return Point{}, false
	}
	vals := slices.DeleteFunc(all, func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) })
	if len(vals) == 0 {
		return Point{}, false
	}
	return Point{
		RunID: d.Run.RunID, Commit: d.Run.Commit, Ref: d.Run.Ref, Time: d.Run.Start.UTC(),
		Median: stats.Median(vals), Low: slices.Min(vals), High: slices.Max(vals), N: len(vals),
		Resources: resourcesOf(d),
	}, true
}
