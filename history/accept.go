package history

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/engram/m18-gate/internal/jsondoc"
)

// MarkerSchema names the accept marker document format.
const MarkerSchema = "m18.accept/v1"

// Marker records that a change in performance was intended: baseline
// selection for its scenario (and fingerprint, or all fingerprints)
// restarts after it, so the gate compares with the new normal instead of
// alarming forever.
//
// With a Commit and the repository under test at hand, results of commits
// that are ancestors of Commit (reached through it) are no longer a
// baseline; results of Commit itself and of its descendants are. Without a
// Commit, or when ancestry is unknown, results that started before At are
// no longer a baseline (except results of Commit itself).
type Marker struct {
	Schema   string `json:"schema"`
	Scenario string `json:"scenario"`
	// Fingerprint limits the marker to one hardware fingerprint; empty
	// means every fingerprint.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Commit is the commit that brought the accepted change (the merge on
	// the default branch), when known.
	Commit string    `json:"commit,omitempty"`
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`

	// Path is where the marker is stored (set when read).
	Path string `json:"-"`
}

// String says what the marker is, on one line.
func (m Marker) String() string {
	fp := m.Fingerprint
	if fp == "" {
		fp = "all fingerprints"
	}
	c := "no commit"
	if m.Commit != "" {
		c = "commit " + shortCommit(m.Commit)
	}
	return fmt.Sprintf("accepted %s on %s at %s (%s) by %s: %q", m.Scenario, fp, m.At.UTC().Format(time.RFC3339), c, orNone(m.By), m.Reason)
}

// MarkerPath returns where m is stored:
// accepted/<scenario>/<fingerprint or all-fingerprints>/<YYYY-MM-DDTHHMMSSZ>_<commit12>_<hash>.json.
func MarkerPath(m Marker, data []byte) string {
	fp := AllFingerprints
	if m.Fingerprint != "" {
		fp = Slug(m.Fingerprint)
	}
	sum := sha256.Sum256(data)
	return path.Join(AcceptedDir, Slug(m.Scenario), fp,
		m.At.UTC().Format(stampLayout)+"_"+shortCommit(m.Commit)+"_"+hex.EncodeToString(sum[:4])+".json")
}

// Accept records m on the branch in a commit of its own. At defaults to
// now; Scenario and Reason are required.
func (r Remote) Accept(ctx context.Context, m Marker) (*Pushed, error) {
	m.Schema = MarkerSchema
	if strings.TrimSpace(m.Scenario) == "" {
		return nil, fmt.Errorf("%w: accept needs the scenario whose baseline restarts (--scenario)", ErrBadInput)
	}
	if strings.TrimSpace(m.Reason) == "" {
		return nil, fmt.Errorf("%w: accept needs a reason that says why the change is intended (--reason)", ErrBadInput)
	}
	if !validCommit(m.Commit) {
		return nil, fmt.Errorf("%w: accept --commit %q is not a git commit (7-40 hex digits)", ErrBadInput, m.Commit)
	}
	m.Commit = strings.ToLower(m.Commit)
	if m.At.IsZero() {
		m.At = r.now()
	}
	m.At = m.At.UTC().Truncate(time.Second)
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	data = append(data, '\n')
	p := MarkerPath(m, data)
	pushed, _, err := r.update(ctx, func(s *Snapshot) (edits, string, error) {
		h, err := writeBlob(s.s, data)
		if err != nil {
			return nil, "", err
		}
		if old, ok := s.blobHash(p); ok && old == h {
			return nil, "", nil
		}
		return edits{p: &h}, "accept: " + m.String() + "\n", nil
	})
	return pushed, err
}

// Markers returns the accept markers that apply to scenario on
// fingerprint (markers for all fingerprints included), oldest first.
// Unreadable markers are skipped and reported in the warnings.
func (s *Snapshot) Markers(scenario, fingerprint string) ([]Marker, []error) {
	var out []Marker
	var warns []error
	dirs := []string{path.Join(AcceptedDir, Slug(scenario), AllFingerprints)}
	if fingerprint != "" {
		dirs = append(dirs, path.Join(AcceptedDir, Slug(scenario), Slug(fingerprint)))
	} else if t := s.subtree(path.Join(AcceptedDir, Slug(scenario))); t != nil {
		for _, te := range t.Entries {
			if te.Mode == filemode.Dir && te.Name != AllFingerprints {
				dirs = append(dirs, path.Join(AcceptedDir, Slug(scenario), te.Name))
			}
		}
	}
	for _, dir := range dirs {
		t := s.subtree(dir)
		if t == nil {
			continue
		}
		for _, te := range t.Entries {
			p := dir + "/" + te.Name
			m, err := s.readMarker(te)
			if err != nil {
				warns = append(warns, fmt.Errorf("%s: %v; skipped", p, err))
				continue
			}
			m.Path = p
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, warns
}

func (s *Snapshot) readMarker(te object.TreeEntry) (Marker, error) {
	var m Marker
	if te.Mode == filemode.Dir {
		return m, fmt.Errorf("unexpected directory")
	}
	data, err := s.readBlob(te.Hash)
	if err != nil {
		return m, err
	}
	if err := jsondoc.Decode(data, MarkerSchema, "an accept marker", &m); err != nil {
		return m, err
	}
	if m.At.IsZero() {
		return m, fmt.Errorf("field \"at\" is missing")
	}
	return m, nil
}
