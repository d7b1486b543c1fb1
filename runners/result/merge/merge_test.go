package merge

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/engram/m18-gate/runners/result"
)

var startAt = time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)

func encode(t *testing.T, h *hdr.Histogram) string {
	t.Helper()
	s, err := result.EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// shardDoc is shard i/n's document of one repetition whose Search
// latencies are lat (µs): value j in window j mod 3 (one-second windows).
func shardDoc(t *testing.T, i, n int, lat []int64) *result.Document {
	t.Helper()
	h := result.NewHistogram()
	wins := make([]result.Window, 3)
	whs := make([]*hdr.Histogram, 3)
	for w := range wins {
		wins[w] = result.Window{StartSeconds: float64(w), EndSeconds: float64(w + 1)}
		whs[w] = result.NewWindowHistogram()
	}
	for j, v := range lat {
		_ = h.RecordValue(v)
		wins[j%3].Count++
		_ = whs[j%3].RecordValue(v)
	}
	for w := range wins {
		wins[w].Histogram = encode(t, whs[w])
	}
	n64 := uint64(len(lat))
	gen := result.Generator{Scheduled: n64, Sent: n64, MeanLagMs: 1, P99LagMs: float64(i + 2), MaxLagMs: 3}
	st := result.OpStats{Count: n64, Success: n64, Throughput: float64(n64) / 3, Latency: result.LatencyOf(h),
		Histogram: encode(t, h), ServiceHistogram: encode(t, h)}
	return &result.Document{
		Schema: result.SchemaVersion,
		Run: result.Run{Scenario: "ci/x", ScenarioSHA256: "ab", Seed: 7, RunID: "r" + string(rune('0'+i)),
			Start: startAt, End: startAt.Add(4 * time.Second),
			Config: result.RunConfig{Rate: 100, Repetitions: 1, DurationSeconds: 3},
			Sharding: &result.Sharding{Count: n, StartAt: startAt, Shards: []result.Shard{{Index: i,
				Generators: []result.Generator{gen}}}}},
		Repetitions: []result.Repetition{{Index: 1, Start: startAt, End: startAt.Add(3 * time.Second), DurationSeconds: 3,
			Operations: map[string]result.OpStats{result.OpSearch: st}, Overall: st, Windows: wins,
			Generator: gen}},
		TotalOperations: n64, OverallThroughput: float64(n64) / 3, ElapsedSeconds: 3,
		Validation: &result.Validation{Passed: true, Checks: []result.Check{{Name: "throughput_ops_sec", Expected: 50}}},
	}
}

// values draws n latencies (µs) from a lognormal around m µs.
func values(r *rand.Rand, n int, m float64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(m * (1 + r.ExpFloat64()*r.ExpFloat64()))
	}
	return out
}

// The merge's percentiles are those of one histogram of every value of
// every shard, its counts and rates the sums, its windows merged window
// by window; nothing is averaged.
func TestMergeIsTheHistogramOfAllValues(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// Shards of very different latency, so that averaging percentiles
	// would be far off.
	lats := [][]int64{values(r, 3000, 200), values(r, 1000, 5000), values(r, 2000, 900)}
	var docs []*result.Document
	ref := result.NewHistogram()
	refWin := []*hdr.Histogram{result.NewWindowHistogram(), result.NewWindowHistogram(), result.NewWindowHistogram()}
	for i, l := range lats {
		docs = append(docs, shardDoc(t, i, 3, l))
		for j, v := range l {
			_ = ref.RecordValue(v)
			_ = refWin[j%3].RecordValue(v)
		}
	}
	// Given out of order: the merge orders shards by index.
	m, err := Shards([]string{"c", "a", "b"}, []*result.Document{docs[2], docs[0], docs[1]})
	if err != nil {
		t.Fatal(err)
	}
	rep := m.Repetitions[0]
	want := result.LatencyOf(ref)
	if rep.Overall.Latency != want || rep.Operations[result.OpSearch].Latency != want {
		t.Errorf("merged latency %+v, want %+v (the histogram of all values)", rep.Overall.Latency, want)
	}
	if rep.Overall.Count != 6000 || m.TotalOperations != 6000 || rep.Generator.Sent != 6000 {
		t.Errorf("counts %d/%d/%d, want 6000", rep.Overall.Count, m.TotalOperations, rep.Generator.Sent)
	}
	if got := rep.Overall.Throughput; got != 2000 || m.OverallThroughput != 2000 {
		t.Errorf("throughput %g (top level %g), want the sum 2000", got, m.OverallThroughput)
	}
	if m.P99LatencyMs != want.P99 {
		t.Errorf("top-level p99 %g, want %g", m.P99LatencyMs, want.P99)
	}
	if len(rep.Windows) != 3 {
		t.Fatalf("%d windows, want 3", len(rep.Windows))
	}
	for w, win := range rep.Windows {
		if win.StartSeconds != float64(w) || win.Count != uint64(refWin[w].TotalCount()) || win.P99 != result.LatencyOf(refWin[w]).P99 {
			t.Errorf("window %d: %+v, want start %d, count %d, p99 %g", w, win, w, refWin[w].TotalCount(), result.LatencyOf(refWin[w]).P99)
		}
	}
	sh := m.Run.Sharding
	if len(sh.Shards) != 3 || sh.Shards[0].Index != 0 || sh.Shards[2].Index != 2 || len(sh.Problems) != 0 {
		t.Fatalf("sharding %+v, want the three shards by index and no problems", sh)
	}
	// Every shard's generator health is kept beside the summed one.
	for i, s := range sh.Shards {
		if len(s.Generators) != 1 || s.Generators[0].P99LagMs != float64(i+2) || s.Generators[0].Sent != uint64(len(lats[i])) {
			t.Errorf("shard %d generators %+v, want its own (p99 lag %d ms, %d sent)", i, s.Generators, i+2, len(lats[i]))
		}
	}
	if g := rep.Generator; g.Scheduled != 6000 || g.P99LagMs != 4 {
		t.Errorf("merged generator %+v, want 6000 scheduled and the largest shard p99 lag, 4 ms", g)
	}
	if v := m.Validation; v == nil || !v.Passed || v.Checks[0].Measured != 2000 {
		t.Errorf("validation %+v, want the throughput check re-run on the merge (2000 ≥ 50)", v)
	}
}

func TestMergeReportsProblems(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	three := func() []*result.Document {
		return []*result.Document{shardDoc(t, 0, 3, values(r, 100, 300)), shardDoc(t, 1, 3, values(r, 100, 300)), shardDoc(t, 2, 3, values(r, 100, 300))}
	}
	names := []string{"s0.json", "s1.json", "s2.json"}
	for _, tc := range []struct {
		name  string
		edit  func([]*result.Document) []*result.Document
		want  error
		words []string
	}{
		{"missing", func(d []*result.Document) []*result.Document { return d[:2] }, ErrIncomplete, []string{"shard 2/3 missing"}},
		{"given twice", func(d []*result.Document) []*result.Document { d[2] = d[1]; return d }, ErrIncomplete, []string{"given twice", "shard 2/3 missing"}},
		{"late", func(d []*result.Document) []*result.Document {
			d[1].Run.Sharding.Shards[0].Missed, d[1].Run.Sharding.Shards[0].MaxStartLagMs = 40, 812
			return d
		}, ErrIncomplete, []string{"shard 1/3 (s1.json) started 812 ms late", "skipped the 40 sends"}},
		{"interrupted", func(d []*result.Document) []*result.Document {
			d[2].Run.Sharding.Shards[0].Interrupted = true
			return d
		},
			ErrIncomplete, []string{"shard 2/3 (s2.json) was interrupted"}},
		{"killed", func(d []*result.Document) []*result.Document { d[0].Repetitions = nil; return d }, ErrIncomplete, []string{"0 of 1 repetitions"}},
		{"slipped", func(d []*result.Document) []*result.Document {
			d[2].Repetitions[0].Generator.Bottleneck = "the load generator, not the target, was the bottleneck: 9 of 100 sends late"
			return d
		}, ErrSlipped, []string{"shard 2/3 (s2.json), repetition 1", "9 of 100 sends late"}},
		{"other seed", func(d []*result.Document) []*result.Document { d[1].Run.Seed = 8; return d }, ErrMismatch, []string{"seed 8, want 7"}},
		{"other start", func(d []*result.Document) []*result.Document {
			d[1].Run.Sharding.StartAt = startAt.Add(time.Second)
			return d
		}, ErrMismatch, []string{"--start-at"}},
		{"not a shard", func(d []*result.Document) []*result.Document { d[0].Run.Sharding = nil; return d }, ErrMismatch, []string{"not a shard's document"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs := tc.edit(three())
			m, err := Shards(names[:len(docs)], docs)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			for _, w := range tc.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tc.want == ErrMismatch {
				if m != nil {
					t.Errorf("a document for unrelated inputs")
				}
				return
			}
			if m == nil || len(m.Run.Sharding.Problems) == 0 {
				t.Fatalf("the merged document does not list the problem")
			}
		})
	}
}
