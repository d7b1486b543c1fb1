package history

import (
	"testing"
	"time"
)

// FuzzParseResultPath: any path either fails with an error or decodes to
// a key whose own path parses back to the same key (paths are what the
// history branch is listed by, and a branch can hold anything).
func FuzzParseResultPath(f *testing.F) {
	k := Key{Scenario: "ci/fast_regression_check", Fingerprint: "03038f3fca06", Start: time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC),
		Commit: "0123456789abcdef0123456789abcdef01234567", RunID: "run-1"}
	f.Add(ResultPath(k))
	k.Commit = NoCommit
	f.Add(ResultPath(k))
	f.Add("results/a/b/2026-03/14/2026-03-14T150926Z_0123456_x.json")
	f.Add("results/../../etc/passwd")
	f.Add("results/a/b/c/d/e.json")
	f.Add("")
	f.Fuzz(func(t *testing.T, p string) {
		k, err := ParseResultPath(p)
		if err != nil {
			return
		}
		if k.ScenarioCut {
			return // a cut slug cannot be rebuilt into the same path
		}
		k2, err := ParseResultPath(ResultPath(k))
		if err != nil {
			t.Fatalf("ParseResultPath(%q) = %+v, whose path %q does not parse: %v", p, k, ResultPath(k), err)
		}
		if k2.Scenario != k.Scenario || k2.Fingerprint != k.Fingerprint || !k2.Start.Equal(k.Start) || k2.RunID != k.RunID {
			t.Fatalf("round trip of %q: %+v → %+v", p, k, k2)
		}
	})
}
