package render

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/engram/m18-gate/gate/verdict"
)

// FuzzEscape checks the promises of Escape on any input: valid UTF-8, at
// most MaxNameRunes runes (plus inserted joiners and escapes), no line
// break, no raw HTML or table pipe, no bidi override.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "p99", "a|b", "<script>alert(1)</script>", "@octocat", "#123", "GH-7", "https://x.example",
		"www.evil.example", "line\nbreak\r\n", "\u202eevil", "`code`", "\\|", "\xff\xfe", strings.Repeat("é", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		if !utf8.ValidString(e) {
			t.Fatalf("Escape(%q) is not valid UTF-8: %q", s, e)
		}
		if strings.ContainsAny(e, "\n\r<>\u202e\u202d\u2066\u2067\u2068") {
			t.Fatalf("Escape(%q) = %q holds a line break, raw HTML or a bidi override", s, e)
		}
		if unescapedPipe(e) {
			t.Fatalf("Escape(%q) = %q holds an unescaped |", s, e)
		}
		// Each kept rune becomes at most "&amp;"-long (5 bytes) or a
		// rune plus a joiner.
		if n := utf8.RuneCountInString(e); n > 6*MaxNameRunes {
			t.Fatalf("Escape(%q) has %d runes", s, n)
		}
	})
}

// unescapedPipe reports a | not preceded by an odd run of backslashes.
func unescapedPipe(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '|' {
			continue
		}
		n := 0
		for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return true
		}
	}
	return false
}

// FuzzMarkdown renders a verdict whose names, reason and links are
// fuzzed: it never panics, the rendered comparison table keeps its column
// count on every row (no name breaks out of a cell), and no unsafe link
// survives.
func FuzzMarkdown(f *testing.F) {
	f.Add("ci/fast", "overall", "p99", "ms", "fine", "https://example.com/run")
	f.Add("evil`name` | <script>", "@octocat", "p99\n## heading", "ms<b>", "<img src=x onerror=alert(1)>", "javascript:alert(1)")
	f.Add("[x](javascript:1)", "#123", "|||", "\u202e", "\x1b[31m", "http://a(b)<c>")
	f.Fuzz(func(t *testing.T, scenario, operation, metric, unit, reason, link string) {
		v := base()
		for _, d := range []string{verdict.Regressed, verdict.Inconclusive, verdict.Unchanged} {
			c := comp(scenario, operation, metric, unit, d, 1, 1.2)
			c.Reason = reason
			v.Comparisons = append(v.Comparisons, c)
		}
		v.Skipped = []verdict.Skip{{Scenario: scenario, Reason: reason}}
		v.Links.Run, v.Links.Dashboard = link, link
		summarize(v)
		md := Markdown(v, Options{})
		if !utf8.ValidString(md) {
			t.Fatal("Markdown is not valid UTF-8")
		}
		if strings.Contains(strings.ToLower(md), "javascript:") && strings.Contains(md, "](javascript") {
			t.Fatalf("an unsafe link survived:\n%s", md)
		}
		if strings.Contains(md, "<script") || strings.Contains(md, "<img") {
			t.Fatalf("raw HTML from a name survived:\n%s", md)
		}
		cols := -1
		for _, line := range strings.Split(md, "\n") {
			if !strings.HasPrefix(line, "|") {
				cols = -1 // a table ended
				continue
			}
			n := 0
			for i := 0; i < len(line); i++ {
				if line[i] == '|' && (i == 0 || line[i-1] != '\\' || escapedBackslash(line[:i])) {
					n++
				}
			}
			if cols >= 0 && n != cols {
				t.Fatalf("a table row has %d cells' pipes, its header %d:\n%s", n, cols, line)
			}
			if cols < 0 {
				cols = n
			}
		}
	})
}

// escapedBackslash reports whether s ends in an even run of backslashes
// of at least two (so the next character is not escaped).
func escapedBackslash(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n > 0 && n%2 == 0
}
