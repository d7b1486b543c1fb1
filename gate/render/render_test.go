package render

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/gate/verdict"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func ptr(x float64) *float64 { return &x }

// base returns a verdict frame with settings, sides and links.
func base() *verdict.Verdict {
	return &verdict.Verdict{
		Schema:               verdict.SchemaVersion,
		CreatedAt:            time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC),
		ToolVersion:          "v0.18.0",
		Alpha:                0.01,
		Threshold:            0.05,
		CompetitiveThreshold: 0.10,
		Base:                 verdict.Side{Commit: "0123456789abcdef0123", Ref: "main", Fingerprint: "x86-epyc-9454p-48c", Hardware: "AMD EPYC 9454P, 48 cores, 192 GiB"},
		Head:                 verdict.Side{Commit: "fedcba9876543210fedc", Ref: "pr-42", Fingerprint: "x86-epyc-9454p-48c", Hardware: "AMD EPYC 9454P, 48 cores, 192 GiB"},
		Links: verdict.Links{
			Run:       "https://github.com/engram/engram/actions/runs/123456",
			Dashboard: "https://engram.github.io/m18/",
		},
	}
}

func comp(scn, op, metric, unit, decision string, b, h float64) verdict.Comparison {
	ch := h/b - 1
	if unit == "fraction" {
		ch = h - b // error rates change in absolute points, as the gate computes them
	}
	c := verdict.Comparison{
		Scenario: scn, Operation: op, Metric: metric, Unit: unit,
		NBase: 10, NHead: 10, BaseMedian: b, HeadMedian: h,
		Change: ch, CILow: ch - 0.02, CIHigh: ch + 0.02, HodgesLehmann: h - b,
		PValue: 0.0004, PAdjusted: 0.002, Threshold: 0.05, Decision: decision,
		MDE: ptr(0.031),
	}
	switch decision {
	case verdict.Regressed:
		c.Reason = fmt.Sprintf("%s rose %s, beyond the 5%% threshold with p < 0.01", metric, ChangeOf(c))
	case verdict.Unchanged:
		c.PValue, c.PAdjusted = 0.41, 0.62
		c.Reason = "no change larger than 5% (equivalence test)"
	case verdict.Improved:
		c.Reason = "improved beyond the threshold"
	case verdict.Inconclusive:
		c.PValue, c.PAdjusted = 0.03, 0.09
		c.Reason = "not significant at α = 0.01 and the CI spans the threshold"
		c.RunsNeeded = 24
	}
	return c
}

func summarize(v *verdict.Verdict) *verdict.Verdict {
	var s verdict.Summary
	for _, c := range v.Comparisons {
		switch c.Decision {
		case verdict.Regressed:
			s.Regressed++
			if c.Competitive {
				s.CompetitiveRegressed++
			}
		case verdict.Improved:
			s.Improved++
		case verdict.Unchanged:
			s.Unchanged++
		case verdict.Inconclusive:
			s.Inconclusive++
		}
	}
	s.Skipped = len(v.Skipped)
	s.Outcome = verdict.OutcomePass
	if s.Regressed > 0 {
		s.Outcome = verdict.OutcomeRegression
	}
	if s.CompetitiveRegressed > 0 {
		s.Outcome = verdict.OutcomeCompetitiveRegression
	}
	v.Summary = s
	v.Summary.Answer = Answer(v)
	return v
}

func fixtures() map[string]*verdict.Verdict {
	m := map[string]*verdict.Verdict{}

	v := base()
	v.Comparisons = []verdict.Comparison{
		comp("ci-fast", "search", "p99", "ms", verdict.Unchanged, 12.31, 12.4),
		comp("ci-fast", "ingest", "p99", "ms", verdict.Regressed, 8.2, 9.4),
		comp("ci-fast", "search", "throughput", "ops/s", verdict.Unchanged, 18234, 18100),
		comp("ci-fast", "recall", "p50", "ms", verdict.Inconclusive, 3.1, 3.3),
		comp("soak-1h", "all", "error_rate", "fraction", verdict.Regressed, 0.001, 0.004),
		comp("ci-fast", "ingest", "p50", "ms", verdict.Improved, 4.0, 3.5),
	}
	// Owners from the config are mentioned on their regressions; a value
	// that is not a GitHub login or team is not.
	v.Comparisons[1].Owners = []string{"alice", "@engram/perf-team", "alice", "not a login <b>"}
	v.Comparisons[0].Source = &verdict.Source{Path: ".github/m18-gate.toml", Line: 12}
	v.Warnings = []string{"n = 10 per side; consider 20 for soak scenarios"}
	m["regressions"] = summarize(v)

	v = base()
	for i, op := range []string{"search", "ingest", "recall", "forget"} {
		v.Comparisons = append(v.Comparisons, comp("ci-fast", op, "p99", "ms", verdict.Unchanged, 10+float64(i), 10.1+float64(i)))
	}
	v.Links.Artifact = "https://github.com/engram/engram/actions/runs/123456/artifacts/99"
	m["allclear"] = summarize(v)

	v = base()
	v.Comparisons = []verdict.Comparison{
		comp("ci-fast", "search", "p99", "ms", verdict.Inconclusive, 12.3, 13.0),
		comp("ci-fast", "ingest", "p99", "ms", verdict.Unchanged, 8.2, 8.25),
	}
	v.Comparisons[0].MDE = ptr(0.072)
	m["inconclusive"] = summarize(v)

	// A confirming re-run: cpu_per_op confirmed, p99 not (inconclusive).
	v = base()
	v.Comparisons = []verdict.Comparison{
		comp("ci-fast", "overall", "cpu_per_op", "s", verdict.Regressed, 0.0021, 0.0023),
		comp("ci-fast", "search", "p99", "ms", verdict.Inconclusive, 12.3, 13.6),
	}
	v.Comparisons[1].Reason = "not confirmed by a re-run of 8 pairs: +1.2% [-2.0%, +4.1%] (inconclusive, p = 0.4100 adjusted); first: p99 rose +10.6%"
	v.Confirmation = &verdict.Confirmation{Pairs: 8, Alpha: 0.01, First: verdict.FirstDecision{Outcome: verdict.OutcomeRegression, Pairs: 10},
		Comparisons: []verdict.Rerun{
			{Scenario: "ci-fast", Operation: "overall", Metric: "cpu_per_op", Confirmed: true, Decision: verdict.Regressed, Change: 0.098, CILow: 0.06, CIHigh: 0.121, PAdjusted: 0.0078},
			{Scenario: "ci-fast", Operation: "search", Metric: "p99", Decision: verdict.Inconclusive, Change: 0.012, CILow: -0.02, CIHigh: 0.041, PAdjusted: 0.41},
		}}
	m["confirmed"] = summarize(v)

	v = base()
	v.Head.Fingerprint = "arm-graviton3-16c"
	v.Head.Hardware = "Graviton3, 16 cores"
	v.Skipped = []verdict.Skip{
		{Scenario: "numa-2socket", Reason: "this runner has one NUMA node; the scenario needs two"},
		{Scenario: "ci-fast", Operation: "search", Metric: "p99", Reason: "no baseline for fingerprint arm-graviton3-16c"},
	}
	m["skips"] = summarize(v)

	v = base()
	for i := 0; i < 300; i++ {
		d := verdict.Unchanged
		if i%7 == 0 {
			d = verdict.Regressed
		}
		v.Comparisons = append(v.Comparisons, comp(fmt.Sprintf("scenario-%03d", i), "search", "p99", "ms", d, 10, 10.9))
	}
	m["truncated"] = summarize(v)

	v = base()
	v.Base.Ref = "main`; rm -rf /"
	v.Comparisons = []verdict.Comparison{
		comp("evil`name` | <script>alert(1)</script>", "@octocat please review", "p99\n## injected heading", "ms<b>", verdict.Regressed, 1, 2),
		comp("[click](javascript:alert(1))", "fixes #123 and GH-7 and o/r#9", "![img](https://evil.example/x.png)", "ms", verdict.Unchanged, 1, 1),
		comp("@org/team", "https://evil.example/phish www.evil.example", "$\\sqrt{x}$ *bold* _it_ ~~s~~", "ms", verdict.Inconclusive, 1, 1.1),
	}
	v.Comparisons[0].Reason = "reason with <img src=x onerror=alert(1)> and @admin"
	v.Comparisons[0].Competitive = true
	v.Skipped = []verdict.Skip{{Scenario: "<details open>", Reason: "|col|break|\r\nnew row"}}
	v.Warnings = []string{"\x1b[31mred terminal\x1b[0m \u202eevil bidi"}
	v.Links.Dashboard = "javascript:alert(1)"
	v.Links.Run = "https://example.com/a(b)<c>"
	m["hostile"] = summarize(v)
	return m
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run go test -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestMarkdownGolden(t *testing.T) {
	for name, v := range fixtures() {
		t.Run(name, func(t *testing.T) {
			o := Options{Marker: "m18-gate:report workflow=PR gate job=gate key=default", Title: "m18-gate"}
			if name == "truncated" {
				o.MaxBytes = 6000
			}
			got := Markdown(v, o)
			golden(t, name+".md.golden", got)
			if o.MaxBytes > 0 && len(got) > o.MaxBytes {
				t.Errorf("len = %d > MaxBytes %d", len(got), o.MaxBytes)
			}
			first := strings.SplitN(got, "\n", 2)[0]
			if !strings.Contains(first, Status(v)) {
				t.Errorf("first line %q does not lead with the status %q", first, Status(v))
			}
			if !strings.Contains(got, HiddenComment(o.Marker)) {
				t.Errorf("marker missing")
			}
		})
	}
}

func TestTextGolden(t *testing.T) {
	for _, name := range []string{"regressions", "skips", "hostile", "confirmed"} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Text(&buf, fixtures()[name]); err != nil {
				t.Fatal(err)
			}
			golden(t, name+".txt.golden", buf.String())
			if strings.ContainsAny(buf.String(), "\x1b\u202e") {
				t.Errorf("terminal escape or bidi override survived")
			}
		})
	}
}

func TestRegressionsFirst(t *testing.T) {
	got := Markdown(fixtures()["regressions"], Options{})
	iReg := strings.Index(got, "| **[regressed](")
	iInc := strings.Index(got, "| inconclusive |")
	iImp := strings.Index(got, "| improved |")
	iUnch := strings.Index(got, "| unchanged |")
	if !(iReg >= 0 && iReg < iInc && iInc < iImp && iImp < iUnch) {
		t.Errorf("order regressed %d < inconclusive %d < improved %d < unchanged %d does not hold", iReg, iInc, iImp, iUnch)
	}
	if !strings.Contains(got, "about 24 runs per side would settle it") {
		t.Errorf("inconclusive comparison lacks RunsNeeded")
	}
}

func TestTruncationAlwaysFits(t *testing.T) {
	v := fixtures()["truncated"]
	marker := "m18-gate:report key=k"
	full := Markdown(v, Options{Marker: marker})
	for _, max := range []int{200, 700, 1000, 2500, 4000, 10000, 30000, len(full) / 2, len(full) - 1} {
		got := Markdown(v, Options{MaxBytes: max, Marker: marker})
		if len(got) > max {
			t.Errorf("MaxBytes %d: len = %d", max, len(got))
		}
		if !strings.Contains(got, HiddenComment(marker)) {
			t.Errorf("MaxBytes %d: marker lost", max)
		}
		if !strings.HasPrefix(got, "**REGRESSION**") {
			t.Errorf("MaxBytes %d: answer line lost: %.60q", max, got)
		}
		if max >= 500 && !strings.Contains(got, "Truncated") {
			t.Errorf("MaxBytes %d: no truncation note", max)
		}
		if strings.Count(got, "<details>") != strings.Count(got, "</details>") {
			t.Errorf("MaxBytes %d: unbalanced <details>", max)
		}
	}
	if got := Markdown(v, Options{MaxBytes: len(full), Marker: marker}); got != full {
		t.Errorf("a body that fits exactly was changed")
	}
}

// mentionRE finds a live @mention or issue reference: @ or # directly
// followed by a name or number character.
var mentionRE = regexp.MustCompile(`(@[A-Za-z0-9]|#[0-9]|GH-[0-9]|://|www\.[A-Za-z])`)

func TestEscape(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"plain-name_1", `plain-name\_1`},
		{"a|b", `a\|b`},
		{"`code`", "\\`code\\`"},
		{"<script>alert(1)</script>", `&lt;script&gt;alert\(1\)&lt;/script&gt;`},
		{"@octocat", "@\u200doctocat"},
		{"fixes #12", "fixes #\u200d12"},
		{"#tag", "#tag"},
		{"GH-7", "GH-\u200d7"},
		{"line1\nline2\r\tx", "line1 line2  x"},
		{"[x](http://e.com)", "\\[x\\]\\(http:\u200d//e.com\\)"},
		{"www.e.com", "www.\u200de.com"},
		{"$x$", `\$x\$`},
		{"a & b", "a &amp; b"},
		{"\u202egnp.exe", "gnp.exe"},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEscapeHostileProperties(t *testing.T) {
	inputs := []string{
		"@a @b-c @org/team x@y", "#1 #22 o/r#3 GH-4 gh-5", "<img src=x>", "a|b|c", "x\ny\rz",
		"http://x https://y ftp://z www.w.com", "`` ``` ````", "\\|", strings.Repeat("@x", 500),
	}
	for _, in := range inputs {
		got := Escape(in)
		if mentionRE.MatchString(got) {
			t.Errorf("Escape(%q) = %q still holds a live mention, reference or link", in, got)
		}
		if strings.ContainsAny(got, "<>\n\r") {
			t.Errorf("Escape(%q) = %q holds raw HTML brackets or a newline", in, got)
		}
		// Every pipe and backtick must be preceded by an odd number of backslashes.
		for i := 0; i < len(got); i++ {
			if got[i] != '|' && got[i] != '`' {
				continue
			}
			n := 0
			for j := i - 1; j >= 0 && got[j] == '\\'; j-- {
				n++
			}
			if n%2 == 0 {
				t.Errorf("Escape(%q) = %q: unescaped %q at %d", in, got, got[i], i)
			}
		}
		if r := []rune(got); len(r) > MaxNameRunes*3 {
			t.Errorf("Escape(%q): %d runes, not clipped", in[:20], len(r))
		}
	}
}

func TestSafeURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://github.com/o/r/actions/runs/1", "https://github.com/o/r/actions/runs/1"},
		{"javascript:alert(1)", ""},
		{"data:text/html,x", ""},
		{"/relative", ""},
		{"https://e.com/a(b)", "https://e.com/a%28b%29"},
	}
	for _, tt := range tests {
		if got := SafeURL(tt.in); got != tt.want {
			t.Errorf("SafeURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHiddenComment(t *testing.T) {
	got := HiddenComment("key --> <b>\nx")
	if strings.Count(got, "-->") != 1 || !strings.HasSuffix(got, "-->") || strings.Contains(got, "\n") {
		t.Errorf("HiddenComment = %q can close early or span lines", got)
	}
}

func TestValueFormats(t *testing.T) {
	tests := []struct {
		x    float64
		unit string
		want string
	}{
		{12.345, "ms", "12.3 ms"},
		{0.5, "ms", "0.5 ms"},
		{18234, "ops/s", "18.2k ops/s"},
		{1234567, "ops/s", "1.23M ops/s"},
		{0.0042, "fraction", "0.42%"},
		{123.4, "", "123"},
		{0, "ms", "0 ms"},
		// go test -bench units as benchstat prints them (benchunit: four
		// significant digits, SI prefixes for time, IEC for bytes).
		{4.22e-6, "sec/op", "4.220µ sec/op"},
		{95.61e-9, "sec/op", "95.61n sec/op"},
		{3.383e9, "B/s", "3.151Gi B/s"},   // 3.383e9 / 2^30 = 3.1506
		{1234567, "B/op", "1.177Mi B/op"}, // 1234567 / 2^20 = 1.1774
		{12, "allocs/op", "12.00 allocs/op"},
	}
	for _, tt := range tests {
		if got := Value(tt.x, tt.unit); got != tt.want {
			t.Errorf("Value(%v, %q) = %q, want %q", tt.x, tt.unit, got, tt.want)
		}
	}
	if got := Change(0.0523); got != "+5.2%" {
		t.Errorf("Change = %q", got)
	}
	if got := Change(-0.00001); got != "0.0%" {
		t.Errorf("Change(-0.00001) = %q", got)
	}
	if got := P(0.0002); got != "<0.001" {
		t.Errorf("P = %q", got)
	}
}

func TestStatus(t *testing.T) {
	f := fixtures()
	for name, want := range map[string]string{
		"regressions": StatusRegression, "allclear": StatusPass, "inconclusive": StatusInconclusive,
		"skips": StatusSkipped, "hostile": StatusCompetitiveRegression,
	} {
		if got := Status(f[name]); got != want {
			t.Errorf("Status(%s) = %q, want %q", name, got, want)
		}
	}
}

// TestRollup checks the per-scenario rows against values computed by hand:
// the deciding comparison is the most severe (the largest change among
// equals), the geometric mean covers time units only, and owners are
// mentioned once each, only when they are logins or teams.
func TestRollup(t *testing.T) {
	v := base()
	v.Comparisons = []verdict.Comparison{
		comp("a", "op1", "p50", "ms", verdict.Unchanged, 10, 11),            // ratio 1.1
		comp("a", "op1", "p99", "ms", verdict.Regressed, 10, 12.1),          // ratio 1.21, decides
		comp("a", "op2", "p99", "ms", verdict.Regressed, 10, 11),            // smaller regression
		comp("a", "op1", "throughput", "ops/s", verdict.Unchanged, 100, 50), // not a time
		comp("b", "op", "error_rate", "fraction", verdict.Unchanged, 0, 0),
		comp("c", "op", "p50", "ms", verdict.Inconclusive, 2, 2.2),
	}
	v.Comparisons[2].Owners = []string{"bob", "x y", "@org/team", "Bob"}
	rows := Rollup(v)
	if len(rows) != 3 || rows[0].Scenario != "a" || rows[1].Scenario != "c" || rows[2].Scenario != "b" {
		t.Fatalf("rows %+v: want a (regressed), c (inconclusive), b (unchanged)", rows)
	}
	a := rows[0]
	if a.By.Metric != "p99" || a.By.Operation != "op1" {
		t.Errorf("a decided by %s %s, want op1 p99 (the larger regression)", a.By.Operation, a.By.Metric)
	}
	// geomean of 1.1, 1.21, 1.1 = (1.4641)^(1/3) = 1.13576…
	if want := math.Cbrt(1.1*1.21*1.1) - 1; a.GeomeanOf != 3 || math.Abs(a.Geomean-want) > 1e-12 {
		t.Errorf("a geomean %v of %d, want %v of 3", a.Geomean, a.GeomeanOf, want)
	}
	if Geomean(a.Geomean) != "+13.6%" {
		t.Errorf("Geomean(%v) = %q, want +13.6%%", a.Geomean, Geomean(a.Geomean))
	}
	if !slices.Equal(a.Owners, []string{"@bob", "@org/team"}) {
		t.Errorf("owners %v, want [@bob @org/team]", a.Owners)
	}
	if b := rows[2]; !math.IsNaN(b.Geomean) || Geomean(b.Geomean) != "—" {
		t.Errorf("b has no time comparison but geomean %v", b.Geomean)
	}
	md := Markdown(v, Options{})
	if n := strings.Count(md, "runs per side"); n != 1 {
		t.Errorf("the report says what would settle it %d times, want once:\n%s", n, md)
	}
	if !strings.Contains(md, "| a | **[regressed](https://engram.github.io/m18/charts/a/x86-epyc-9454p-48c/op1.p99.html)** · @bob @org/team | op1 · p99 |") {
		t.Errorf("the scenario row of a does not name its owners and deciding metric:\n%s", md)
	}
}

// TestSettle says once what would settle the inconclusive comparisons.
func TestSettle(t *testing.T) {
	inc := func(n int) verdict.Comparison {
		c := comp("s", "o", "p50", "ms", verdict.Inconclusive, 1, 1.1)
		c.RunsNeeded = n
		return c
	}
	tests := []struct {
		runs []int
		want string
	}{
		{nil, ""},
		{[]int{24}, "1 comparison could not be decided at these run counts; about 24 runs per side would settle it"},
		{[]int{24, 57}, "2 comparisons could not be decided at these run counts; about 57 runs per side would settle them all"},
		{[]int{0, 57}, "at least 57 runs per side would settle them"},
		{[]int{0}, "more runs per side would settle it"},
		{[]int{2428}, "more than 1000 runs per side (about 2428 runs)"},
	}
	for _, tt := range tests {
		v := base()
		for _, n := range tt.runs {
			v.Comparisons = append(v.Comparisons, inc(n))
		}
		if got := Settle(v); !strings.Contains(got, tt.want) || (tt.want == "") != (got == "") {
			t.Errorf("Settle(%v) = %q, want it to contain %q", tt.runs, got, tt.want)
		}
	}
}

// TestConfirmedLine: the line a confirming re-run adds to both reports.
func TestConfirmedLine(t *testing.T) {
	rerun := func(metric string, ok bool, ch float64) verdict.Rerun {
		d := verdict.Inconclusive
		if ok {
			d = verdict.Regressed
		}
		return verdict.Rerun{Scenario: "s", Operation: "overall", Metric: metric, Confirmed: ok, Decision: d, Change: ch, CILow: ch - 0.03, CIHigh: ch + 0.02}
	}
	tests := []struct {
		name string
		c    *verdict.Confirmation
		want string
	}{
		{"none", nil, ""},
		{"confirmed", &verdict.Confirmation{Pairs: 8, Comparisons: []verdict.Rerun{rerun("cpu_per_op", true, 0.1)}},
			"confirmed by a re-run of 8 pairs: cpu_per_op +10.0% [+7.0%, +12.0%]"},
		{"not confirmed", &verdict.Confirmation{Pairs: 8, Comparisons: []verdict.Rerun{rerun("cpu_per_op", false, 0.012)}},
			"not confirmed by a re-run of 8 pairs: cpu_per_op +1.2% [-1.8%, +3.2%]"},
		{"both", &verdict.Confirmation{Pairs: 9, Comparisons: []verdict.Rerun{rerun("p50", true, 0.1), rerun("cpu_per_op", false, 0)}},
			"confirmed by a re-run of 9 pairs: p50 +10.0% [+7.0%, +12.0%]; not confirmed: cpu_per_op +0.0% [-3.0%, +2.0%]"},
		{"sequential", &verdict.Confirmation{Pairs: 18, Sequential: &verdict.Sequential{Look: 2, Looks: []int{9, 18}}, Comparisons: []verdict.Rerun{rerun("cpu_per_op", true, 0.1)}},
			"confirmed by a re-run of 18 pairs (look 2 of 2): cpu_per_op +10.0% [+7.0%, +12.0%]"},
	}
	for _, tt := range tests {
		v := base()
		v.Confirmation = tt.c
		if got := Confirmed(v); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
		if tt.want == "" {
			continue
		}
		var buf bytes.Buffer
		if err := Text(&buf, summarize(v)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), tt.want+"\n") {
			t.Errorf("%s: text report lacks %q:\n%s", tt.name, tt.want, buf.String())
		}
		if md := Markdown(summarize(v), Options{}); !strings.Contains(md, Escape(tt.want)) {
			t.Errorf("%s: Markdown lacks %q:\n%s", tt.name, Escape(tt.want), md)
		}
	}
}
