package load

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

// The overall histogram is the merge of all requests: merging per-shard,
// per-operation recorders gives exactly the histogram of all values, and its
// percentiles match percentiles computed independently from the sorted raw
// values (to the histogram's 3 significant digits).
func TestMergeEqualsHistogramOfAllValues(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	shards := []*Recorder{NewRecorder(), NewRecorder(), NewRecorder()}
	all := NewRecorder()
	var raw []int64
	for i := 0; i < 20000; i++ {
		// Log-normal-ish latencies from 50 µs to seconds, one op slower.
		op := Op(r.IntN(int(numOps)))
		us := int64(math.Exp(r.NormFloat64()*1.2 + 5 + float64(op)))
		s := Sample{Op: op, Latency: time.Duration(us) * time.Microsecond, Service: time.Duration(us/2) * time.Microsecond, Outcome: 200}
		shards[i%3].Record(s)
		all.Record(s)
		raw = append(raw, max(us, 1))
	}
	merged := NewRecorder()
	for _, s := range shards {
		merged.Merge(s)
	}
	if !merged.Overall().Equals(all.Overall()) {
		t.Fatal("merged histogram differs from the histogram of all values")
	}
	sort.Slice(raw, func(i, j int) bool { return raw[i] < raw[j] })
	h := merged.Overall()
	for _, q := range []float64{50, 90, 99, 99.9} {
		// Nearest rank, allowing one rank either side (rank conventions
		// differ) and the histogram's 3-digit resolution.
		rank := int(math.Ceil(q/100*float64(len(raw)))) - 1
		lo, hi := float64(raw[rank-1])*(1-1e-3)-1, float64(raw[rank+1])*(1+1e-3)+1
		if got := float64(h.ValueAtQuantile(q)); got < lo || got > hi {
			t.Errorf("p%v = %v µs, independent value %v µs (allowed %v…%v)", q, got, raw[rank], lo, hi)
		}
	}
	// The overall p99 is not the maximum of the per-operation p99s.
	var maxOp float64
	for op := Op(0); op < numOps; op++ {
		maxOp = max(maxOp, float64(merged.Latency(op).ValueAtQuantile(99)))
	}
	if float64(h.ValueAtQuantile(99)) >= maxOp {
		t.Errorf("overall p99 %v ≥ max of per-operation p99 %v: expected the merge to be lower here", h.ValueAtQuantile(99), maxOp)
	}
}

func TestHistogramRangeAndEncoding(t *testing.T) {
	r := NewRecorder()
	for _, d := range []time.Duration{-time.Millisecond, 0, time.Microsecond, 59 * time.Minute, 2 * time.Hour} {
		r.Record(Sample{Latency: d, Service: d, Outcome: 200})
	}
	if r.Count() != 5 || r.Overall().TotalCount() != 5 {
		t.Fatalf("recorded %d values, want all 5 (none dropped)", r.Overall().TotalCount())
	}
	if r.Clamped != 4 { // -1ms (latency, service) and 2h (latency, service)
		t.Errorf("clamped %d, want 4", r.Clamped)
	}
	if max := r.Overall().Max(); max < int64(59*time.Minute/time.Microsecond) {
		t.Errorf("max %d µs: a value of 59 min was lost (Engram capped at 60 ms)", max)
	}
	enc, err := EncodeHistogram(r.Overall())
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeHistogram(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equals(r.Overall()) {
		t.Error("histogram changed through encode/decode")
	}
}

func TestMixFollowsWeights(t *testing.T) {
	m, err := NewMix([numOps]float64{0.5, 0.3, 0.2, 0}, 9)
	if err != nil {
		t.Fatal(err)
	}
	var c [numOps]int
	const n = 100000
	for i := 0; i < n; i++ {
		c[m.Pick()]++
	}
	for i, w := range []float64{0.5, 0.3, 0.2, 0} {
		sd := math.Sqrt(w * (1 - w) / n)
		if got := float64(c[i]) / n; math.Abs(got-w) > 5*sd+1e-12 {
			t.Errorf("%v picked %.4f of the time, want %.2f ± 5σ", Op(i), got, w)
		}
	}
	if _, err := NewMix([numOps]float64{}, 1); err == nil {
		t.Error("all-zero weights accepted")
	}
}
