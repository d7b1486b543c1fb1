package target

import (
	"bytes"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server is the reference target as an http.Handler. Create it with
// NewServer and stop its background work with Close.
type Server struct {
	opts  Options
	log   *slog.Logger
	start time.Time
	done  chan struct{}
	close sync.Once

	mux     *http.ServeMux
	store   *store
	fail    failer
	bucket  *bucket
	leak    *leaker
	conc    *concurrency    // concurrency knobs; nil = off
	ctrs    *workerCounters // Options.Counters; nil = off
	ids     atomic.Uint64
	slow    *slowdown // the Slowdown knob; nil when off
	bufPool sync.Pool

	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	queued   prometheus.Gauge
}

// NewServer validates o and returns a server. Its knobs' clocks (stall
// schedule, leak) start now.
func NewServer(o Options) (*Server, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		opts:   o,
		log:    o.Logger,
		start:  time.Now(),
		done:   make(chan struct{}),
		mux:    http.NewServeMux(),
		store:  newStore(),
		fail:   failer{rate: o.FailRate, seed: o.Seed},
		bucket: newBucket(o.Capacity),
		conc:   newConcurrency(o),
		ctrs:   newWorkerCounters(o.Counters),
		slow:   newSlowdown(o),
	}
	if o.ScalarDot {
		s.store.dot = dotScalar
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.bufPool.New = func() any { return new(bytes.Buffer) }
	s.initMetrics()
	s.routes()
	if o.LeakMBPerMin > 0 {
		s.leak = &leaker{bytesPerSec: o.LeakMBPerMin * (1 << 20) / 60}
		go s.leak.run(s.start, 100*time.Millisecond, s.done)
	}
	return s, nil
}

// Close stops the server's background goroutines and releases requests
// waiting in a stall or for capacity. It does not close listeners; it is
// safe to call more than once.
func (s *Server) Close() error {
	s.close.Do(func() { close(s.done) })
	return nil
}

// Len returns the number of memories stored in a memory space ("" means
// "default"); 0 for a space that does not exist.
func (s *Server) Len(space string) int {
	if space == "" {
		space = defaultSpace
	}
	sp := s.store.lookup(space)
	if sp == nil {
		return 0
	}
	return int(sp.count.Load())
}

// Leaked returns the number of bytes retained on purpose by LeakMBPerMin.
func (s *Server) Leaked() int64 {
	if s.leak == nil {
		return 0
	}
	return s.leak.total.Load()
}

// Registry returns the server's own Prometheus registry (the one served at
// /metrics/prometheus).
func (s *Server) Registry() *prometheus.Registry { return s.reg }

func (s *Server) initMetrics() {
	s.reg = prometheus.NewRegistry()
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "m18_target_requests_total",
		Help: "HTTP requests handled, by route pattern, method and status code.",
	}, []string{"route", "method", "code"})
	s.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "m18_target_request_duration_seconds",
		Help:    "Time from request arrival to response, including queueing, stalls and slowdown, by route pattern.",
		Buckets: prometheus.ExponentialBucketsRange(20e-6, 60, 28),
	}, []string{"route"})
	s.queued = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "m18_target_capacity_queue_depth",
		Help: "Requests waiting for a capacity token.",
	})
	s.reg.MustRegister(s.requests, s.duration, s.queued,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "m18_target_memories",
			Help: "Memories stored, all spaces.",
		}, func() float64 { return float64(s.store.total()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "m18_target_leaked_bytes",
			Help: "Bytes retained on purpose (--leak).",
		}, func() float64 { return float64(s.Leaked()) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /health", s.health)
	s.mux.HandleFunc("GET /health/alive", s.alive)
	s.mux.HandleFunc("POST /api/v1/memories/remember", serveAPI(s.remember))
	s.mux.HandleFunc("POST /api/v1/memories", serveAPI(s.simpleStore))
	s.mux.HandleFunc("GET /api/v1/memories/recall", serveAPI(s.recall))
	s.mux.HandleFunc("GET /api/v1/memories/search", serveAPI(s.search))
	s.mux.HandleFunc("GET /api/v1/memories/{id}", serveAPI(s.getMemory))
	s.mux.HandleFunc("GET /api/v1/memories", serveAPI(s.getMemories))
	s.mux.HandleFunc("POST /api/v1/complete", serveAPI(s.complete))
	s.mux.HandleFunc("POST /api/v1/spaces", serveAPI(s.createSpace))
	s.mux.HandleFunc("GET /api/v1/spaces", s.listSpaces)
	s.mux.Handle("GET /metrics/prometheus", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
}

// ServeHTTP routes the request and applies the knobs, in order: stall
// (arrival), capacity queue, injected failure, worker and work (the
// concurrency knobs), handler, slowdown, stall (response). Health and metrics routes are subject only to stalls, so that
// probes and scrapes stay truthful; the others apply to /api/ routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	_, pattern := s.mux.Handler(r) // for the metric label; ServeHTTP below sets path values
	route := pattern
	if route == "" {
		route = "unmatched"
	}
	api := strings.HasPrefix(r.URL.Path, "/api/")
	ctx := r.Context()

	if s.opts.StallEvery > 0 {
		sleepCtx(ctx, s.done, stallWait(s.start, time.Now(), s.opts.StallEvery, s.opts.StallFor))
	}
	if api && s.bucket != nil {
		if wait := s.bucket.reserve(time.Now()); wait > 0 {
			s.queued.Inc()
			sleepCtx(ctx, s.done, wait)
			s.queued.Dec()
		}
	}

	buf := s.bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer s.bufPool.Put(buf)
	bw := &bufferedWriter{w: w, buf: buf}

	if api && s.fail.fail() {
		writeJSON(bw, http.StatusInternalServerError, errorBody{Error: "injected_failure",
			Message: "failure injected on purpose (fail-rate " + strconv.FormatFloat(s.opts.FailRate, 'g', -1, 64) + ")"})
	} else {
		if api && s.conc != nil { // concurrency knobs: a worker, then the work
			space := knobSpace(r)
			release := s.conc.acquire(ctx, s.done, space)
			s.conc.do(ctx, s.done, space)
			defer release()
		}
		if api && s.ctrs != nil {
			s.ctrs.bump()
		}
		began := time.Now()
		s.mux.ServeHTTP(bw, r)
		if pattern == "" && (bw.status == http.StatusNotFound || bw.status == http.StatusMethodNotAllowed) {
			s.rewriteUnmatched(bw, r)
		}
		if api && s.slow != nil {
			s.slow.after(began)
		}
	}

	if s.opts.StallEvery > 0 {
		sleepCtx(ctx, s.done, stallWait(s.start, time.Now(), s.opts.StallEvery, s.opts.StallFor))
	}
	status := bw.flush()
	s.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
	s.duration.WithLabelValues(route).Observe(time.Since(arrived).Seconds())
}

// rewriteUnmatched replaces the mux's plain-text 404/405 with a JSON error.
func (s *Server) rewriteUnmatched(bw *bufferedWriter, r *http.Request) {
	bw.buf.Reset()
	bw.w.Header().Del("X-Content-Type-Options")
	status := bw.status
	bw.status = 0
	if status == http.StatusMethodNotAllowed {
		writeJSON(bw, status, errorBody{Error: "method_not_allowed", Field: "method",
			Message: r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + bw.w.Header().Get("Allow")})
		return
	}
	writeJSON(bw, status, errorBody{Error: "not_found", Field: "path",
		Message: "no route " + r.Method + " " + r.URL.Path + "; see ENGRAM API: /health, /api/v1/memories/{remember,recall,search}, /api/v1/complete, /api/v1/spaces, /metrics/prometheus"})
}

// bufferedWriter holds a response until the knobs are done with it, so a
// slowed or stalled response reaches the client only when it should.
type bufferedWriter struct {
	w      http.ResponseWriter
	buf    *bytes.Buffer
	status int
}

func (b *bufferedWriter) Header() http.Header { return b.w.Header() }

func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.buf.Write(p)
}

// flush sends the held response and returns its status.
func (b *bufferedWriter) flush() int {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	b.w.Header().Set("Content-Length", strconv.Itoa(b.buf.Len()))
	b.w.WriteHeader(b.status)
	b.w.Write(b.buf.Bytes())
	return b.status
}
