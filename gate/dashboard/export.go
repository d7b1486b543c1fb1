package dashboard

import (
	"bytes"

	om "github.com/engram/m18-gate/internal/openmetrics"
)

// MetricChangePoint names the change points in the OpenMetrics export (and
// the Grafana dashboard's annotations).
const MetricChangePoint = "m18_change_point"

// ChangePointsFile is the site's OpenMetrics file of every change point,
// for a Prometheus backfill beside m18-history export --openmetrics.
const ChangePointsFile = "changepoints.om"

// ChangePoints returns every change point of every trend chart as
// OpenMetrics text: one sample at the first run of the new segment, its
// value the relative change of the segment means (0.4 is 40 % higher),
// labelled with the series and the run's commit.
func (s *Site) ChangePoints() ([]byte, error) {
	f := om.Family{Name: MetricChangePoint,
		Help: "A change point E-divisive found in a stored series: the relative change of the segment means, at the first run after it."}
	for _, g := range s.Groups {
		for _, c := range g.Charts {
			for _, cp := range c.Changes {
				if cp.Index <= 0 || cp.Index >= len(c.Points) {
					continue
				}
				p := c.Points[cp.Index]
				f.Samples = append(f.Samples, om.Sample{Labels: []string{
					"scenario", c.Scenario, "fingerprint", c.Fingerprint, "operation", c.Operation, "metric", c.Metric,
					"commit", p.Commit, "direction", direction(c, cp.Change)}, Time: p.Time, Value: cp.Change})
			}
		}
	}
	var b bytes.Buffer
	err := om.Write(&b, []om.Family{f})
	return b.Bytes(), err
}

func direction(c *Chart, rel float64) string {
	if c.worse(rel) {
		return "worse"
	}
	return "better"
}
