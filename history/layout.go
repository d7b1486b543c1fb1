package history

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// DefaultBranch is the results branch used when none is named.
const DefaultBranch = "m18-results"

// Top-level directories of the results branch.
const (
	// ResultsDir holds results: ResultsDir/<scenario>/<fingerprint>/<YYYY-MM>/<DD>/<file>.json,
	// and, after compaction, ResultsDir/<scenario>/<fingerprint>/<YYYY-MM>/BundleName.
	ResultsDir = "results"
	// AcceptedDir holds accept markers: AcceptedDir/<scenario>/<fingerprint or AllFingerprints>/<file>.json.
	AcceptedDir = "accepted"
	// BundleName is the file name of a month bundle written by Compact;
	// BundleIndexName its index: the original path of each line, in order,
	// so readers list a bundle's runs without reading it.
	BundleName      = "bundle.jsonl"
	BundleIndexName = "bundle.idx"
	// AllFingerprints stands for "every fingerprint" in an accept marker's path.
	AllFingerprints = "all-fingerprints"
	// NoCommit stands for an unknown commit in a file name.
	NoCommit = "nocommit"
)

// stampLayout is the time format of file names: sortable, no colons.
const stampLayout = "2006-01-02T150405Z"

// maxSlug bounds a slug's length; longer names are cut and end in a hash.
const maxSlug = 120

// Slug encodes a scenario name (or any name: a user's file path, a run id,
// a fingerprint) as one path component that is safe on every file system
// and in `git show BRANCH:PATH`. It keeps a-z, 0-9, '.', '_' and '-',
// writes '/' as '+', and every other byte as '~' and two lowercase hex
// digits ("ci/Fast run" → "ci+~46ast~20run"); a leading '.' is escaped so
// no component is ".", ".." or ".git". The encoding is reversible
// (Unslug) unless the name is longer than 120 bytes encoded: then it is cut
// and ends in "~~" and 16 hex digits of the name's SHA-256, and the full
// name is recorded in every document stored under it.
func Slug(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-':
			b.WriteByte(c)
		case c == '.' && i > 0:
			b.WriteByte(c)
		case c == '/':
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "~%02x", c)
		}
	}
	s := b.String()
	if len(s) > maxSlug {
		sum := sha256.Sum256([]byte(name))
		cut := s[:maxSlug-18]
		// Do not cut an escape in half.
		if i := strings.LastIndexByte(cut, '~'); i >= len(cut)-2 {
			cut = cut[:i]
		}
		s = cut + "~~" + hex.EncodeToString(sum[:8])
	}
	return s
}

// Unslug reverses Slug. ok is false for a cut (hashed) slug or a string
// Slug cannot have produced.
func Unslug(slug string) (name string, ok bool) {
	if strings.Contains(slug, "~~") || slug == "" {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(slug); i++ {
		c := slug[i]
		switch {
		case c == '+':
			b.WriteByte('/')
		case c == '~':
			if i+3 > len(slug) {
				return "", false
			}
			v, err := hex.DecodeString(slug[i+1 : i+3])
			if err != nil {
				return "", false
			}
			b.WriteByte(v[0])
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// Key identifies one stored run: what its path on the branch encodes.
type Key struct {
	// Scenario is the scenario name (Run.Scenario), decoded from the path;
	// for a cut slug it is the slug itself and ScenarioCut is true.
	Scenario    string
	ScenarioCut bool
	// Fingerprint is the hardware fingerprint hash (Run.Hardware.Hash).
	Fingerprint string
	// Start is the run's start time, to the second, UTC.
	Start time.Time
	// Commit is the first 12 hex digits of the commit under test, or
	// NoCommit.
	Commit string
	// RunID is the run's id (Run.RunID).
	RunID string
}

// ResultPath returns where a run with key k is stored:
// results/<scenario>/<fingerprint>/<YYYY-MM>/<DD>/<YYYY-MM-DDTHHMMSSZ>_<commit12>_<runid>.json.
func ResultPath(k Key) string {
	t := k.Start.UTC()
	return path.Join(ResultsDir, Slug(k.Scenario), Slug(k.Fingerprint), t.Format("2006-01"), t.Format("02"),
		t.Format(stampLayout)+"_"+shortCommit(k.Commit)+"_"+Slug(k.RunID)+".json")
}

// seriesDir is the directory of one scenario and fingerprint.
func seriesDir(scenarioSlug, fpSlug string) string {
	return path.Join(ResultsDir, scenarioSlug, fpSlug)
}

// shortCommit returns the first 12 hex digits of a commit, or NoCommit.
func shortCommit(c string) string {
	c = strings.ToLower(strings.TrimSpace(c))
	if c == "" {
		return NoCommit
	}
	if len(c) > 12 {
		c = c[:12]
	}
	return c
}

// validCommit reports whether c is empty or at least 7 hex digits.
func validCommit(c string) bool {
	if c == "" {
		return true
	}
	if len(c) < 7 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if !isHex(c[i]) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// sameCommit reports whether two commit names (full or abbreviated) agree
// on their common prefix of at least 7 digits.
func sameCommit(a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	if a == NoCommit || b == NoCommit || a == "" || b == "" {
		return false
	}
	n := min(len(a), len(b))
	return n >= 7 && a[:n] == b[:n]
}

// ParseResultPath decodes a path made by ResultPath.
func ParseResultPath(p string) (Key, error) {
	parts := strings.Split(p, "/")
	if len(parts) != 6 || parts[0] != ResultsDir || slices.Contains(parts, "") {
		return Key{}, fmt.Errorf("path %q is not %s/<scenario>/<fingerprint>/<YYYY-MM>/<DD>/<file>.json", p, ResultsDir)
	}
	k, err := parseResultFile(parts[1], parts[2], parts[5])
	if err != nil {
		return k, err
	}
	// The month and day directories are the file's own time: a file filed
	// elsewhere would be listed out of order.
	if want := k.Start.Format("2006-01") + "/" + k.Start.Format("02"); parts[3]+"/"+parts[4] != want {
		return Key{}, fmt.Errorf("path %q: the file's time says %s/, not %s/%s/", p, want, parts[3], parts[4])
	}
	if k.Commit == "" || k.RunID == "" {
		return Key{}, fmt.Errorf("path %q: the file name lacks its commit or run id", p)
	}
	return k, nil
}

// parseResultFile decodes the parts of a result path.
func parseResultFile(scenarioSlug, fpSlug, file string) (Key, error) {
	return parseFileName(seriesKey(scenarioSlug, fpSlug), file)
}

// seriesKey is the Key of a series directory's scenario and fingerprint
// slugs, the rest of it zero: a slug that does not decode (a cut scenario
// name) is kept as it is, and a cut scenario marked so.
func seriesKey(scenarioSlug, fpSlug string) Key {
	var k Key
	var ok bool
	if k.Scenario, ok = Unslug(scenarioSlug); !ok {
		k.Scenario, k.ScenarioCut = scenarioSlug, true
	}
	if k.Fingerprint, ok = Unslug(fpSlug); !ok {
		k.Fingerprint = fpSlug
	}
	return k
}

// parseFileName decodes a result file name into a copy of proto, which
// holds the scenario and fingerprint.
func parseFileName(proto Key, file string) (Key, error) {
	k := proto
	name, ok := strings.CutSuffix(file, ".json")
	if !ok {
		return k, fmt.Errorf("file %q does not end in .json", file)
	}
	stamp, rest, ok1 := strings.Cut(name, "_")
	commit, run, ok2 := strings.Cut(rest, "_")
	if !ok1 || !ok2 {
		return k, fmt.Errorf("file name %q is not <YYYY-MM-DDTHHMMSSZ>_<commit>_<runid>.json", file)
	}
	t, err := parseStamp(stamp)
	if err != nil {
		return k, fmt.Errorf("file name %q: time %q is not YYYY-MM-DDTHHMMSSZ", file, stamp)
	}
	if commit != NoCommit && !validCommit(commit) {
		return k, fmt.Errorf("file name %q: commit %q is not hex", file, commit)
	}
	k.Start = t
	k.Commit = commit
	if k.RunID, ok = Unslug(run); !ok {
		k.RunID = run
	}
	return k, nil
}

// parseStamp parses YYYY-MM-DDTHHMMSSZ quickly (it is read for every
// stored run), falling back to time.Parse for anything unusual.
func parseStamp(s string) (time.Time, error) {
	if len(s) != 18 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[17] != 'Z' {
		return time.Parse(stampLayout, s)
	}
	num := func(a, b int) int {
		n := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	y, mo, d, h, mi, se := num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(13, 15), num(15, 17)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59 {
		return time.Parse(stampLayout, s)
	}
	t := time.Date(y, time.Month(mo), d, h, mi, se, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, fmt.Errorf("no day %d in %s", d, s[:7])
	}
	return t, nil
}

// monthEnd returns the first instant after the month named "YYYY-MM".
func monthEnd(month string) (time.Time, error) {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return time.Time{}, err
	}
	return t.AddDate(0, 1, 0), nil
}
