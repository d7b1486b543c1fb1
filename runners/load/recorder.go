package load

import (
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/engram/m18-gate/runners/load/client"
	"github.com/engram/m18-gate/runners/result"
)

// Histogram range: 1 µs to 1 h, 3 significant digits. Values are recorded
// in microseconds; values beyond the range are clamped to it and counted
// (Recorder.Clamped), never dropped.
const (
	histMinUs  = result.HistogramMinUs
	histMaxUs  = result.HistogramMaxUs
	histDigits = result.HistogramDigits
)

// NewHistogram returns an empty histogram with the engine's range.
func NewHistogram() *hdr.Histogram { return hdr.New(histMinUs, histMaxUs, histDigits) }

// Outcome classifies a completed (or failed) request (see client.Outcome).
type Outcome = client.Outcome

// Outcomes other than an HTTP status.
const (
	OutcomeTimeout    = client.OutcomeTimeout
	OutcomeConnection = client.OutcomeConnection
)

// Sample is one request as the engine saw it. Latency runs from the
// intended send time, Service from the actual send; Lag is actual minus
// intended send.
type Sample struct {
	Op       Op
	Intended time.Duration // offset of the intended send from the phase start
	Lag      time.Duration
	Service  time.Duration
	Latency  time.Duration
	Outcome  Outcome
	// InFlight is the number of requests in flight, this one included,
	// when it was sent: what the generator had outstanding at that moment.
	InFlight int
}

// opRecord holds one operation's figures.
type opRecord struct {
	count, success uint64
	errors         map[Outcome]uint64
	latency        *hdr.Histogram
	service        *hdr.Histogram
}

func newOpRecord() *opRecord {
	return &opRecord{errors: map[Outcome]uint64{}, latency: NewHistogram(), service: NewHistogram()}
}

func (r *opRecord) merge(o *opRecord) {
	r.count += o.count
	r.success += o.success
	for k, v := range o.errors {
		r.errors[k] += v
	}
	r.latency.Merge(o.latency)
	r.service.Merge(o.service)
}

// Recorder accumulates samples: per-operation latency and service-time
// histograms, counts, error classes, and the schedule lag. It is not safe for
// concurrent use; the engine gives each shard of senders its own and merges
// them at the end, so no lock is shared by all requests.
type Recorder struct {
	ops [numOps]*opRecord
	lag *hdr.Histogram
	// Clamped counts values outside 1 µs – 1 h, recorded at the nearest
	// bound instead of being dropped.
	Clamped uint64
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	r := &Recorder{lag: NewHistogram()}
	for i := range r.ops {
		r.ops[i] = newOpRecord()
	}
	return r
}

func (r *Recorder) record(h *hdr.Histogram, d time.Duration) {
	us := int64(d / time.Microsecond)
	if us < histMinUs {
		us = histMinUs
		if d < 0 {
			r.Clamped++
		}
	} else if us > histMaxUs {
		us = histMaxUs
		r.Clamped++
	}
	_ = h.RecordValue(us) // in range by construction
}

// Record adds one sample.
func (r *Recorder) Record(s Sample) {
	o := r.ops[s.Op]
	o.count++
	if s.Outcome.OK() {
		o.success++
	} else {
		o.errors[s.Outcome]++
	}
	r.record(o.latency, s.Latency)
	r.record(o.service, s.Service)
	if s.Lag < 0 {
		s.Lag = 0
	}
	r.record(r.lag, s.Lag)
}

// Merge adds everything recorded by o into r.
func (r *Recorder) Merge(o *Recorder) {
	for i := range r.ops {
		r.ops[i].merge(o.ops[i])
	}
	r.lag.Merge(o.lag)
	r.Clamped += o.Clamped
}

// Count is the number of samples recorded.
func (r *Recorder) Count() uint64 {
	var n uint64
	for _, o := range r.ops {
		n += o.count
	}
	return n
}

// Errors is the number of failed samples.
func (r *Recorder) Errors() uint64 {
	var n uint64
	for _, o := range r.ops {
		n += o.count - o.success
	}
	return n
}

// Latency returns the latency histogram (from the intended send) of op; the
// caller must not modify it.
func (r *Recorder) Latency(op Op) *hdr.Histogram { return r.ops[op].latency }

// Lag returns the schedule-lag histogram (microseconds).
func (r *Recorder) Lag() *hdr.Histogram { return r.lag }

// overall merges every operation into one record: the percentiles of all
// requests.
func (r *Recorder) overall() *opRecord {
	all := newOpRecord()
	for _, o := range r.ops {
		all.merge(o)
	}
	return all
}

// Overall returns the merged latency histogram of all operations.
func (r *Recorder) Overall() *hdr.Histogram { return r.overall().latency }

// Stats returns the result figures of every operation that ran and of all
// of them merged, over a measured phase of the given length.
func (r *Recorder) Stats(elapsed time.Duration) (map[string]result.OpStats, result.OpStats, error) {
	ops := map[string]result.OpStats{}
	for i, o := range r.ops {
		if o.count == 0 {
			continue
		}
		s, err := o.stats(elapsed)
		if err != nil {
			return nil, result.OpStats{}, err
		}
		ops[Op(i).String()] = s
	}
	all, err := r.overall().stats(elapsed)
	return ops, all, err
}

func (r *opRecord) stats(elapsed time.Duration) (result.OpStats, error) {
	s := result.OpStats{
		Count:   r.count,
		Success: r.success,
		Errors:  r.count - r.success,
		Latency: LatencyOf(r.latency),
		Service: LatencyOf(r.service),
	}
	if len(r.errors) > 0 {
		s.ErrorsByKind = map[string]uint64{}
		for k, v := range r.errors {
			s.ErrorsByKind[k.Kind()] += v
		}
	}
	if r.count > 0 {
		s.ErrorRate = float64(s.Errors) / float64(r.count)
	}
	if sec := elapsed.Seconds(); sec > 0 {
		s.Throughput = float64(r.count) / sec
	}
	var err error
	if s.Histogram, err = EncodeHistogram(r.latency); err != nil {
		return s, err
	}
	s.ServiceHistogram, err = EncodeHistogram(r.service)
	return s, err
}

// LatencyOf returns the percentiles of a microsecond histogram in
// milliseconds (result.LatencyOf).
func LatencyOf(h *hdr.Histogram) result.Latency { return result.LatencyOf(h) }

// EncodeHistogram encodes h as the result document stores it
// (result.EncodeHistogram).
func EncodeHistogram(h *hdr.Histogram) (string, error) { return result.EncodeHistogram(h) }

// DecodeHistogram is the inverse of EncodeHistogram (result.DecodeHistogram).
func DecodeHistogram(s string) (*hdr.Histogram, error) { return result.DecodeHistogram(s) }

// shards is a set of Recorders, each behind its own lock; sender i records
// into shard i mod len. Contention is rare and no lock is global.
type shards struct {
	mu   []sync.Mutex
	recs []*Recorder
}

func newShards(n int) *shards {
	s := &shards{mu: make([]sync.Mutex, n), recs: make([]*Recorder, n)}
	for i := range s.recs {
		s.recs[i] = NewRecorder()
	}
	return s
}

func (s *shards) record(i int, smp Sample) {
	i %= len(s.recs)
	s.mu[i].Lock()
	s.recs[i].Record(smp)
	s.mu[i].Unlock()
}

func (s *shards) merged() *Recorder {
	all := NewRecorder()
	for i, r := range s.recs {
		s.mu[i].Lock()
		all.Merge(r)
		s.mu[i].Unlock()
	}
	return all
}
