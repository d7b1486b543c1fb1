package history

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Retention defaults.
const (
	// DefaultKeepDays is how long Prune keeps results: six months and more.
	DefaultKeepDays = 180
	// MinKeepDays is the shortest retention Prune accepts without Force:
	// shorter would remove points from the dashboard's trend charts.
	MinKeepDays = 90
	// DefaultKeepLatest is how many newest runs of every scenario and
	// fingerprint Prune keeps whatever their age, so a series that stopped
	// being measured still has a baseline and a last point on its chart.
	DefaultKeepLatest = 10
	// DefaultCompactDays is the age after which Compact packs a month.
	DefaultCompactDays = 30
)

// Size is how big the branch tip is.
type Size struct {
	// Files counts files in the tip's tree; Bytes sums their blob sizes
	// (uncompressed).
	Files int
	Bytes int64
	// Runs counts stored runs, plain and bundled.
	Runs int
}

func (z Size) String() string {
	return fmt.Sprintf("%d runs in %d files, %s", z.Runs, z.Files, humanBytes(z.Bytes))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// Size measures the tip: files, blob bytes and runs.
func (s *Snapshot) Size() (Size, error) {
	var z Size
	if s.root == nil {
		return z, nil
	}
	if err := treeSize(s.s, s.root, &z); err != nil {
		return z, err
	}
	entries, _ := s.List(Filter{})
	z.Runs = len(entries)
	return z, nil
}

func treeSize(st storer.EncodedObjectStorer, t *object.Tree, z *Size) error {
	for _, te := range t.Entries {
		if te.Mode == filemode.Dir {
			sub, err := object.GetTree(st, te.Hash)
			if err != nil {
				return err
			}
			if err := treeSize(st, sub, z); err != nil {
				return err
			}
			continue
		}
		obj, err := st.EncodedObject(plumbing.BlobObject, te.Hash)
		if err != nil {
			return err
		}
		z.Files++
		z.Bytes += obj.Size()
	}
	return nil
}

// Retention reports a prune or a compaction.
type Retention struct {
	// Pushed is the commit made; nil for a dry run or when there was
	// nothing to do.
	Pushed *Pushed
	// Removed lists the runs removed (Prune) or packed (Compact) by path;
	// Bundles the bundles written (Compact) or removed (Prune).
	Removed []string
	Bundles []string
	// Kept counts runs older than the cutoff that Prune kept because they
	// are among the newest KeepLatest of their series.
	Kept          int
	Before, After Size
	Warnings      []error
}

// PruneOptions say what Prune keeps.
type PruneOptions struct {
	// KeepDays keeps every run that started within this many days
	// (DefaultKeepDays when 0). Below MinKeepDays it is refused unless
	// Force is set.
	KeepDays int
	// KeepLatest keeps this many newest runs of every scenario and
	// fingerprint whatever their age (DefaultKeepLatest when 0; negative
	// keeps none).
	KeepLatest int
	Force      bool
	// DryRun computes and reports without pushing.
	DryRun bool
}

// Prune removes runs older than KeepDays in a new commit; history is never
// rewritten, so a removed run stays readable in earlier commits. Accept
// markers and files it cannot parse are never removed.
func (r Remote) Prune(ctx context.Context, o PruneOptions) (*Retention, error) {
	if o.KeepDays == 0 {
		o.KeepDays = DefaultKeepDays
	}
	if o.KeepDays < 0 || (o.KeepDays < MinKeepDays && !o.Force) {
		return nil, fmt.Errorf("%w: prune --keep-days %d would remove results that trend charts (%d days and more) still show; use at least %d, or pass --force if that is intended", ErrBadInput, o.KeepDays, MinKeepDays, MinKeepDays)
	}
	if o.KeepLatest == 0 {
		o.KeepLatest = DefaultKeepLatest
	}
	cutoff := r.now().AddDate(0, 0, -o.KeepDays)
	var rep *Retention
	ch := func(s *Snapshot) (edits, string, error) {
		rep = &Retention{}
		e, err := pruneEdits(s, cutoff, o.KeepLatest, rep)
		msg := fmt.Sprintf("prune: remove %d runs that started before %s (keep %d days, and the newest %d runs of every series)\n",
			len(rep.Removed), cutoff.UTC().Format("2006-01-02"), o.KeepDays, max(o.KeepLatest, 0))
		return e, msg, err
	}
	if err := r.retain(ctx, o.DryRun, ch, &rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// pruneEdits computes Prune's edits on s.
func pruneEdits(s *Snapshot, cutoff time.Time, keepLatest int, rep *Retention) (edits, error) {
	e := edits{}
	entries, warns := s.List(Filter{})
	rep.Warnings = warns
	bundleKeep := map[string][]Entry{} // bundle → runs it keeps
	bundleDrop := map[string][]Entry{} // bundle → runs it drops
	for _, series := range groupSeries(entries) {
		for i := len(series) - 1; i >= 0; i-- { // newest first
			en := series[i]
			newest := len(series)-1-i < keepLatest
			old := en.Start.Before(cutoff)
			if old && newest {
				rep.Kept++
			}
			drop := old && !newest
			if en.Bundle != "" {
				if drop {
					bundleDrop[en.Bundle] = append(bundleDrop[en.Bundle], en)
				} else {
					bundleKeep[en.Bundle] = append(bundleKeep[en.Bundle], en)
				}
				continue
			}
			if drop {
				e[en.Path] = nil
				rep.Removed = append(rep.Removed, en.Path)
			}
		}
	}
	for b, drop := range bundleDrop {
		for _, en := range drop {
			rep.Removed = append(rep.Removed, en.Path)
		}
		rep.Bundles = append(rep.Bundles, b)
		idx := path.Join(path.Dir(b), BundleIndexName)
		keep := bundleKeep[b]
		if len(keep) == 0 {
			e[b], e[idx] = nil, nil
			continue
		}
		sort.Slice(keep, func(i, j int) bool { return keep[i].Path < keep[j].Path })
		lines := make([][]byte, len(keep))
		paths := make([]string, len(keep))
		for i, en := range keep {
			ls, err := s.bundleLines(en.blob)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b, err)
			}
			lines[i], paths[i] = ls[en.line], en.Path
		}
		bh, ih, err := writeBundle(s, lines, paths)
		if err != nil {
			return nil, err
		}
		e[b], e[idx] = &bh, &ih
	}
	sort.Strings(rep.Removed)
	sort.Strings(rep.Bundles)
	return e, nil
}

// writeBundle stores a bundle's lines and its index (the lines' paths,
// in the same order).
func writeBundle(s *Snapshot, lines [][]byte, paths []string) (bundle, index plumbing.Hash, err error) {
	var buf bytes.Buffer
	for _, l := range lines {
		buf.Write(l)
		buf.WriteByte('\n')
	}
	if bundle, err = writeBlob(s.s, buf.Bytes()); err != nil {
		return
	}
	index, err = writeBlob(s.s, []byte(strings.Join(paths, "\n")+"\n"))
	return
}

// groupSeries splits sorted entries into runs of one scenario and
// fingerprint, each oldest first.
func groupSeries(entries []Entry) [][]Entry {
	var out [][]Entry
	for i := 0; i < len(entries); {
		j := i + 1
		for j < len(entries) && entries[j].Scenario == entries[i].Scenario && entries[j].Fingerprint == entries[i].Fingerprint {
			j++
		}
		out = append(out, entries[i:j])
		i = j
	}
	return out
}

// CompactOptions say what Compact packs.
type CompactOptions struct {
	// OlderThanDays packs months that ended more than this many days ago
	// (DefaultCompactDays when 0).
	OlderThanDays int
	DryRun        bool
}

// Compact packs the plain result files of every month that ended more
// than OlderThanDays ago into one bundle per scenario, fingerprint and
// month (results/<scenario>/<fingerprint>/<YYYY-MM>/bundle.jsonl: one line
// {"path": original path, "result": the document} per run, every field and
// sample kept, whitespace removed), in one new commit. Readers (List, Load,
// Baseline, Series, Show) read bundles transparently. Files that do not
// decode are left in place and reported.
func (r Remote) Compact(ctx context.Context, o CompactOptions) (*Retention, error) {
	if o.OlderThanDays == 0 {
		o.OlderThanDays = DefaultCompactDays
	}
	if o.OlderThanDays < 0 {
		return nil, fmt.Errorf("%w: compact --older-than-days must be ≥ 0 (got %d)", ErrBadInput, o.OlderThanDays)
	}
	cutoff := r.now().AddDate(0, 0, -o.OlderThanDays)
	var rep *Retention
	ch := func(s *Snapshot) (edits, string, error) {
		rep = &Retention{}
		e, err := compactEdits(s, cutoff, rep)
		msg := fmt.Sprintf("compact: pack %d runs into %d month bundles (months ended before %s)\n", len(rep.Removed), len(rep.Bundles), cutoff.UTC().Format("2006-01-02"))
		return e, msg, err
	}
	if err := r.retain(ctx, o.DryRun, ch, &rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// compactEdits computes Compact's edits on s.
func compactEdits(s *Snapshot, cutoff time.Time, rep *Retention) (edits, error) {
	e := edits{}
	entries, warns := s.List(Filter{})
	rep.Warnings = warns
	byMonth := map[string][]Entry{}
	for _, en := range entries {
		parts := strings.Split(en.Path, "/")
		dir := path.Join(parts[:4]...) // results/<sc>/<fp>/<YYYY-MM>
		end, err := monthEnd(parts[3])
		if err != nil || end.After(cutoff) {
			continue
		}
		byMonth[dir] = append(byMonth[dir], en)
	}
	for _, dir := range slices.Sorted(maps.Keys(byMonth)) {
		es := byMonth[dir]
		var plain int
		for _, en := range es {
			if en.Bundle == "" {
				plain++
			}
		}
		if plain == 0 {
			continue // already packed
		}
		lines := map[string][]byte{}
		packed := 0
		for _, en := range es {
			if en.Bundle != "" {
				ls, err := s.bundleLines(en.blob)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", en.Bundle, err)
				}
				lines[en.Path] = ls[en.line]
				continue
			}
			st, err := s.Load(en)
			if err != nil {
				rep.Warnings = append(rep.Warnings, fmt.Errorf("%v; left in place, not packed", err))
				continue
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, st.Data); err != nil {
				return nil, fmt.Errorf("%s: %w", en.Path, err)
			}
			line, err := json.Marshal(bundleLine{Path: en.Path, Result: compact.Bytes()})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", en.Path, err)
			}
			if !bytes.HasPrefix(line, append(append([]byte{}, bundlePathPrefix...), en.Path...)) {
				return nil, fmt.Errorf("%s: path needs JSON escapes; cannot bundle it", en.Path)
			}
			lines[en.Path] = line
			e[en.Path] = nil
			rep.Removed = append(rep.Removed, en.Path)
			packed++
		}
		if packed == 0 {
			continue
		}
		paths := slices.Sorted(maps.Keys(lines))
		ordered := make([][]byte, len(paths))
		for i, p := range paths {
			ordered[i] = lines[p]
		}
		bh, ih, err := writeBundle(s, ordered, paths)
		if err != nil {
			return nil, err
		}
		b := dir + "/" + BundleName
		e[b], e[dir+"/"+BundleIndexName] = &bh, &ih
		rep.Bundles = append(rep.Bundles, b)
	}
	return e, nil
}

// retain runs a prune or compaction: computed on the tip and pushed with
// retries, or only computed for a dry run. It fills in the sizes.
func (r Remote) retain(ctx context.Context, dry bool, ch change, rep **Retention) error {
	if dry {
		snap, err := r.Open(ctx)
		if err != nil {
			return err
		}
		e, _, err := ch(snap)
		if err != nil {
			return err
		}
		if (*rep).Before, err = snap.Size(); err != nil {
			return err
		}
		var base plumbing.Hash
		if snap.root != nil {
			base = snap.root.Hash
		}
		tree, err := editTree(snap.s, base, e)
		if err != nil {
			return err
		}
		after := &Snapshot{Branch: snap.Branch, s: snap.s, bundles: map[plumbing.Hash][][]byte{}}
		if after.root, err = object.GetTree(snap.s, tree); err != nil {
			return err
		}
		(*rep).After, err = after.Size()
		return err
	}
	var before Size
	wrapped := func(s *Snapshot) (edits, string, error) {
		var err error
		if before, err = s.Size(); err != nil {
			return nil, "", err
		}
		return ch(s)
	}
	p, after, err := r.update(ctx, wrapped)
	if err != nil {
		return err
	}
	(*rep).Before = before
	if !p.Unchanged {
		(*rep).Pushed = p
	}
	(*rep).After, err = after.Size()
	return err
}
