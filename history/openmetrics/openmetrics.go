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
	"cmp"
	"io"
	"maps"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"

	"github.com/engram/m18-gate/history"
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

type sample struct {
	labels []*dto.LabelPair
	ms     int64
	v      float64
}

// Write writes docs as OpenMetrics: every family, every series in time
// order, and the final "# EOF".
func Write(w io.Writer, docs []*result.Document) error {
	fams := map[string][]sample{}
	add := func(name string, ms int64, v float64, kv ...string) {
		var ls []*dto.LabelPair
		for i := 0; i+1 < len(kv); i += 2 {
			ls = append(ls, &dto.LabelPair{Name: proto.String(kv[i]), Value: proto.String(kv[i+1])})
		}
		fams[name] = append(fams[name], sample{labels: ls, ms: ms, v: v})
	}
	for _, d := range docs {
		if d == nil || d.Run.Scenario == "" || d.Run.Start.IsZero() {
			continue
		}
		ms := d.Run.Start.UnixMilli()
		target := d.Run.Target
		if target == "" {
			target = "unknown"
		}
		base := []string{"scenario", d.Run.Scenario, "fingerprint", d.Run.Hardware.Hash, "target", target}
		add(MetricInfo, ms, 1, append(slices.Clone(base), "commit", d.Run.Commit, "ref", d.Run.Ref, "run_id", d.Run.RunID)...)
		for _, op := range operations(d) {
			lb := append(slices.Clone(base), "operation", op)
			for _, q := range quantiles {
				if v, ok := median(d, op, q.metric); ok {
					add(MetricLatency, ms, v/1000, append(slices.Clone(lb), "quantile", q.q)...)
				}
			}
			if v, ok := median(d, op, result.MetricThroughput); ok {
				add(MetricThroughput, ms, v, lb...)
			}
			if v, ok := median(d, op, result.MetricErrorRate); ok {
				add(MetricErrorRatio, ms, v, lb...)
			}
		}
	}
	help := map[string]string{
		MetricLatency:    "Latency quantile of a stored run (median over its repetitions), from the intended send time.",
		MetricThroughput: "Throughput of a stored run (median over its repetitions), operations per second.",
		MetricErrorRatio: "Error ratio of a stored run (median over its repetitions).",
		MetricInfo:       "One per stored run: its commit, ref and run id.",
	}
	units := map[string]string{MetricLatency: "seconds"}
	for _, name := range slices.Sorted(maps.Keys(fams)) {
		ss := fams[name]
		// Series together, each in time order.
		slices.SortStableFunc(ss, func(a, b sample) int {
			return cmp.Or(cmp.Compare(labelKey(a.labels), labelKey(b.labels)), cmp.Compare(a.ms, b.ms))
		})
		mf := &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help[name]), Type: dto.MetricType_GAUGE.Enum()}
		if u := units[name]; u != "" {
			mf.Unit = proto.String(u)
		}
		for i, s := range ss {
			if i > 0 && labelKey(ss[i-1].labels) == labelKey(s.labels) && ss[i-1].ms == s.ms {
				continue // two runs started in the same millisecond: keep one
			}
			mf.Metric = append(mf.Metric, &dto.Metric{Label: s.labels, Gauge: &dto.Gauge{Value: proto.Float64(s.v)}, TimestampMs: proto.Int64(s.ms)})
		}
		if _, err := expfmt.MetricFamilyToOpenMetrics(w, mf); err != nil {
			return err
		}
	}
	_, err := expfmt.FinalizeOpenMetrics(w)
	return err
}

func labelKey(ls []*dto.LabelPair) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.GetName() + "\x00" + l.GetValue() + "\x00")
	}
	return b.String()
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
	vals, err := history.Values(d, op, metric)
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
