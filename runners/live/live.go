// Package live exposes a running load as Prometheus metrics: request rate
// and errors, latency histograms (from the intended send time, as the result
// document measures it), requests in flight and the generator's schedule lag,
// by scenario and operation — for watching a soak or a burst while it runs.
//
// It is a view, not a record: the result document stays the measurement the
// gate decides on. Its opinion is that watching must not disturb what is
// watched, so Observe does only atomic updates on series resolved before the
// load starts (no label lookups, no locks, no allocation per request), and
// the histograms' buckets are fixed, so scrapes cost the same whatever the
// rate.
package live

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/load/client"
)

// Metric names, for dashboards and alert rules.
const (
	MetricRequests = "m18_requests_total"
	MetricErrors   = "m18_request_errors_total"
	MetricLatency  = "m18_request_latency_seconds"
	MetricService  = "m18_request_service_seconds"
	MetricInFlight = "m18_requests_in_flight"
	MetricLag      = "m18_schedule_lag_seconds"
)

// LatencyBuckets are the latency histograms' upper bounds in seconds: 50 µs
// to about 26 s, doubling.
var LatencyBuckets = prometheus.ExponentialBuckets(50e-6, 2, 20)

// Metrics is one run's live metrics. Its Observe is safe for concurrent use.
type Metrics struct {
	reg      *prometheus.Registry
	ok, fail [client.NumOps]prometheus.Counter
	latency  [client.NumOps]prometheus.Observer
	service  [client.NumOps]prometheus.Observer
	errors   *prometheus.CounterVec
	scenario string
	inFlight prometheus.Gauge
	lag      prometheus.Observer
}

// New returns the metrics of a run of scenario, every series already
// created (at zero) so that a scrape before the first request shows them.
func New(scenario string) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), scenario: scenario}
	sc := prometheus.Labels{"scenario": scenario}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricRequests,
		Help: "Requests completed, by operation and outcome (ok or error)."}, []string{"scenario", "operation", "outcome"})
	m.errors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricErrors,
		Help: "Failed requests by operation and error kind (timeout, connection, http_NNN)."}, []string{"scenario", "operation", "kind"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: MetricLatency,
		Help:    "Request latency from the intended send time (no coordinated omission), seconds.",
		Buckets: LatencyBuckets}, []string{"scenario", "operation"})
	service := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: MetricService,
		Help:    "Request service time from the actual send, seconds.",
		Buckets: LatencyBuckets}, []string{"scenario", "operation"})
	inFlight := prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricInFlight, ConstLabels: sc,
		Help: "Requests in flight when the latest request was sent."})
	lag := prometheus.NewHistogram(prometheus.HistogramOpts{Name: MetricLag, ConstLabels: sc,
		Help:    "How late requests were sent after their intended time, seconds.",
		Buckets: LatencyBuckets})
	m.reg.MustRegister(requests, m.errors, latency, service, inFlight, lag)
	for op := client.Op(0); op < client.NumOps; op++ {
		name := op.String()
		m.ok[op] = requests.WithLabelValues(scenario, name, "ok")
		m.fail[op] = requests.WithLabelValues(scenario, name, "error")
		m.latency[op] = latency.WithLabelValues(scenario, name)
		m.service[op] = service.WithLabelValues(scenario, name)
	}
	m.inFlight, m.lag = inFlight, lag
	return m
}

// Observe records one request; pass it as load.Config.Observe.
func (m *Metrics) Observe(s load.Sample) {
	op := s.Op
	if op >= client.NumOps {
		return
	}
	if s.Outcome.OK() {
		m.ok[op].Inc()
	} else {
		m.fail[op].Inc()
		m.errors.WithLabelValues(m.scenario, op.String(), s.Outcome.Kind()).Inc() // errors only: off the hot path
	}
	m.latency[op].Observe(s.Latency.Seconds())
	m.service[op].Observe(s.Service.Seconds())
	m.lag.Observe(max(s.Lag, 0).Seconds())
	m.inFlight.Set(float64(s.InFlight))
}

// Registry is where the metrics are registered (for tests and embedding).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format (and OpenMetrics
// when the scraper asks for it).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// Serve listens on addr and serves /metrics until ctx ends. It returns the
// address it listens on (addr may ask for port 0) once listening.
func (m *Metrics) Serve(ctx context.Context, addr string) (net.Addr, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = l.Close()
		}
	}()
	return l.Addr(), nil
}
