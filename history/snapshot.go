package history

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/engram/m18-gate/runners/result"
)

// Snapshot is the results branch as of one commit: what readers list,
// load, select baselines from and chart. Its index comes from paths and
// tree entries alone; a document is decoded only when it is loaded. A
// Snapshot is safe for concurrent use.
type Snapshot struct {
	// Branch is the results branch; Tip its commit, the zero hash when the
	// branch does not exist yet (then the Snapshot is empty).
	Branch string
	Tip    plumbing.Hash

	s    storer.EncodedObjectStorer
	root *object.Tree

	mu      sync.Mutex
	bundles map[plumbing.Hash][][]byte
}

// Entry is one stored run as the index knows it: from its path, without
// decoding the document.
type Entry struct {
	Key
	// Path is where the run is stored; for a run packed into a month bundle,
	// the path it had before compaction (Show and Load accept either).
	Path string
	// Bundle is the path of the month bundle holding the run, "" for a plain
	// file.
	Bundle string

	blob plumbing.Hash // plain file: its blob; bundle: the bundle's blob
	line int           // bundle: line index
}

// Stored is one run read from the branch: its entry, its bytes as stored
// and the decoded document.
type Stored struct {
	Entry
	Data []byte
	Doc  *result.Document
}

// Open fetches the tip of the results branch (depth 1, into memory) and
// returns it. A missing branch gives an empty Snapshot, not an error.
func (r Remote) Open(ctx context.Context) (*Snapshot, error) {
	c, err := r.newClone()
	if err != nil {
		return nil, err
	}
	tip, err := c.fetch(ctx)
	if err != nil {
		return nil, err
	}
	return newSnapshot(c.repo.Storer, r.branch(), tip)
}

// OpenRepository reads the results branch from a repository already at
// hand: refs/heads/BRANCH, else refs/remotes/origin/BRANCH. A missing
// branch gives an empty Snapshot.
func OpenRepository(repo *git.Repository, branch string) (*Snapshot, error) {
	if branch == "" {
		branch = DefaultBranch
	}
	for _, name := range []plumbing.ReferenceName{plumbing.NewBranchReferenceName(branch), plumbing.NewRemoteReferenceName("origin", branch)} {
		ref, err := repo.Reference(name, true)
		if err == nil {
			return newSnapshot(repo.Storer, branch, ref.Hash())
		}
	}
	return newSnapshot(repo.Storer, branch, plumbing.ZeroHash)
}

func newSnapshot(s storer.EncodedObjectStorer, branch string, tip plumbing.Hash) (*Snapshot, error) {
	snap := &Snapshot{Branch: branch, Tip: tip, s: s, bundles: map[plumbing.Hash][][]byte{}}
	if tip.IsZero() {
		return snap, nil
	}
	c, err := object.GetCommit(s, tip)
	if err != nil {
		return nil, fmt.Errorf("branch %s: tip %s: %w", branch, tip, err)
	}
	if snap.root, err = c.Tree(); err != nil {
		return nil, fmt.Errorf("branch %s: tree of %s: %w", branch, tip, err)
	}
	return snap, nil
}

// Empty reports whether the branch does not exist yet.
func (s *Snapshot) Empty() bool { return s.root == nil }

// subtree returns the tree at dir, or nil when there is none.
func (s *Snapshot) subtree(dir string) *object.Tree {
	if s.root == nil {
		return nil
	}
	if dir == "" {
		return s.root
	}
	t, err := s.root.Tree(dir)
	if err != nil {
		return nil
	}
	return t
}

// blobHash returns the blob at path p, if any.
func (s *Snapshot) blobHash(p string) (plumbing.Hash, bool) {
	if s.root == nil {
		return plumbing.ZeroHash, false
	}
	e, err := s.root.FindEntry(p)
	if err != nil || e.Mode == filemode.Dir {
		return plumbing.ZeroHash, false
	}
	return e.Hash, true
}

// readBlob returns a blob's bytes.
func (s *Snapshot) readBlob(h plumbing.Hash) ([]byte, error) {
	b, err := object.GetBlob(s.s, h)
	if err != nil {
		return nil, err
	}
	rd, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	buf := make([]byte, b.Size)
	if _, err := io.ReadFull(rd, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// Filter selects runs; empty fields match everything.
type Filter struct {
	Scenario    string
	Fingerprint string
	// Since and Until bound the run start time (Until exclusive).
	Since, Until time.Time
}

func (f Filter) match(e Entry) bool {
	return (f.Since.IsZero() || !e.Start.Before(f.Since)) && (f.Until.IsZero() || e.Start.Before(f.Until))
}

// List returns the runs f selects, sorted by scenario, fingerprint, start
// time and path, from paths alone. Files that do not belong (a name the
// layout cannot parse, a bad bundle line) are skipped and reported in the
// warnings, which name the path.
func (s *Snapshot) List(f Filter) ([]Entry, []error) {
	var out []Entry
	var warns []error
	for _, sc := range s.dirNames(ResultsDir, f.Scenario, &warns) {
		for _, fp := range s.dirNames(path.Join(ResultsDir, sc), f.Fingerprint, &warns) {
			for _, e := range s.seriesEntries(sc, fp, &warns) {
				if f.match(e) {
					out = append(out, e)
				}
			}
		}
	}
	sortEntries(out)
	return out, warns
}

// dirNames lists the subdirectories of dir (only Slug(want) if want is
// set), warning about stray files.
func (s *Snapshot) dirNames(dir, want string, warns *[]error) []string {
	t := s.subtree(dir)
	if t == nil {
		return nil
	}
	if want != "" {
		if _, err := t.Tree(Slug(want)); err != nil {
			return nil
		}
		return []string{Slug(want)}
	}
	var names []string
	for _, te := range t.Entries {
		if te.Mode != filemode.Dir {
			*warns = append(*warns, fmt.Errorf("%s/%s: unexpected file, skipped (results live in %s/<scenario>/<fingerprint>/…)", dir, te.Name, ResultsDir))
			continue
		}
		names = append(names, te.Name)
	}
	return names
}

// seriesEntries returns every run stored under one scenario and
// fingerprint directory, plain and bundled, unsorted. It reads tree
// entries (and bundle indexes) only, never a document.
func (s *Snapshot) seriesEntries(scSlug, fpSlug string, warns *[]error) []Entry {
	dir := seriesDir(scSlug, fpSlug)
	t := s.subtree(dir)
	if t == nil {
		return nil
	}
	proto := seriesKey(scSlug, fpSlug)
	type day struct {
		dir  string
		tree *object.Tree
	}
	var days []day
	var out []Entry
	for _, month := range t.Entries {
		mdir := dir + "/" + month.Name
		if month.Mode != filemode.Dir {
			*warns = append(*warns, fmt.Errorf("%s: unexpected file, skipped (want a YYYY-MM directory)", mdir))
			continue
		}
		mt, err := object.GetTree(s.s, month.Hash)
		if err != nil {
			*warns = append(*warns, fmt.Errorf("%s: %w", mdir, err))
			continue
		}
		var bundle, index *object.TreeEntry
		for i, d := range mt.Entries {
			ddir := mdir + "/" + d.Name
			switch {
			case d.Mode == filemode.Dir:
				dt, err := object.GetTree(s.s, d.Hash)
				if err != nil {
					*warns = append(*warns, fmt.Errorf("%s: %w", ddir, err))
					continue
				}
				days = append(days, day{ddir, dt})
			case d.Name == BundleName:
				bundle = &mt.Entries[i]
			case d.Name == BundleIndexName:
				index = &mt.Entries[i]
			default:
				*warns = append(*warns, fmt.Errorf("%s: unexpected file, skipped (want a DD directory or %s)", ddir, BundleName))
			}
		}
		if bundle != nil {
			out = append(out, s.bundleEntries(mdir+"/"+BundleName, bundle.Hash, index, proto, warns)...)
		} else if index != nil {
			*warns = append(*warns, fmt.Errorf("%s/%s: index without %s, skipped", mdir, BundleIndexName, BundleName))
		}
	}
	n := len(out)
	for _, d := range days {
		n += len(d.tree.Entries)
	}
	out = slices.Grow(out, n-len(out))
	for _, d := range days {
		for _, f := range d.tree.Entries {
			p := d.dir + "/" + f.Name
			if f.Mode == filemode.Dir {
				*warns = append(*warns, fmt.Errorf("%s: unexpected directory, skipped", p))
				continue
			}
			k, err := parseFileName(proto, f.Name)
			if err != nil {
				*warns = append(*warns, fmt.Errorf("%s: %v; skipped", p, err))
				continue
			}
			out = append(out, Entry{Key: k, Path: p, blob: f.Hash})
		}
	}
	return out
}

// bundleLines returns the lines of a bundle blob, cached.
func (s *Snapshot) bundleLines(h plumbing.Hash) ([][]byte, error) {
	s.mu.Lock()
	lines, ok := s.bundles[h]
	s.mu.Unlock()
	if ok {
		return lines, nil
	}
	data, err := s.readBlob(h)
	if err != nil {
		return nil, err
	}
	lines = bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	s.mu.Lock()
	s.bundles[h] = lines
	s.mu.Unlock()
	return lines, nil
}

// bundlePathPrefix starts every bundle line; the path follows unescaped
// (slugs never need JSON escapes).
var bundlePathPrefix = []byte(`{"path":"`)

// bundleEntries indexes a month bundle from its index file (one original
// path per line, in the bundle's order) when there is one, else by reading
// each bundle line's path; documents are not decoded either way.
func (s *Snapshot) bundleEntries(p string, h plumbing.Hash, index *object.TreeEntry, proto Key, warns *[]error) []Entry {
	var paths [][]byte
	if index != nil {
		data, err := s.readBlob(index.Hash)
		if err != nil {
			*warns = append(*warns, fmt.Errorf("%s: %w", index.Name, err))
			return nil
		}
		paths = bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	} else {
		lines, err := s.bundleLines(h)
		if err != nil {
			*warns = append(*warns, fmt.Errorf("%s: %w", p, err))
			return nil
		}
		for i, line := range lines {
			rest, ok := bytes.CutPrefix(line, bundlePathPrefix)
			end := bytes.IndexByte(rest, '"')
			if !ok || end < 0 {
				*warns = append(*warns, fmt.Errorf("%s:%d: not a bundle line ({\"path\":…,\"result\":…}); skipped", p, i+1))
				paths = append(paths, nil)
				continue
			}
			paths = append(paths, rest[:end])
		}
	}
	out := make([]Entry, 0, len(paths))
	for i, b := range paths {
		if b == nil {
			continue
		}
		orig := string(b)
		k, err := parseBundled(proto, path.Dir(path.Dir(p)), orig)
		if err != nil {
			*warns = append(*warns, fmt.Errorf("%s:%d: %v; skipped", p, i+1, err))
			continue
		}
		out = append(out, Entry{Key: k, Path: orig, Bundle: p, blob: h, line: i})
	}
	return out
}

// parseBundled decodes the original path of a bundled run, which must lie
// in the bundle's own series directory, under its own month and day.
func parseBundled(proto Key, series, p string) (Key, error) {
	rest, ok := strings.CutPrefix(p, series+"/")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 3 {
		return Key{}, fmt.Errorf("path %q does not belong in this bundle (want %s/<YYYY-MM>/<DD>/<file>.json)", p, series)
	}
	k, err := parseFileName(proto, parts[2])
	if err != nil {
		return k, err
	}
	if parts[0] != k.Start.Format("2006-01") || parts[1] != k.Start.Format("02") {
		return k, fmt.Errorf("path %q: directories do not match the time in its name", p)
	}
	return k, nil
}

// bundleLine is one line of a month bundle.
type bundleLine struct {
	Path   string          `json:"path"`
	Result json.RawMessage `json:"result"`
}

// Load reads and decodes one run. The error names the path; it wraps
// jsondoc.ErrSchema for a document of another version.
func (s *Snapshot) Load(e Entry) (*Stored, error) {
	var data []byte
	where := e.Path
	if e.Bundle == "" {
		b, err := s.readBlob(e.blob)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		data = b
	} else {
		where = fmt.Sprintf("%s:%d (%s)", e.Bundle, e.line+1, e.Path)
		lines, err := s.bundleLines(e.blob)
		if err != nil || e.line >= len(lines) {
			return nil, fmt.Errorf("%s: cannot read bundle: %v", where, err)
		}
		var bl bundleLine
		if err := json.Unmarshal(lines[e.line], &bl); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if bl.Path != e.Path {
			return nil, fmt.Errorf("%s: the line holds %s: %s is out of step with the bundle; skipped", where, bl.Path, BundleIndexName)
		}
		data = bl.Result
	}
	doc, err := result.Unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if !e.ScenarioCut && doc.Run.SeriesName() != e.Scenario {
		return nil, fmt.Errorf("%s: stored under scenario %q but the document says %q; skipped", where, e.Scenario, doc.Run.SeriesName())
	}
	if doc.Run.Hardware.Hash != e.Fingerprint {
		return nil, fmt.Errorf("%s: stored under fingerprint %q but the document says %q; skipped", where, e.Fingerprint, doc.Run.Hardware.Hash)
	}
	return &Stored{Entry: e, Data: data, Doc: doc}, nil
}

// raw returns the bytes an entry's document is stored in without decoding
// them: the file, or the whole bundle line.
func (s *Snapshot) raw(e Entry) ([]byte, error) {
	if e.Bundle == "" {
		return s.readBlob(e.blob)
	}
	lines, err := s.bundleLines(e.blob)
	if err != nil {
		return nil, err
	}
	if e.line >= len(lines) {
		return nil, fmt.Errorf("%s: no line %d", e.Bundle, e.line+1)
	}
	return lines[e.line], nil
}

// LoadAll loads entries in order; the ones that fail to decode are skipped
// and reported in the warnings.
func (s *Snapshot) LoadAll(entries []Entry) ([]*Stored, []error) {
	var out []*Stored
	var warns []error
	for _, e := range entries {
		st, err := s.Load(e)
		if err != nil {
			warns = append(warns, err)
			continue
		}
		out = append(out, st)
	}
	return out, warns
}

// Show returns the bytes stored at path p: a plain file, or a run packed
// into a bundle under its original path.
func (s *Snapshot) Show(p string) ([]byte, error) {
	p = strings.Trim(p, "/")
	if h, ok := s.blobHash(p); ok {
		return s.readBlob(h)
	}
	k, err := ParseResultPath(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not on branch %s (%v)", ErrBadInput, p, s.Branch, err)
	}
	month := k.Start.UTC().Format("2006-01")
	parts := strings.Split(p, "/")
	bundle := path.Join(ResultsDir, parts[1], parts[2], month, BundleName)
	h, ok := s.blobHash(bundle)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not on branch %s", ErrBadInput, p, s.Branch)
	}
	var warns []error
	var proto Key
	proto.Scenario, _ = Unslug(parts[1])
	proto.Fingerprint, _ = Unslug(parts[2])
	for _, e := range s.bundleEntries(bundle, h, nil, proto, &warns) {
		if e.Path == p {
			st, err := s.Load(e)
			if err != nil {
				return nil, err
			}
			return st.Data, nil
		}
	}
	return nil, fmt.Errorf("%w: %s is not on branch %s (not in %s either)", ErrBadInput, p, s.Branch, bundle)
}

func sortEntries(es []Entry) {
	sort.Slice(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.Scenario != b.Scenario {
			return a.Scenario < b.Scenario
		}
		if a.Fingerprint != b.Fingerprint {
			return a.Fingerprint < b.Fingerprint
		}
		if !a.Start.Equal(b.Start) {
			return a.Start.Before(b.Start)
		}
		return a.Path < b.Path
	})
}
