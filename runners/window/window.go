// Package window records the outcome of requests per window of time: how
// many were sent, how many failed, and the latency percentiles of each
// window (one second, ten seconds, …), for burst recovery, soak drift and
// step-by-step breaking points.
//
// Its opinion: a request belongs to the window of its intended send time,
// the schedule, never its completion; so a window's count is the arrival
// process as it was meant to be, and a slow window shows as high latency
// of its own requests, not as a lull in a later one. Latency is measured
// from the intended send time (coordinated-omission free), as runners/load
// measures it.
package window

import (
	"math"
	"slices"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/engram/m18-gate/runners/load"
)

// Histogram range of a window: 1 µs to 1 h with 2 significant digits (1 %
// resolution), about 25 KB per window that received samples. Values
// outside the range are clamped to it.
const (
	histMinUs  = 1
	histMaxUs  = int64(time.Hour / time.Microsecond)
	histDigits = 2
)

// Window is what one window of time recorded. Latencies are milliseconds,
// measured from the intended send time, over every request of the window
// (failures included, as runners/load records them).
type Window struct {
	// Start and End are the window's bounds, offsets from the Recorder's
	// start.
	Start, End time.Duration `json:"-"`
	// StartSeconds and EndSeconds are Start and End in seconds, for JSON.
	StartSeconds float64 `json:"start_s"`
	EndSeconds   float64 `json:"end_s"`
	// Count is the requests whose intended send fell in the window and that
	// completed (successfully or not); Errors those that failed.
	Count  uint64 `json:"count"`
	Errors uint64 `json:"errors"`
	// Rate is Count per second of window; ErrorRate is Errors / Count.
	Rate      float64 `json:"rate"`
	ErrorRate float64 `json:"error_rate"`
	// Latency percentiles and maximum, milliseconds.
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
	// MaxLag is the largest schedule lag (actual minus intended send) of
	// the window's requests, milliseconds: a large value says the generator,
	// not the target, slipped.
	MaxLag float64 `json:"max_lag_ms"`
	// MeanInFlight is the mean number of the window's requests in flight
	// (sum of service times over the window's width, Little's law).
	MeanInFlight float64 `json:"mean_in_flight"`
}

// bucket accumulates one window.
type bucket struct {
	count, errors uint64
	latency       *hdr.Histogram // nil once compacted
	maxLagUs      int64
	service       time.Duration
	frozen        Window // the summary of a compacted bucket
}

// Recorder accumulates samples into windows of a fixed width. It is safe
// for concurrent use: load.Engine.Observe calls it from every sender.
type Recorder struct {
	width time.Duration
	start time.Time

	mu      sync.Mutex
	buckets map[int64]*bucket
	// Clamped counts latencies outside the histogram range.
	clamped uint64
}

// New returns a Recorder of windows of width (> 0) counted from start: the
// window k covers [start + k·width, start + (k+1)·width).
func New(width time.Duration, start time.Time) *Recorder {
	if width <= 0 {
		width = time.Second
	}
	return &Recorder{width: width, start: start, buckets: map[int64]*bucket{}}
}

// Width is the width of the windows.
func (r *Recorder) Width() time.Duration { return r.width }

// Start is the instant window 0 starts at.
func (r *Recorder) Start() time.Time { return r.start }

// Observe records a sample of a phase that started at the Recorder's start:
// the sample's Intended offset is its offset here. It has the signature of
// load.Engine.Observe.
func (r *Recorder) Observe(s load.Sample) { r.ObserveAt(0, s) }

// Observer returns the function to give load.Engine.Observe (or
// load.Config.Observe) for a phase that starts at phaseStart: its samples'
// Intended offsets are moved by phaseStart − start. Take phaseStart with
// time.Now() just before the phase runs; the engine starts its clock a
// few microseconds later, far below a window's width.
func (r *Recorder) Observer(phaseStart time.Time) func(load.Sample) {
	off := phaseStart.Sub(r.start)
	return func(s load.Sample) { r.ObserveAt(off, s) }
}

// ObserveAt records a sample whose phase started offset after the
// Recorder's start.
func (r *Recorder) ObserveAt(offset time.Duration, s load.Sample) {
	t := offset + s.Intended
	k := int64(math.Floor(float64(t) / float64(r.width)))
	us := int64(s.Latency / time.Microsecond)
	clamped := false
	if us < histMinUs {
		us = histMinUs
	} else if us > histMaxUs {
		us, clamped = histMaxUs, true
	}
	lag := int64(s.Lag / time.Microsecond)

	r.mu.Lock()
	defer r.mu.Unlock()
	if clamped {
		r.clamped++
	}
	b := r.buckets[k]
	if b == nil {
		b = &bucket{latency: hdr.New(histMinUs, histMaxUs, histDigits)}
		r.buckets[k] = b
	}
	b.count++
	if !s.Outcome.OK() {
		b.errors++
	}
	b.service += s.Service
	if lag > b.maxLagUs {
		b.maxLagUs = lag
	}
	if b.latency != nil {
		_ = b.latency.RecordValue(us) // in range by construction
	} else if ms := float64(us) / 1000; ms > b.frozen.Max {
		b.frozen.Max = ms // compacted: percentiles stay, the maximum still moves
	}
}

// Clamped is the number of latencies recorded at a bound of 1 µs – 1 h.
func (r *Recorder) Clamped() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clamped
}

// Windows returns every window from the first to the last that received a
// sample, in time order, empty windows between them included (Count 0).
func (r *Recorder) Windows() []Window {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buckets) == 0 {
		return nil
	}
	keys := make([]int64, 0, len(r.buckets))
	for k := range r.buckets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Window, 0, keys[len(keys)-1]-keys[0]+1)
	for k := keys[0]; k <= keys[len(keys)-1]; k++ {
		out = append(out, r.summary(k, r.buckets[k]))
	}
	return out
}

// Span returns one Window summarising every window overlapping [from, to)
// (offsets from the start), the histograms merged: the p99 of a span is the
// p99 of all its requests, not a mean of per-window p99s. Compacted windows
// contribute their counts but not their percentiles.
func (r *Recorder) Span(from, to time.Duration) Window {
	r.mu.Lock()
	defer r.mu.Unlock()
	k0 := int64(math.Floor(float64(from) / float64(r.width)))
	k1 := int64(math.Ceil(float64(to) / float64(r.width)))
	merged := &bucket{latency: hdr.New(histMinUs, histMaxUs, histDigits)}
	for k := k0; k < k1; k++ {
		b := r.buckets[k]
		if b == nil {
			continue
		}
		merged.count += b.count
		merged.errors += b.errors
		merged.service += b.service
		merged.maxLagUs = max(merged.maxLagUs, b.maxLagUs)
		if b.latency != nil {
			merged.latency.Merge(b.latency)
		}
	}
	w := summarize(merged, time.Duration(k0)*r.width, time.Duration(k1)*r.width)
	return w
}

// Compact frees the histograms of the windows that end at or before the
// offset before, keeping their summaries: a long soak at one-second windows
// keeps about 25 KB per live window otherwise. Samples that arrive later
// for a compacted window still count, and raise its maximum, but no longer
// move its percentiles.
func (r *Recorder) Compact(before time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, b := range r.buckets {
		if b.latency != nil && time.Duration(k+1)*r.width <= before {
			b.frozen = r.summary(k, b)
			b.latency = nil
		}
	}
}

// summary summarises bucket k (nil = empty).
func (r *Recorder) summary(k int64, b *bucket) Window {
	start, end := time.Duration(k)*r.width, time.Duration(k+1)*r.width
	if b == nil {
		return summarize(&bucket{}, start, end)
	}
	if b.latency == nil { // compacted: percentiles frozen, counts live
		w := b.frozen
		w.Count, w.Errors = b.count, b.errors
		w.Rate = float64(b.count) / (end - start).Seconds()
		w.ErrorRate = 0
		if b.count > 0 {
			w.ErrorRate = float64(b.errors) / float64(b.count)
		}
		w.MaxLag = float64(b.maxLagUs) / 1000
		w.MeanInFlight = b.service.Seconds() / (end - start).Seconds()
		return w
	}
	return summarize(b, start, end)
}

func summarize(b *bucket, start, end time.Duration) Window {
	w := Window{Start: start, End: end, StartSeconds: start.Seconds(), EndSeconds: end.Seconds(),
		Count: b.count, Errors: b.errors}
	width := (end - start).Seconds()
	if width > 0 {
		w.Rate = float64(b.count) / width
		w.MeanInFlight = b.service.Seconds() / width
	}
	if b.count > 0 {
		w.ErrorRate = float64(b.errors) / float64(b.count)
	}
	w.MaxLag = float64(b.maxLagUs) / 1000
	if h := b.latency; h != nil && h.TotalCount() > 0 {
		w.P50 = float64(h.ValueAtQuantile(50)) / 1000
		w.P95 = float64(h.ValueAtQuantile(95)) / 1000
		w.P99 = float64(h.ValueAtQuantile(99)) / 1000
		w.Max = float64(h.Max()) / 1000
	}
	return w
}
