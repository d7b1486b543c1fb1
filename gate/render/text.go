package render

import (
	"bufio"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/engram/m18-gate/gate/verdict"
)

// Text writes v as a benchstat-like aligned table for a terminal: one row per
// comparison (scenario, operation, metric, base, head, change, CI, p,
// decision), regressions first; then the skipped checks with their reasons,
// once what would settle the inconclusive comparisons, the verdict's
// warnings, and last the answer line. Untrusted strings pass
// through Plain, so a name cannot carry terminal escape sequences.
func Text(w io.Writer, v *verdict.Verdict) error {
	bw := bufio.NewWriter(w)
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	cs := Sorted(v)
	if len(cs) > 0 {
		io.WriteString(tw, "scenario\toperation\tmetric\tbase\thead\tchange\tCI\tp\tdecision\n")
		for _, c := range cs {
			row := []string{
				cell(c.Scenario), cell(c.Operation), cell(c.Metric),
				Value(c.BaseMedian, c.Unit), Value(c.HeadMedian, c.Unit),
				ChangeOf(c), CIOf(c), P(c.PAdjusted), decisionWord(c),
			}
			for i, s := range row {
				io.WriteString(tw, s)
				if i < len(row)-1 {
					io.WriteString(tw, "\t")
				}
			}
			io.WriteString(tw, "\n")
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		io.WriteString(bw, "\n")
	}
	if len(v.Criteria) > 0 {
		io.WriteString(tw, "task\tcriterion\tmeasured\tlimit\tresult\n")
		for _, c := range SortedCriteria(v) {
			res := "met"
			if !c.Passed {
				res = "FAILED"
			}
			io.WriteString(tw, cell(c.Task)+"\t"+cell(c.Name)+"\t"+Number(c.Measured)+"\t"+Number(c.Limit)+"\t"+res+"\n")
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		io.WriteString(bw, "\n")
	}
	if len(v.Skipped) > 0 {
		io.WriteString(bw, "skipped:\n")
		for _, s := range v.Skipped {
			io.WriteString(bw, "  "+skipName(s, Plain, " ")+": "+clip(Plain(s.Reason), 4*MaxNameRunes)+"\n")
		}
		io.WriteString(bw, "\n")
	}
	if s := Settle(v); s != "" {
		io.WriteString(bw, "inconclusive: "+s+"\n")
	}
	for _, s := range v.Warnings {
		io.WriteString(bw, "warning: "+clip(Plain(s), 4*MaxNameRunes)+"\n")
	}
	if len(v.Summary.DecidedBy) > 0 {
		io.WriteString(bw, "decided by: "+clip(Plain(strings.Join(v.Summary.DecidedBy, ", ")), 4*MaxNameRunes)+"\n")
	}
	if l := Look(v); l != "" {
		io.WriteString(bw, "sequential: "+l+"\n")
	}
	if c := Confirmed(v); c != "" {
		io.WriteString(bw, c+"\n")
	}
	io.WriteString(bw, Headline(v)+"\n")
	return bw.Flush()
}

// cell is a plain, clipped, non-empty table cell (tabs would break columns;
// Plain turns them into spaces).
func cell(s string) string {
	s = clip(Plain(s), MaxNameRunes)
	if s == "" {
		return "-"
	}
	return s
}

// skipName joins the parts of a skip's name that are set, each passed through
// esc, with sep between them.
func skipName(s verdict.Skip, esc func(string) string, sep string) string {
	name := esc(s.Scenario)
	if s.Operation != "" {
		name += sep + esc(s.Operation)
	}
	if s.Metric != "" {
		name += sep + esc(s.Metric)
	}
	if name == "" {
		name = "(unnamed)"
	}
	return name
}
