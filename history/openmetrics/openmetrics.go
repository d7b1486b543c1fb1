// Package openmetrics writes stored runs as OpenMetrics text with a
// timestamp on every sample, for backfilling Prometheus
// (promtool tsdb create-blocks-from openmetrics FILE DIR) so that the history
// of the results branch and the live metrics of m18-run sit in one place.
//
// One sample per run and series, at the run's start: the median over the
// run's repetitions, as the gate compares them. Labels are the series'
// identity (scenario, hardware fingerprint, target, operation, quantile);
// the commit of each run goes into its own info series (m18_run_info), so a
// commit does not start a new latency series.
package openmetrics

import (
	"io"
	"maps"
	"slices"

	om "github.com/engram/m18-gate/internal/openmetrics"
	"github.com/engram/m18-gate/runners/result"
)

// Metric names, for dashboards and alert rules.
const (
	MetricLatency    = "m18_run_latency_seconds"
	MetricThroughput = "m18_run_throughput_ops"
	MetricErrorRatio = "m18_run_error_ratio"
	MetricInfo       = "m18_run_info"
)

// quantiles maps the result document's latency metrics to the quantile
// label.
var quantiles = []struct{ metric, q string }{
	{result.MetricP50, "0.5"}, {result.MetricP95, "0.95"}, {result.MetricP99, "0.99"}, {result.MetricP999, "0.999"},
}

// Write writes docs as OpenMetrics: every family, every series in time
// order, and the final "# EOF".
func Write(w io.Writer, docs []*result.Document) error {
	lat := om.Family{Name: MetricLatency, Unit: "seconds",
		Help: "Latency quantile of a stored run (median over its repetitions), from the intended send time."}
	thr := om.Family{Name: MetricThroughput, Help: "Throughput of a stored run (median over its repetitions), operations per second."}
	errs := om.Family{Name: MetricErrorRatio, Help: "Error ratio of a stored run (median over its repetitions)."}
	info := om.Family{Name: MetricInfo, Help: "One per stored run: its commit, ref and run id."}
	for _, d := range docs {
		if d == nil || d.Run.Scenario == "" || d.Run.Start.IsZero() {
			continue
		}
		at := d.Run.Start
		target := d.Run.Target
		if target == "" {
			target = "unknown"
		}
		base := []string{"scenario", d.Run.Scenario, "fingerprint", d.Run.Hardware.Hash, "target", target}
		info.Samples = append(info.Samples, om.Sample{Labels: append(slices.Clone(base), "commit", d.Run.Commit, "ref", d.Run.Ref, "run_id", d.Run.RunID), Time: at, Value: 1})
		for _, op := range operations(d) {
			lb := append(slices.Clone(base), "operation", op)
			for _, q := range quantiles {
				if v, ok := median(d, op, q.metric); ok {
					lat.Samples = append(lat.Samples, om.Sample{Labels: append(slices.Clone(lb), "quantile", q.q), Time: at, Value: v / 1000})
				}
			}
			if v, ok := median(d, op, result.MetricThroughput); ok {
				thr.Samples = append(thr.Samples, om.Sample{Labels: lb, Time: at, Value: v})
			}
			if v, ok := median(d, op, result.MetricErrorRate); ok {
				errs.Samples = append(errs.Samples, om.Sample{Labels: lb, Time: at, Value: v})
			}
		}
	}
	return om.Write(w, []om.Family{lat, thr, errs, info})
}

// operations lists the operations a document measured, "overall" first.
func operations(d *result.Document) []string {
	ops := map[string]bool{}
	for _, r := range d.Repetitions {
		for op, st := range r.Operations {
			if st.Count > 0 {
				ops[op] = true
			}
		}
	}
	return append([]string{result.OpOverall}, slices.Sorted(maps.Keys(ops))...)
}

// median is the median over the repetitions of one metric of one operation.
func median(d *result.Document, op, metric string) (float64, bool) {
	vals, err := d.Values(op, metric)
	if err != nil || len(vals) == 0 {
		return 0, false
	}
	slices.Sort(vals)
	n := len(vals)
	if n%2 == 1 {
		return vals[n/2], true
	}
	return vals[n/2-1]/2 + vals[n/2]/2, true
}
