package history

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/engram/m18-gate/runners/result"
)

// ErrNoBaseline is wrapped by every "no baseline" outcome of Baseline; the
// error is a *NoBaselineError that says why and which fingerprints exist.
var ErrNoBaseline = errors.New("no baseline")

// DefaultRuns is how many runs Baseline returns at most (K).
const DefaultRuns = 10

// maxWalk bounds how many commits of the repository under test Baseline
// walks looking for an ancestor with results.
const maxWalk = 100000

// Query asks for the baseline of one scenario on one hardware fingerprint
// for a pull request whose merge base is Commit.
type Query struct {
	Scenario    string
	Fingerprint string
	// Commit is the merge base (full or at least 7 hex digits).
	Commit string
	// Source is the repository under test (its git directory opened with
	// go-git), used to walk Commit's ancestors. Without it — or when
	// Commit is not in it — selection falls back to commit times.
	Source *git.Repository
	// CommitTime is Commit's committer time, for the fallback when Source
	// cannot give it. Zero means unknown: the newest results are chosen,
	// with a warning.
	CommitTime time.Time
	// Runs is K: at most this many runs (result files) of the chosen
	// commit are returned, newest first. 0 means DefaultRuns.
	Runs int
	// Hardware, when known (the head run's fingerprint), ranks the nearest
	// other fingerprints in a "no baseline" answer.
	Hardware *result.Fingerprint
}

// Baseline is the outcome of a successful selection.
type Baseline struct {
	Scenario, Fingerprint string
	// Commit is the chosen commit as stored (12 hex digits).
	Commit string
	// Method says how it was chosen: "exact" (the merge base itself),
	// "first-parent" or "ancestry" (walking the repository under test), or
	// "commit-time" (no ancestry at hand).
	Method string
	// Distance is how many commits the chosen one is behind Commit along
	// the walk; -1 when chosen by commit time.
	Distance int
	// Runs holds at most Query.Runs runs of the chosen commit, newest
	// first. Available counts the usable runs stored for it.
	Runs      []*Stored
	Available int
	// Why says in one line what was chosen and why.
	Why string
	// Warnings lists files skipped (corrupt, unknown version) and
	// fallbacks taken; they do not stop selection.
	Warnings []error
}

// NoBaselineError is the "no baseline" outcome: nothing comparable is
// stored. It is never a pass: the gate says "no baseline" instead.
type NoBaselineError struct {
	Scenario, Fingerprint, Commit string
	// Why says what was looked for and not found.
	Why string
	// Nearest lists the other fingerprints that have results for this
	// scenario, most similar (to Query.Hardware) and newest first.
	Nearest  []FingerprintSummary
	Warnings []error
}

// FingerprintSummary describes one fingerprint's results for a scenario.
type FingerprintSummary struct {
	Hash string
	// Describe is the hardware in one line, from its newest run.
	Describe string
	Runs     int
	Newest   time.Time
	// Matches counts the comparable fields equal to Query.Hardware's.
	Matches int
}

func (e *NoBaselineError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "no baseline for %s on fingerprint %s at %s: %s", e.Scenario, e.Fingerprint, shortCommit(e.Commit), e.Why)
	if len(e.Nearest) == 0 {
		b.WriteString("; no other fingerprint has results for this scenario either")
	} else {
		b.WriteString("; results exist for other hardware (never compared across fingerprints):")
		for _, n := range e.Nearest {
			fmt.Fprintf(&b, "\n  %s  %d runs, newest %s  %s", n.Hash, n.Runs, n.Newest.UTC().Format("2006-01-02"), n.Describe)
		}
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNoBaseline) true.
func (e *NoBaselineError) Is(target error) bool { return target == ErrNoBaseline }

// Baseline selects the runs to compare a pull request against: the runs of
// its merge base (Query.Commit) on the same scenario and fingerprint, else
// of the merge base's newest ancestor that has runs — along the first-parent
// line (the default branch) first, then among all ancestors, newest commit
// first — else, without the repository under test, of the newest commit at
// or before the merge base's commit time. Accept markers bound the search
// (see Marker). Runs that fail to decode are skipped with a warning. When
// nothing matches it returns a *NoBaselineError.
func (s *Snapshot) Baseline(q Query) (*Baseline, error) {
	if q.Scenario == "" || q.Fingerprint == "" || q.Commit == "" {
		return nil, fmt.Errorf("%w: baseline needs a scenario, a fingerprint and the merge-base commit (got %q, %q, %q)", ErrBadInput, q.Scenario, q.Fingerprint, q.Commit)
	}
	if !validCommit(q.Commit) {
		return nil, fmt.Errorf("%w: commit %q is not a git commit (7-40 hex digits)", ErrBadInput, q.Commit)
	}
	if q.Runs <= 0 {
		q.Runs = DefaultRuns
	}
	sel := &selector{s: s, q: q, byCommit: map[string][]Entry{}}
	entries := s.seriesEntries(Slug(q.Scenario), Slug(q.Fingerprint), &sel.warns)
	markers, mw := s.Markers(q.Scenario, q.Fingerprint)
	sel.markers = markers
	sel.warns = append(sel.warns, mw...)
	for _, e := range entries {
		if e.Commit != NoCommit {
			sel.byCommit[e.Commit] = append(sel.byCommit[e.Commit], e)
		}
	}
	if len(sel.byCommit) == 0 {
		why := fmt.Sprintf("no results stored for scenario %q on fingerprint %s", q.Scenario, q.Fingerprint)
		if s.Empty() {
			why = fmt.Sprintf("branch %s does not exist yet", s.Branch)
		}
		return nil, sel.none(why)
	}
	exact := shortCommit(q.Commit)
	if len(exact) < 12 {
		for c := range sel.byCommit {
			if sameCommit(c, exact) {
				exact = c
				break
			}
		}
	}
	if b := sel.pick(exact, "exact", 0, false); b != nil {
		b.Why = fmt.Sprintf("exact: merge base %s has %d usable runs; using %d", shortCommit(q.Commit), b.Available, len(b.Runs))
		return b, nil
	}
	when := q.CommitTime
	if q.Source != nil {
		b, t, err := sel.walk()
		if b != nil || err != nil {
			return b, err
		}
		if !t.IsZero() {
			when = t
		}
	}
	return sel.byTime(when)
}

// selector carries one Baseline call's state.
type selector struct {
	s        *Snapshot
	q        Query
	byCommit map[string][]Entry
	markers  []Marker
	warns    []error
}

// usable reports whether a run may serve as a baseline given the markers
// that bound by time (see Marker).
func (sel *selector) usable(e Entry, ancestry bool) bool {
	for _, m := range sel.markers {
		if ancestry && m.Commit != "" {
			continue // the walk stops at the marker's commit
		}
		if e.Start.Before(m.At) && !sameCommit(e.Commit, m.Commit) {
			return false
		}
	}
	return true
}

// pick returns the baseline made of commit c's runs, or nil when it has
// no usable, decodable run.
func (sel *selector) pick(c, method string, dist int, ancestry bool) *Baseline {
	var es []Entry
	for _, e := range sel.byCommit[c] {
		if sel.usable(e, ancestry || method == "exact") {
			es = append(es, e)
		}
	}
	if len(es) == 0 {
		return nil
	}
	sort.Slice(es, func(i, j int) bool {
		if !es[i].Start.Equal(es[j].Start) {
			return es[i].Start.After(es[j].Start)
		}
		return es[i].Path > es[j].Path
	})
	b := &Baseline{Scenario: sel.q.Scenario, Fingerprint: sel.q.Fingerprint, Commit: c, Method: method, Distance: dist}
	for _, e := range es {
		st, err := sel.s.Load(e)
		if err != nil {
			sel.warns = append(sel.warns, err)
			continue
		}
		b.Available++
		if len(b.Runs) < sel.q.Runs {
			b.Runs = append(b.Runs, st)
		}
	}
	if len(b.Runs) == 0 {
		return nil
	}
	b.Warnings = sel.warns
	return b
}

// markerAt returns the marker whose commit is h, if any.
func (sel *selector) markerAt(h plumbing.Hash) *Marker {
	for i := len(sel.markers) - 1; i >= 0; i-- {
		if m := sel.markers[i]; m.Commit != "" && sameCommit(m.Commit, h.String()) {
			return &sel.markers[i]
		}
	}
	return nil
}

// walk looks for the newest ancestor of the merge base with runs in the
// repository under test. It returns the merge base's commit time when it
// had to give up (shallow history, commit not found) so the caller can
// fall back to commit times.
func (sel *selector) walk() (*Baseline, time.Time, error) {
	start, err := resolveCommit(sel.q.Source, sel.q.Commit)
	if err != nil {
		sel.warns = append(sel.warns, fmt.Errorf("commit %s not found in the repository under test (%v); choosing by commit time instead", sel.q.Commit, err))
		return nil, time.Time{}, nil
	}
	from := shortCommit(start.Hash.String())
	stopped := func(c *object.Commit, m *Marker) error {
		return sel.none(fmt.Sprintf("%s restarts the baseline at %s, and neither it nor a newer ancestor of %s has results", m, shortCommit(c.Hash.String()), from))
	}
	// First parents: the default branch's own line.
	c, dist, shallow := start, 0, false
	for dist < maxWalk {
		if b := sel.pick(shortCommit(c.Hash.String()), "first-parent", dist, true); b != nil {
			b.Why = fmt.Sprintf("newest first-parent ancestor with results: %s, %d commits before merge base %s; using %d of %d runs", b.Commit, dist, from, len(b.Runs), b.Available)
			return b, time.Time{}, nil
		}
		if m := sel.markerAt(c.Hash); m != nil {
			return nil, time.Time{}, stopped(c, m)
		}
		if c.NumParents() == 0 {
			break
		}
		p, err := c.Parent(0)
		if err != nil {
			shallow = true
			break
		}
		c, dist = p, dist+1
	}
	// All ancestors, newest committer time first.
	it := object.NewCommitIterCTime(start, nil, nil)
	defer it.Close()
	n := 0
	for ; n < maxWalk; n++ {
		c, err := it.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			shallow = true
			break
		}
		if b := sel.pick(shortCommit(c.Hash.String()), "ancestry", n, true); b != nil {
			b.Why = fmt.Sprintf("newest ancestor with results (not on the first-parent line): %s, committed %s; using %d of %d runs", b.Commit, c.Committer.When.UTC().Format(time.RFC3339), len(b.Runs), b.Available)
			return b, time.Time{}, nil
		}
		if m := sel.markerAt(c.Hash); m != nil {
			return nil, time.Time{}, stopped(c, m)
		}
	}
	if shallow {
		sel.warns = append(sel.warns, fmt.Errorf("the repository under test is shallow before %s's results were found; choosing by commit time instead (fetch more history, e.g. actions/checkout fetch-depth: 0)", from))
		return nil, start.Committer.When, nil
	}
	return nil, time.Time{}, sel.none(fmt.Sprintf("no results for %s or any of its %d ancestors", from, n))
}

// resolveCommit finds a commit by full or abbreviated hash.
func resolveCommit(repo *git.Repository, c string) (*object.Commit, error) {
	if len(c) == 40 {
		return repo.CommitObject(plumbing.NewHash(c))
	}
	h, err := repo.ResolveRevision(plumbing.Revision(c))
	if err != nil {
		return nil, err
	}
	return repo.CommitObject(*h)
}

// byTime chooses the commit with the newest commit time at or before t
// (any time when t is zero) among those with usable runs. Run.CommitTime
// orders commits; a run without it counts by its start time.
func (sel *selector) byTime(t time.Time) (*Baseline, error) {
	if t.IsZero() {
		sel.warns = append(sel.warns, fmt.Errorf("neither the repository under test nor the merge base's commit time is known: chose the newest results by commit time, which may be newer than the merge base (pass --source-repo or --commit-time)"))
	}
	type group struct {
		commit string
		newest time.Time
	}
	var groups []group
	for c, es := range sel.byCommit {
		g := group{commit: c}
		for _, e := range es {
			if sel.usable(e, false) && e.Start.After(g.newest) {
				g.newest = e.Start
			}
		}
		if !g.newest.IsZero() {
			groups = append(groups, g)
		}
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].newest.After(groups[j].newest) })
	failed := map[string]bool{}
	for {
		var best string
		var bestTime time.Time
		for _, g := range groups {
			// A commit's time is at most the start of its runs: once runs
			// started before the best commit time, nothing later can beat it.
			if best != "" && g.newest.Before(bestTime) {
				break
			}
			if failed[g.commit] {
				continue
			}
			ct := sel.commitTime(g.commit)
			if ct.IsZero() || (!t.IsZero() && ct.After(t)) {
				continue
			}
			if best == "" || ct.After(bestTime) {
				best, bestTime = g.commit, ct
			}
		}
		if best == "" {
			if len(failed) > 0 {
				return nil, sel.none("no readable run at or before the merge base")
			}
			return nil, sel.none(fmt.Sprintf("every commit with results is newer than the merge base (committed %s)", t.UTC().Format(time.RFC3339)))
		}
		b := sel.pick(best, "commit-time", -1, false)
		if b == nil {
			failed[best] = true
			continue
		}
		b.Why = fmt.Sprintf("by commit time (ancestry unknown): %s, committed %s, is the newest commit with results at or before the merge base %s; using %d of %d runs", best, bestTime.UTC().Format(time.RFC3339), shortCommit(sel.q.Commit), len(b.Runs), b.Available)
		b.Warnings = sel.warns
		return b, nil
	}
}

// commitTime returns the Run.CommitTime recorded in commit c's newest run,
// else that run's start time. It peeks at the document's bytes instead of
// decoding it: ordering thousands of commits must not decode thousands of
// documents (the runs chosen are decoded, and checked, by pick).
func (sel *selector) commitTime(c string) time.Time {
	var newest *Entry
	for i, e := range sel.byCommit[c] {
		if newest == nil || e.Start.After(newest.Start) {
			newest = &sel.byCommit[c][i]
		}
	}
	if newest == nil {
		return time.Time{}
	}
	data, err := sel.s.raw(*newest)
	if err != nil {
		return newest.Start
	}
	if t, ok := peekCommitTime(data); ok {
		return t
	}
	return newest.Start
}

// peekCommitTime finds "commit_time" in a result document's bytes (the
// only field of that name in m18.result/v1) and parses its value.
func peekCommitTime(data []byte) (time.Time, bool) {
	i := bytes.Index(data, []byte(`"commit_time"`))
	if i < 0 {
		return time.Time{}, false
	}
	rest := bytes.TrimLeft(data[i+len(`"commit_time"`):], " \t\r\n")
	rest, ok := bytes.CutPrefix(rest, []byte(":"))
	if !ok {
		return time.Time{}, false
	}
	rest, ok = bytes.CutPrefix(bytes.TrimLeft(rest, " \t\r\n"), []byte(`"`))
	end := bytes.IndexByte(rest, '"')
	if !ok || end < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(rest[:end]))
	if err != nil || t.IsZero() {
		return time.Time{}, false
	}
	return t, true
}

// none builds the "no baseline" answer, with the nearest fingerprints.
func (sel *selector) none(why string) error {
	e := &NoBaselineError{Scenario: sel.q.Scenario, Fingerprint: sel.q.Fingerprint, Commit: sel.q.Commit, Why: why, Warnings: sel.warns}
	e.Nearest = sel.s.Fingerprints(sel.q.Scenario, sel.q.Hardware, sel.q.Fingerprint)
	if len(e.Nearest) > 5 {
		e.Nearest = e.Nearest[:5]
	}
	return e
}

// Fingerprints summarises the fingerprints that have results for a
// scenario, except the one named skip: most similar to hw (when given)
// first, then newest first.
func (s *Snapshot) Fingerprints(scenario string, hw *result.Fingerprint, skip string) []FingerprintSummary {
	var out []FingerprintSummary
	var warns []error
	scSlug := Slug(scenario)
	for _, fp := range s.dirNames(path.Join(ResultsDir, scSlug), "", &warns) {
		es := s.seriesEntries(scSlug, fp, &warns)
		if len(es) == 0 {
			continue
		}
		sortEntries(es)
		sum := FingerprintSummary{Runs: len(es), Newest: es[len(es)-1].Start, Hash: es[len(es)-1].Fingerprint}
		if sum.Hash == skip {
			continue
		}
		for i := len(es) - 1; i >= 0; i-- {
			if st, err := s.Load(es[i]); err == nil {
				sum.Describe = Describe(st.Doc.Run.Hardware)
				if hw != nil {
					sum.Matches = Similarity(*hw, st.Doc.Run.Hardware)
				}
				break
			}
		}
		out = append(out, sum)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Matches != out[j].Matches {
			return out[i].Matches > out[j].Matches
		}
		return out[i].Newest.After(out[j].Newest)
	})
	return out
}

// Describe says what a fingerprint is in one line.
func Describe(f result.Fingerprint) string {
	var parts []string
	if f.CPUModel != "" {
		parts = append(parts, f.CPUModel)
	}
	parts = append(parts, fmt.Sprintf("%d cores (%d physical)", f.LogicalCores, f.PhysicalCores))
	if f.Sockets > 0 || f.NUMANodes > 0 {
		parts = append(parts, fmt.Sprintf("%d socket(s), %d NUMA node(s)", f.Sockets, f.NUMANodes))
	}
	if f.MemoryBytes > 0 {
		parts = append(parts, fmt.Sprintf("%.1f GiB", float64(f.MemoryBytes)/(1<<30)))
	}
	if f.CgroupCPUQuota > 0 {
		parts = append(parts, fmt.Sprintf("cgroup %.2g CPUs", f.CgroupCPUQuota))
	}
	for _, s := range []string{f.OS + "/" + f.Arch, f.Kernel, f.GoVersion} {
		if strings.Trim(s, "/") != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

// Similarity counts the comparable fields two fingerprints share.
func Similarity(a, b result.Fingerprint) int {
	n := 0
	for _, eq := range []bool{
		a.CPUModel == b.CPUModel, a.Arch == b.Arch, a.LogicalCores == b.LogicalCores,
		a.PhysicalCores == b.PhysicalCores, a.Sockets == b.Sockets, a.NUMANodes == b.NUMANodes,
		a.MemoryBytes == b.MemoryBytes, a.Kernel == b.Kernel, a.OS == b.OS,
		a.CgroupCPUQuota == b.CgroupCPUQuota, a.Governor == b.Governor, a.SMT == b.SMT,
		a.GoVersion == b.GoVersion, a.ToolVersion == b.ToolVersion,
	} {
		if eq {
			n++
		}
	}
	return n
}
