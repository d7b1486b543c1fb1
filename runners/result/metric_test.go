package result

import (
	"slices"
	"testing"
)

func TestDocumentValues(t *testing.T) {
	rep := func(store, overall float64) Repetition {
		return Repetition{
			Operations: map[string]OpStats{OpStore: {Count: 1, Latency: Latency{P99: store}}},
			Overall:    OpStats{Count: 2, Latency: Latency{P99: overall}},
		}
	}
	d := &Document{Repetitions: []Repetition{rep(1, 10), {Overall: OpStats{Count: 1, Latency: Latency{P99: 20}}}, rep(3, 30)}}
	for _, tc := range []struct {
		op   string
		want []float64
	}{
		{OpStore, []float64{1, 3}}, // the repetition without Store is skipped
		{OpOverall, []float64{10, 20, 30}},
		{"", []float64{10, 20, 30}},
		{OpRecall, nil},
	} {
		got, err := d.Values(tc.op, MetricP99)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Values(%q, p99) = %v, %v; want %v", tc.op, got, err, tc.want)
		}
	}
	if _, err := d.Values(OpStore, "p42"); err == nil {
		t.Errorf("an unknown metric gave no error")
	}
}
