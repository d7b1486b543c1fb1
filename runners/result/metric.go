package result

import "fmt"

// Metric names that a repetition yields one value of per operation.
const (
	MetricP50        = "p50"
	MetricP95        = "p95"
	MetricP99        = "p99"
	MetricP999       = "p99.9"
	MetricMean       = "mean"
	MetricThroughput = "throughput"
	MetricErrorRate  = "error_rate"
)

// Metrics of the target's cost per request (Repetition.Target), on the
// "overall" operation: CPU milliseconds and instructions per request.
const (
	MetricCPUPerOp          = "cpu_per_op"
	MetricInstructionsPerOp = "instructions_per_op"
)

// Metrics lists the metric names in their canonical order.
var Metrics = []string{MetricP50, MetricP95, MetricP99, MetricP999, MetricMean, MetricThroughput, MetricErrorRate}

// Metric returns the value of the named metric: latencies in milliseconds
// (from the intended send time), throughput in operations per second, error
// rate as a fraction.
func (s OpStats) Metric(name string) (float64, error) {
	switch name {
	case MetricP50:
		return s.Latency.P50, nil
	case MetricP95:
		return s.Latency.P95, nil
	case MetricP99:
		return s.Latency.P99, nil
	case MetricP999:
		return s.Latency.P999, nil
	case MetricMean:
		return s.Latency.Mean, nil
	case MetricThroughput:
		return s.Throughput, nil
	case MetricErrorRate:
		return s.ErrorRate, nil
	}
	return 0, fmt.Errorf("unknown metric %q (known: %v)", name, Metrics)
}

// Stats returns the figures of the named operation in r, OpOverall for the
// merge of all operations. ok is false when the operation did not run.
func (r Repetition) Stats(op string) (s OpStats, ok bool) {
	if op == OpOverall {
		return r.Overall, r.Overall.Count > 0
	}
	s, ok = r.Operations[op]
	return s, ok && s.Count > 0
}

// Values returns the named metric of operation op (OpOverall for the merge
// of all operations; OpOverall when empty) from every repetition that ran
// it, in repetition order: the samples the statistics compare.
func (d *Document) Values(op, metric string) ([]float64, error) {
	if op == "" {
		op = OpOverall
	}
	var out []float64
	for _, r := range d.Repetitions {
		st, ok := r.Stats(op)
		if !ok {
			continue
		}
		v, err := st.Metric(metric)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
