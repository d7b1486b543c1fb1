package history

import (
	"strings"
	"testing"
	"time"
)

func TestSlug(t *testing.T) {
	long := strings.Repeat("scenarios/very/deep/", 10) + "x.toml"
	for _, tc := range []struct {
		name, want string
	}{
		{"ci/fast_regression_check", "ci+fast_regression_check"},
		{"nightly/soak-24h.toml", "nightly+soak-24h.toml"},
		{"../../etc/passwd", "~2e.+..+etc+passwd"},
		{".git", "~2egit"},
		{"C:\\Users\\Ann Lee\\perf.toml", "~43~3a~5c~55sers~5c~41nn~20~4cee~5cperf.toml"},
		{"a+b~c", "a~2bb~7ec"},
		{"café", "caf~c3~a9"},
		{"3f2a9c1b7d4e", "3f2a9c1b7d4e"},
	} {
		got := Slug(tc.name)
		if got != tc.want {
			t.Errorf("Slug(%q) = %q, want %q", tc.name, got, tc.want)
		}
		back, ok := Unslug(got)
		if !ok || back != tc.name {
			t.Errorf("Unslug(%q) = %q, %v; want %q", got, back, ok, tc.name)
		}
	}
	for _, name := range []string{long, strings.Repeat("É", 100), long + "2"} {
		s := Slug(name)
		if len(s) > maxSlug {
			t.Errorf("Slug of a %d-byte name is %d bytes, want ≤ %d", len(name), len(s), maxSlug)
		}
		if _, ok := Unslug(s); ok {
			t.Errorf("a cut slug %q claims to be reversible", s)
		}
	}
	if Slug(long) == Slug(long+"2") {
		t.Error("two long names share a slug")
	}
	// Every slug is one safe path component.
	for _, name := range []string{".", "..", "/", "a/../b", "\x00\n\t\"'`:*?<>|", long} {
		s := Slug(name)
		if s == "." || s == ".." || strings.ContainsAny(s, "/\\:*?\"<>| \x00") || strings.HasPrefix(s, ".") {
			t.Errorf("Slug(%q) = %q is not a safe path component", name, s)
		}
	}
}

func TestResultPathRoundTrip(t *testing.T) {
	for _, k := range []Key{
		{Scenario: "ci/fast_regression_check", Fingerprint: "3f2a9c1b7d4e", Start: time.Date(2026, 5, 14, 10, 15, 0, 0, time.UTC), Commit: "0123456789abcdef0123456789abcdef01234567", RunID: "20260514T101500Z-ab12"},
		{Scenario: "/home/ann/my perf.toml", Fingerprint: "x", Start: time.Date(2026, 12, 31, 23, 59, 59, 0, time.FixedZone("X", 3600)), RunID: "r_1"},
	} {
		p := ResultPath(k)
		got, err := ParseResultPath(p)
		if err != nil {
			t.Fatal(err)
		}
		want := k
		want.Start = k.Start.UTC()
		want.Commit = shortCommit(k.Commit)
		if got != want {
			t.Errorf("ParseResultPath(%q) = %+v, want %+v", p, got, want)
		}
	}
	p := ResultPath(Key{Scenario: "ci/fast", Fingerprint: "3f2a9c1b7d4e", Start: time.Date(2026, 5, 14, 10, 15, 0, 0, time.UTC), Commit: "0123456789abcdef", RunID: "r1"})
	if want := "results/ci+fast/3f2a9c1b7d4e/2026-05/14/2026-05-14T101500Z_0123456789ab_r1.json"; p != want {
		t.Errorf("ResultPath = %q, want %q", p, want)
	}
	for _, bad := range []string{"results/a/b/2026-05/14/x.json", "results/a/b/2026-05/14/2026-05-14T101500Z_main_r.json", "other/a/b/c/d/e.json"} {
		if _, err := ParseResultPath(bad); err == nil {
			t.Errorf("ParseResultPath(%q) accepted a path the layout does not make", bad)
		}
	}
}
