package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/engram/m18-gate/gate/verdict"
)

// VersusText writes the competitive part of a verdict as a plain table:
// one line per position, then the milestone targets.
func VersusText(w io.Writer, c *verdict.Competitive) error {
	if c == nil {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "position against %s (%s)\n", Plain(c.Competitor), Plain(c.Method))
	fmt.Fprintf(&b, "%-32s %-18s %-10s %10s %10s %8s %18s %10s %9s  %s\n", "scenario", "operation", "metric", "engram", "versus", "ratio", "interval", "baseline", "change", "decision")
	for _, p := range c.Positions {
		base, change, dec := "-", "-", "-"
		if p.BaselineRatio != nil {
			base = fmt.Sprintf("%.3g", *p.BaselineRatio)
			change = Change(*p.Change)
			dec = p.Decision
		}
		fmt.Fprintf(&b, "%-32s %-18s %-10s %10.4g %10.4g %8.3g %18s %10s %9s  %s\n", cell(p.Scenario), cell(p.Operation), cell(p.Metric),
			p.EngramMedian, p.VersusMedian, p.Ratio, fmt.Sprintf("[%.3g, %.3g]", p.RatioLow, p.RatioHigh), base, change, dec)
	}
	for _, p := range c.Positions {
		if p.Decision == verdict.Regressed || p.Decision == verdict.Inconclusive {
			fmt.Fprintf(&b, "  %s %s %s: %s\n", cell(p.Scenario), cell(p.Operation), cell(p.Metric), Plain(p.Reason))
		}
	}
	for _, t := range c.Targets {
		fmt.Fprintf(&b, "  %s %s\n", cell(t.Scenario), Plain(t.Reason))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// VersusMarkdown is the competitive part as a Markdown section.
func VersusMarkdown(c *verdict.Competitive) string {
	if c == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n#### Position against %s\n\n", Escape(c.Competitor))
	b.WriteString("| scenario | operation | metric | Engram | competitor | ratio | interval | change since baseline | decision |\n|---|---|---|---:|---:|---:|---|---:|---|\n")
	for _, p := range c.Positions {
		change, dec := "–", "–"
		if p.Change != nil {
			change, dec = Change(*p.Change), p.Decision
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %.4g | %.4g | %.3g | [%.3g, %.3g] | %s | %s |\n", Escape(p.Scenario), Escape(p.Operation), Escape(p.Metric),
			p.EngramMedian, p.VersusMedian, p.Ratio, p.RatioLow, p.RatioHigh, change, dec)
	}
	for _, t := range c.Targets {
		fmt.Fprintf(&b, "\n- %s %s", Escape(t.Scenario), Escape(t.Reason))
	}
	return b.String()
}
