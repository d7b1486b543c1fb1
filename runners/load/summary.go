package load

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/engram/m18-gate/runners/result"
)

// WriteSummary writes a readable table of a document: the whole run per
// operation and overall (all repetitions merged), the generator's health
// per repetition, and the validation checks.
func WriteSummary(w io.Writer, d *result.Document) error {
	fmt.Fprintf(w, "scenario   %s (%s)\n", d.Run.Scenario, d.ConfigName)
	fmt.Fprintf(w, "target     %s (%s)\n", d.Run.Endpoint, d.Run.Target)
	c := d.Run.Config
	warmup := fmt.Sprintf("%.0fs warm-up", c.WarmupSeconds)
	if c.WarmupAuto {
		warmup = fmt.Sprintf("adaptive warm-up ≤ %.3gs", c.WarmupSeconds)
	}
	fmt.Fprintf(w, "load       %s %.0f ops/s, %d × (%s + %.0fs measured), seed %d\n",
		c.Arrival, c.Rate, c.Repetitions, warmup, c.DurationSeconds, d.Run.Seed)
	for _, r := range d.Repetitions {
		if r.Warmup != nil {
			fmt.Fprintf(w, "warm-up    repetition %d: %s\n", r.Index, r.Warmup.Note)
		}
	}
	if p := d.Preload; p != nil {
		fmt.Fprintf(w, "preload    %d nodes in %.1fs (%.0f/s), %d errors\n", p.Nodes, p.DurationSeconds, p.RatePerSecond, p.Errors)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tcount\terrors\tops/s\tp50 ms\tp95 ms\tp99 ms\tp99.9 ms\tmax ms\t")
	for _, op := range result.Operations {
		s, ok := d.PerOperationStats[op]
		if !ok {
			continue
		}
		thr := 0.0
		if d.ElapsedSeconds > 0 {
			thr = float64(s.Count) / d.ElapsedSeconds
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t\n", op, s.Count, s.ErrorCount, thr,
			s.P50LatencyUs/1000, s.P95LatencyUs/1000, s.P99LatencyUs/1000, s.P999LatencyUs/1000, s.MaxLatencyUs/1000)
	}
	// p99.9 and max of all requests: the merge of the repetitions' overall
	// histograms.
	all := NewHistogram()
	for _, r := range d.Repetitions {
		if h, err := DecodeHistogram(r.Overall.Histogram); err == nil {
			all.Merge(h)
		}
	}
	fmt.Fprintf(tw, "overall\t%d\t%d\t%.1f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t\n", d.TotalOperations, d.TotalErrors, d.OverallThroughput,
		d.P50LatencyMs, d.P95LatencyMs, d.P99LatencyMs, float64(all.ValueAtQuantile(99.9))/1000, float64(all.Max())/1000)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "latency is measured from the intended send time (open loop, coordinated-omission free)")
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "repetition\trequests\tops/s\tp50 ms\tp99 ms\terrors\tlate\tdropped\tlag p99 ms\tmax in flight\t")
	for _, r := range d.Repetitions {
		fmt.Fprintf(tw, "%d\t%d\t%.1f\t%.3f\t%.3f\t%.2f%%\t%d\t%d\t%.2f\t%d\t\n", r.Index, r.Overall.Count, r.Overall.Throughput,
			r.Overall.Latency.P50, r.Overall.Latency.P99, 100*r.Overall.ErrorRate, r.Generator.Late, r.Generator.Dropped, r.Generator.P99LagMs, r.Generator.MaxInFlightSeen)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if v := d.Validation; v != nil && len(v.Checks) > 0 {
		fmt.Fprintln(w)
		verdict := "passed"
		if !v.Passed {
			verdict = "FAILED"
		}
		fmt.Fprintf(w, "validation %s\n", verdict)
		for _, c := range v.Checks {
			fmt.Fprintf(w, "  %s\n", c.Message)
		}
	}
	return nil
}
