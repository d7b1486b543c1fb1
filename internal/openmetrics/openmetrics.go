// Package openmetrics writes gauge families with a timestamp on every
// sample as OpenMetrics text — the input of a Prometheus backfill
// (promtool tsdb create-blocks-from openmetrics FILE DIR). It is the one
// writer behind m18-history export (stored runs) and the dashboard's
// change points, and leaves the format to prometheus/common's expfmt.
package openmetrics

import (
	"cmp"
	"io"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"
)

// Sample is one value of a series at a time.
type Sample struct {
	// Labels are name, value pairs.
	Labels []string
	Time   time.Time
	Value  float64
}

// Family is one metric: its name, help, unit ("" for none) and samples.
type Family struct {
	Name, Help, Unit string
	Samples          []Sample
}

// Write writes the families in name order, each series' samples together
// and in time order (two samples of a series at the same millisecond: the
// first is kept), and the final "# EOF".
func Write(w io.Writer, fams []Family) error {
	fams = slices.Clone(fams)
	slices.SortStableFunc(fams, func(a, b Family) int { return cmp.Compare(a.Name, b.Name) })
	for _, f := range fams {
		ss := slices.Clone(f.Samples)
		key := func(s Sample) string { return strings.Join(s.Labels, "\x00") }
		slices.SortStableFunc(ss, func(a, b Sample) int {
			return cmp.Or(cmp.Compare(key(a), key(b)), a.Time.Compare(b.Time))
		})
		mf := &dto.MetricFamily{Name: proto.String(f.Name), Help: proto.String(f.Help), Type: dto.MetricType_GAUGE.Enum()}
		if f.Unit != "" {
			mf.Unit = proto.String(f.Unit)
		}
		for i, s := range ss {
			ms := s.Time.UnixMilli()
			if i > 0 && key(ss[i-1]) == key(s) && ss[i-1].Time.UnixMilli() == ms {
				continue
			}
			var ls []*dto.LabelPair
			for j := 0; j+1 < len(s.Labels); j += 2 {
				ls = append(ls, &dto.LabelPair{Name: proto.String(s.Labels[j]), Value: proto.String(s.Labels[j+1])})
			}
			mf.Metric = append(mf.Metric, &dto.Metric{Label: ls, Gauge: &dto.Gauge{Value: proto.Float64(s.Value)}, TimestampMs: proto.Int64(ms)})
		}
		if len(mf.Metric) == 0 {
			continue
		}
		if _, err := expfmt.MetricFamilyToOpenMetrics(w, mf); err != nil {
			return err
		}
	}
	_, err := expfmt.FinalizeOpenMetrics(w)
	return err
}
