package render

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/engram/m18-gate/gate/verdict"
)

// Options shape a Markdown rendering.
type Options struct {
	// MaxBytes bounds the body (0: no bound). GitHub counts characters, and
	// a character is at least one byte, so a byte bound is safe: 65535 for a
	// check run's summary, 65536 for a comment, 1 MiB for a job summary. When
	// the body does not fit, tables are cut at a row, later sections are
	// dropped, and a note points at the full verdict artifact; the answer,
	// hardware, links and marker always stay.
	MaxBytes int
	// Marker, when set, is embedded at the end as a hidden HTML comment
	// (see HiddenComment) so the body can be found again.
	Marker string
	// Title, when set, is shown in bold before the status word, e.g.
	// "m18-gate · pr-gate". It is escaped.
	Title string
	// ArtifactName names the artifact that holds the full verdict, for the
	// truncation note; default "m18-verdict".
	ArtifactName string
	// Extra is trusted Markdown placed before the footer (for example the
	// reporter's own problems). The caller escapes what it puts there.
	Extra string
}

// DefaultArtifactName is the artifact the action uploads the verdict to.
const DefaultArtifactName = "m18-verdict"

// block is one section of the body: prefix, items and suffix. A block that
// does not fit is cut between items, with more(n) saying how many were left
// out.
type block struct {
	prefix string
	items  []string
	suffix string
	more   func(n int) string
}

func (b block) String() string {
	return b.prefix + strings.Join(b.items, "") + b.suffix
}

// Markdown renders v for a pull-request comment, a check run or a job
// summary: first line the answer with an emoji-free status word; one row
// per scenario with the comparison that decided it and the geometric mean
// of its time changes (owners from the config mentioned on regressions);
// once, what would settle the inconclusive comparisons; the skipped checks
// with their reasons; every comparison and its details collapsed below;
// warnings; hardware fingerprint and MDE; links; and the marker. Every
// string from the verdict passes through Escape.
func Markdown(v *verdict.Verdict, o Options) string {
	head := headBlock(v, o)
	tail := tailBlock(v, o)
	middle := middleBlocks(v, o)
	full := head + joinBlocks(middle) + o.Extra + tail
	if o.MaxBytes <= 0 || len(full) <= o.MaxBytes {
		return full
	}
	artifact := o.ArtifactName
	if artifact == "" {
		artifact = DefaultArtifactName
	}
	notice := "> **Truncated** to fit GitHub's size limit: the full verdict is in the " +
		link("`"+Escape(artifact)+"` artifact", v.Links.Artifact) + ".\n\n"
	budget := o.MaxBytes - len(head) - len(notice) - len(tail) - len(o.Extra)
	if budget < 0 {
		// Not even the frame fits: the answer, the note and the marker.
		s := head + notice
		if o.Marker != "" {
			return cutBytes(s, o.MaxBytes-len(HiddenComment(o.Marker))-1) + "\n" + HiddenComment(o.Marker)
		}
		return cutBytes(s, o.MaxBytes)
	}
	var b strings.Builder
	for _, m := range middle {
		s := m.String()
		if len(s) <= budget {
			b.WriteString(s)
			budget -= len(s)
			continue
		}
		// Cut this block between items, then stop: later sections would read
		// as if this one were complete.
		size := len(m.prefix) + len(m.suffix)
		n := 0
		for n < len(m.items) && size+len(m.items[n])+len(m.more(len(m.items)-n-1)) <= budget {
			size += len(m.items[n])
			n++
		}
		if cut := m.prefix + strings.Join(m.items[:n], "") + m.more(len(m.items)-n) + m.suffix; len(cut) <= budget {
			b.WriteString(cut)
		}
		break
	}
	return head + notice + b.String() + o.Extra + tail
}

// cutBytes cuts s to at most n bytes at a rune boundary.
func cutBytes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func joinBlocks(bs []block) string {
	var b strings.Builder
	for _, x := range bs {
		b.WriteString(x.String())
	}
	return b.String()
}

func headBlock(v *verdict.Verdict, o Options) string {
	var b strings.Builder
	if o.Title != "" {
		b.WriteString("**" + Escape(o.Title) + "** · ")
	}
	b.WriteString("**" + Status(v) + "**: " + Escape(Answer(v)) + "\n\n")
	if len(v.Summary.DecidedBy) > 0 {
		b.WriteString("Decided by: " + Escape(strings.Join(v.Summary.DecidedBy, ", ")) + "\n\n")
	}
	var ctx []string
	if v.Base.Commit != "" || v.Head.Commit != "" {
		ctx = append(ctx, "base "+side(v.Base)+" → head "+side(v.Head))
	}
	if v.Alpha > 0 {
		ctx = append(ctx, "α = "+trim(strconv.FormatFloat(v.Alpha, 'f', 4, 64))+" after Benjamini–Hochberg")
	}
	if v.Threshold > 0 {
		t := "threshold " + Percent(v.Threshold)
		if v.Competitive && v.CompetitiveThreshold > 0 {
			t += " (competitive " + Percent(v.CompetitiveThreshold) + ")"
		}
		ctx = append(ctx, t)
	}
	if l := Look(v); l != "" {
		ctx = append(ctx, "sequential: "+Escape(l))
	}
	if c := Confirmed(v); c != "" {
		ctx = append(ctx, Escape(c))
	}
	if len(ctx) > 0 {
		b.WriteString(strings.Join(ctx, " · ") + "\n\n")
	}
	return b.String()
}

func side(s verdict.Side) string {
	name := Escape(shortSHA(s.Commit))
	if s.Ref != "" {
		if name != "" {
			return name + " (" + Escape(s.Ref) + ")"
		}
		return Escape(s.Ref)
	}
	if name == "" {
		return "?"
	}
	return name
}

const tableHeader = "| scenario | operation | metric | base | head | change | CI | p | decision |\n" +
	"|---|---|---|--:|--:|--:|--:|--:|---|\n"

// tableRow renders one comparison; a regression links to its chart on the
// dashboard when the verdict has a dashboard link (chart, from ChartURL).
func tableRow(c verdict.Comparison, chart string) string {
	d := decisionWord(c)
	if c.Decision == verdict.Regressed {
		d = "**" + link(d, chart) + "**"
	}
	return "| " + strings.Join([]string{
		Escape(c.Scenario), Escape(c.Operation), Escape(c.Metric),
		Escape(Value(c.BaseMedian, c.Unit)), Escape(Value(c.HeadMedian, c.Unit)),
		ChangeOf(c), CIOf(c), P(c.PAdjusted), d,
	}, " | ") + " |\n"
}

const criteriaHeader = "| task | criterion | measured | limit | result | detail |\n" +
	"|---|---|--:|--:|---|---|\n"

func criterionRow(c verdict.Criterion) string {
	res := "met"
	if !c.Passed {
		res = "**failed**"
	}
	return "| " + strings.Join([]string{
		Escape(c.Task), Escape(c.Name), Number(c.Measured), Number(c.Limit), res, Escape(criterionDetail(c)),
	}, " | ") + " |\n"
}

// criterionDetail is a check's message without the name and verdict it
// starts with ("NAME FAILED: measured …" → "measured …").
func criterionDetail(c verdict.Criterion) string {
	if rest, ok := strings.CutPrefix(c.Message, c.Name+" "); ok {
		if _, detail, ok := strings.Cut(rest, ": "); ok {
			return detail
		}
	}
	return c.Message
}

func moreRows(n int) string {
	return "\n_… " + plural(n, "more row", "more rows") + " not shown._\n"
}

func moreItems(n int) string {
	return "- _… " + strconv.Itoa(n) + " more not shown._\n"
}

func compName(c verdict.Comparison) string {
	return Escape(c.Scenario) + " · " + Escape(c.Operation) + " · " + Escape(c.Metric)
}

const scenarioHeader = "| scenario | decision | decided by | change | CI | geomean of timings |\n" +
	"|---|---|---|--:|--:|--:|\n"

// scenarioRow is one scenario's line: its decision (owners mentioned on a
// regression), the comparison that decided it, and the geometric mean of
// its time changes.
func scenarioRow(r ScenarioRow, chart string) string {
	c := r.By
	d := decisionWord(c)
	if c.Decision == verdict.Regressed {
		d = "**" + link(d, chart) + "**"
		if len(r.Owners) > 0 {
			d += " · " + strings.Join(r.Owners, " ")
		}
	}
	g := Geomean(r.Geomean)
	if r.GeomeanOf > 0 {
		g += " (" + plural(r.GeomeanOf, "timing", "timings") + ")"
	}
	return "| " + strings.Join([]string{
		Escape(r.Scenario), d, Escape(c.Operation) + " · " + Escape(c.Metric), ChangeOf(c), CIOf(c), g,
	}, " | ") + " |\n"
}

// regressedChart is the dashboard chart of c when c regressed (the link a
// reader follows to the root cause), else "".
func regressedChart(v *verdict.Verdict, c verdict.Comparison) string {
	if c.Decision != verdict.Regressed {
		return ""
	}
	return ChartURL(v.Links.Dashboard, v.Head.Fingerprint, c)
}

func middleBlocks(v *verdict.Verdict, o Options) []block {
	cs := Sorted(v)
	var out []block

	if len(v.Criteria) > 0 {
		bl := block{prefix: criteriaHeader, suffix: "\n", more: moreRows}
		for _, c := range SortedCriteria(v) {
			bl.items = append(bl.items, criterionRow(c))
		}
		out = append(out, bl)
	}

	if rows := Rollup(v); len(rows) > 0 {
		bl := block{prefix: scenarioHeader, suffix: "\n", more: moreRows}
		for _, r := range rows {
			bl.items = append(bl.items, scenarioRow(r, regressedChart(v, r.By)))
		}
		out = append(out, bl)
	}

	if s := Settle(v); s != "" {
		out = append(out, block{prefix: "**Inconclusive**: " + s + ".\n\n"})
	}

	if len(v.Skipped) > 0 {
		bl := block{
			prefix: "<details><summary>" + plural(len(v.Skipped), "skipped check", "skipped checks") + "</summary>\n\n",
			suffix: "\n</details>\n\n",
			more:   moreItems,
		}
		for _, s := range v.Skipped {
			bl.items = append(bl.items, "- "+skipName(s, Escape, " · ")+": "+Escape(s.Reason)+"\n")
		}
		out = append(out, bl)
	}

	if len(cs) > 0 {
		summary := "The comparison"
		if len(cs) > 1 {
			summary = "All " + strconv.Itoa(len(cs)) + " comparisons"
		}
		bl := block{
			prefix: "<details><summary>" + summary + "</summary>\n\n" + tableHeader,
			suffix: "\n</details>\n\n",
			more:   moreRows,
		}
		for _, c := range cs {
			bl.items = append(bl.items, tableRow(c, regressedChart(v, c)))
		}
		out = append(out, bl)
	}

	if len(cs) > 0 {
		bl := block{
			prefix: "<details><summary>Details of every comparison</summary>\n\n" +
				"| scenario | operation | metric | n base/head | threshold | MDE | HL estimate | reason |\n" +
				"|---|---|---|--:|--:|--:|--:|---|\n",
			suffix: "\n</details>\n\n",
			more:   moreRows,
		}
		for _, c := range cs {
			mde := "—"
			if c.MDE != nil && !math.IsNaN(*c.MDE) {
				mde = Percent(*c.MDE)
			}
			th := Percent(c.Threshold)
			if c.Threshold == 0 {
				th = "—"
			}
			bl.items = append(bl.items, "| "+strings.Join([]string{
				Escape(c.Scenario), Escape(c.Operation), Escape(c.Metric),
				fmt.Sprintf("%d/%d", c.NBase, c.NHead), th, mde,
				Escape(Value(c.HodgesLehmann, c.Unit)), Escape(c.Reason),
			}, " | ")+" |\n")
		}
		out = append(out, bl)
	}

	if len(v.Warnings) > 0 {
		bl := block{prefix: "**Warnings**\n\n", suffix: "\n", more: moreItems}
		for _, w := range v.Warnings {
			bl.items = append(bl.items, "- "+Escape(w)+"\n")
		}
		out = append(out, bl)
	}
	return out
}

func tailBlock(v *verdict.Verdict, o Options) string {
	var b strings.Builder
	if hw := hardware(v); hw != "" {
		b.WriteString(hw + "\n\n")
	}
	if m := mdeRange(v); m != "" {
		b.WriteString(m + "\n\n")
	}
	var links []string
	for _, l := range []struct{ label, url string }{
		{"Workflow run", v.Links.Run},
		{"Dashboard", v.Links.Dashboard},
		{"Full verdict", v.Links.Artifact},
	} {
		if SafeURL(l.url) != "" {
			links = append(links, link(l.label, l.url))
		}
	}
	if len(links) > 0 {
		b.WriteString(strings.Join(links, " · ") + "\n\n")
	}
	foot := "m18-gate"
	if v.ToolVersion != "" {
		foot += " " + Escape(v.ToolVersion)
	}
	if !v.CreatedAt.IsZero() {
		foot += " · " + v.CreatedAt.UTC().Format("2006-01-02 15:04:05Z")
	}
	b.WriteString("<sub>" + foot + "</sub>\n")
	if o.Marker != "" {
		b.WriteString(HiddenComment(o.Marker) + "\n")
	}
	return b.String()
}

func hardware(v *verdict.Verdict) string {
	desc := func(s verdict.Side) string {
		var parts []string
		if s.Fingerprint != "" {
			parts = append(parts, "fingerprint "+Escape(s.Fingerprint))
		}
		if s.Hardware != "" {
			parts = append(parts, Escape(s.Hardware))
		}
		return strings.Join(parts, ", ")
	}
	b, h := desc(v.Base), desc(v.Head)
	switch {
	case b == "" && h == "":
		return ""
	case b == h, b == "" && len(v.Comparisons) == 0:
		return "**Hardware**: " + h // one side (task criteria only)
	}
	return "**Hardware**: base " + cmp.Or(b, "unknown") + "; head " + cmp.Or(h, "unknown")
}

// mdeRange states the smallest and largest minimum detectable effect among
// the comparisons that carry one.
func mdeRange(v *verdict.Verdict) string {
	lo, hi, n := math.Inf(1), math.Inf(-1), 0
	for _, c := range v.Comparisons {
		if c.MDE == nil || math.IsNaN(*c.MDE) {
			continue
		}
		lo, hi, n = min(lo, *c.MDE), max(hi, *c.MDE), n+1
	}
	switch {
	case n == 0:
		return ""
	case Percent(lo) == Percent(hi):
		return "**Minimum detectable effect** at these run counts: " + Percent(lo) + "."
	}
	return "**Minimum detectable effect** at these run counts: " + Percent(lo) + " to " + Percent(hi) +
		" (per comparison under Details)."
}
