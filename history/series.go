package history

import (
	"fmt"
)

// Point is one run of a series: when it ran, on which commit, and the
// metric's value in each repetition (one sample each).
type Point struct {
	Entry
	// CommitFull is Run.Commit as recorded (Entry.Commit is its first 12
	// digits); CommitTime is Run.CommitTime.
	CommitFull string
	CommitTime string
	// Values holds one value per repetition that ran the operation, in
	// repetition order.
	Values []float64
}

// Series returns every run of a scenario on a fingerprint, oldest first,
// loaded (Runs) — and, when op and metric are given, the metric's
// per-repetition values of that operation (result.OpOverall for all
// operations; metric names as result.Metrics). Runs that fail to decode
// are skipped and reported in the warnings; so is an unknown metric, once.
func (s *Snapshot) Series(scenario, fingerprint, op, metric string) ([]Point, []error) {
	entries, warns := s.List(Filter{Scenario: scenario, Fingerprint: fingerprint})
	runs, lw := s.LoadAll(entries)
	warns = append(warns, lw...)
	var out []Point
	for _, st := range runs {
		p := Point{Entry: st.Entry, CommitFull: st.Doc.Run.Commit}
		if !st.Doc.Run.CommitTime.IsZero() {
			p.CommitTime = st.Doc.Run.CommitTime.UTC().Format("2006-01-02T15:04:05Z")
		}
		if metric != "" {
			vals, err := st.Doc.Values(op, metric)
			if err != nil {
				return out, append(warns, fmt.Errorf("series: %w", err))
			}
			p.Values = vals
		}
		out = append(out, p)
	}
	return out, warns
}
