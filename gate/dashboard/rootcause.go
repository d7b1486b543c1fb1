package dashboard

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/engram/m18-gate/gate/series"
	"github.com/engram/m18-gate/gate/stats"
)

// RootCause is what a person needs, on one page, to find why a metric
// changed at a change point: the last good and first bad runs, the commits
// between them, what else moved across the same boundary, and the target's
// resources either side.
type RootCause struct {
	Change series.ChangePointAt
	// Regression is true when the change made the metric worse.
	Regression bool
	// LastGood is the last run before the change, FirstBad the first after.
	LastGood, FirstBad Point
	// Commits are those reachable from FirstBad's commit and not from
	// LastGood's, newest first, at most Options.MaxCommits; CommitsNote
	// says why the list is empty or cut.
	Commits     []Commit
	CommitsNote string
	// CompareURL shows the whole range on the repository's site.
	CompareURL string
	// Moved lists every other operation × metric of the group across the
	// same boundary, the largest relative change first.
	Moved []Moved
	// Before and After are the target's resources over the segments either
	// side (medians), nil when the runs recorded none.
	Before, After *Resources
}

// Commit is one commit of the repository under test.
type Commit struct {
	Hash, Subject, Author, URL string
	Time                       time.Time
}

// Short is the commit's first 12 digits.
func (c Commit) Short() string { return c.Hash[:min(12, len(c.Hash))] }

// Moved is another chart's change across a regression's boundary.
type Moved struct {
	Chart *Chart
	// Before and After are the medians of the segments either side;
	// Change is After/Before − 1.
	Before, After, Change float64
	// Worse says the change is a degradation of that metric; Moved that
	// it is beyond Options.MovedThreshold; ChangePoint that E-divisive
	// found a change point of its own within one run of the boundary.
	Worse, Moved, ChangePoint bool
}

// rootCause analyses the newest change point of c (nil when it has none).
func rootCause(c *Chart, group []*Chart, o Options) *RootCause {
	if len(c.Changes) == 0 {
		return nil
	}
	// E-divisive returns change points in the order found; the newest is
	// the one with the largest index.
	cp := slices.MaxFunc(c.Changes, func(a, b series.ChangePointAt) int { return a.Index - b.Index })
	if cp.Index <= 0 || cp.Index >= len(c.Points) {
		return nil
	}
	rc := &RootCause{Change: cp, Regression: c.worse(cp.Change),
		LastGood: c.Points[cp.Index-1], FirstBad: c.Points[cp.Index]}
	// The segments either side: from the previous change point to this
	// one, and from it to the end (it is the newest).
	lo := 0
	for _, x := range c.Changes {
		if x.Index < cp.Index {
			lo = max(lo, x.Index)
		}
	}
	from := c.Points[lo].Time
	rc.Before, rc.After = medianResources(c.Points[lo:cp.Index]), medianResources(c.Points[cp.Index:])
	boundary := rc.FirstBad.Time
	for _, other := range group {
		if other == c {
			continue
		}
		var before, after []float64
		first := -1
		for i, p := range other.Points {
			switch {
			case p.Time.Before(from):
			case p.Time.Before(boundary):
				before = append(before, p.Median)
			default:
				if first < 0 {
					first = i
				}
				after = append(after, p.Median)
			}
		}
		if len(before) == 0 || len(after) == 0 {
			continue
		}
		m := Moved{Chart: other, Before: stats.Median(before), After: stats.Median(after)}
		if m.Before != 0 {
			m.Change = m.After/m.Before - 1
		} else if m.After != 0 {
			m.Change = math.Inf(1)
		}
		m.Worse = other.worse(m.Change)
		m.Moved = math.Abs(m.Change) >= o.MovedThreshold
		for _, x := range other.Changes {
			if first >= 0 && x.Index >= first-1 && x.Index <= first+1 {
				m.ChangePoint = true
			}
		}
		rc.Moved = append(rc.Moved, m)
	}
	slices.SortStableFunc(rc.Moved, func(a, b Moved) int {
		if x, y := math.Abs(a.Change), math.Abs(b.Change); x != y {
			if x > y {
				return -1
			}
			return 1
		}
		return 0
	})
	if o.RepoURL != "" && rc.LastGood.Commit != "" && rc.FirstBad.Commit != "" {
		rc.CompareURL = o.RepoURL + "/compare/" + rc.LastGood.Commit + "..." + rc.FirstBad.Commit
	}
	rc.Commits, rc.CommitsNote = between(o, rc.LastGood.Commit, rc.FirstBad.Commit)
	return rc
}

// between lists the commits reachable from bad and not from good, newest
// first (by committer time), at most o.MaxCommits.
func between(o Options, good, bad string) ([]Commit, string) {
	switch {
	case good == "" || bad == "":
		return nil, "the runs do not record their commits"
	case good == bad:
		return nil, "last good and first bad ran the same commit: the change is not in the code (hardware, load, noise)"
	case o.Source == nil:
		return nil, "no source repository given (m18-dash --source-repo): use the compare link"
	}
	resolve := func(s string) (*object.Commit, error) {
		h, err := o.Source.ResolveRevision(plumbing.Revision(s))
		if err != nil {
			return nil, fmt.Errorf("commit %s is not in the source repository (fetch with fetch-depth: 0): %w", s, err)
		}
		return o.Source.CommitObject(*h)
	}
	g, err := resolve(good)
	if err != nil {
		return nil, err.Error()
	}
	b, err := resolve(bad)
	if err != nil {
		return nil, err.Error()
	}
	// Ancestors of the last good commit, bounded: history older than this
	// is not walked, and the list below stops at it anyway.
	const maxAncestors = 20000
	seen := map[plumbing.Hash]bool{}
	stop := errors.New("stop")
	_ = object.NewCommitPreorderIter(g, nil, nil).ForEach(func(c *object.Commit) error {
		seen[c.Hash] = true
		if len(seen) >= maxAncestors {
			return stop
		}
		return nil
	})
	var out []Commit
	note := ""
	err = object.NewCommitPreorderIter(b, seen, nil).ForEach(func(c *object.Commit) error {
		if len(out) == o.MaxCommits {
			note = fmt.Sprintf("only the newest %d commits are listed: use the compare link for all", o.MaxCommits)
			return stop
		}
		subject, _, _ := strings.Cut(strings.TrimSpace(c.Message), "\n")
		cm := Commit{Hash: c.Hash.String(), Subject: subject, Author: c.Author.Name, Time: c.Committer.When.UTC()}
		if o.RepoURL != "" {
			cm.URL = o.RepoURL + "/commit/" + cm.Hash
		}
		out = append(out, cm)
		return nil
	})
	if err != nil && !errors.Is(err, stop) {
		return out, "walking the source repository: " + err.Error()
	}
	slices.SortStableFunc(out, func(a, b Commit) int { return b.Time.Compare(a.Time) })
	if len(out) == 0 && note == "" {
		note = "no commit between them in the source repository"
	}
	return out, note
}
