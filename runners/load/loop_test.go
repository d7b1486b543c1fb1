package load

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/runners/arrival"
	"github.com/engram/m18-gate/runners/load/internal/rawserver"
)

// The engine's own connections (the event loop on Linux, the sender
// goroutines elsewhere) through whole phases: framing, keep-alive, retries,
// large bodies and requests that are not plain http.

// rawWorkload sends what req makes for every send.
type rawWorkload struct {
	req func(ctx context.Context, seq uint64) *http.Request
}

func (w rawWorkload) NewSender() Sender { return w }

func (w rawWorkload) Request(ctx context.Context, op Op, seq uint64) (*http.Request, error) {
	return w.req(ctx, seq), nil
}

func getEach(u *url.URL) rawWorkload {
	return rawWorkload{func(ctx context.Context, seq uint64) *http.Request {
		return rawserver.Get(u, "/x").WithContext(ctx)
	}}
}

// runN runs n sends 5 ms apart and returns the successes (2xx) and the
// errors by outcome.
func runN(t *testing.T, e *Engine, n uint64) (ok uint64, errs map[Outcome]uint64) {
	t.Helper()
	res, err := e.Run(context.Background(), Phase{Pacer: arrival.Regular{Shape: arrival.Flat(200)}, Mix: mix(t, [numOps]float64{1}),
		Duration: 20 * time.Second, MaxRequests: n})
	if err != nil {
		t.Fatal(err)
	}
	o := res.Recorder.ops[Store]
	if o.count != n {
		t.Errorf("%d samples, want %d", o.count, n)
	}
	return o.success, o.errors
}

func TestEngineFramesResponses(t *testing.T) { forEachPath(t, testEngineFramesResponses) }

func testEngineFramesResponses(t *testing.T, senders bool) {
	const ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
	big := strings.Repeat("x", 300<<10)
	cases := append(rawserver.Framing[:len(rawserver.Framing):len(rawserver.Framing)], []struct {
		Name     string
		Reply    string
		Status   int
		Accepted int32
	}{
		{"a large body", "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(big)) + "\r\n\r\n" + big, 200, 1},
		{"a stale connection is retried", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n\x00close", 200, 2},
		{"garbage is a connection error", "garbage\r\n\r\n", int(OutcomeConnection), 2},
	}...)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			srv := rawserver.New(t, tc.Reply, ok, ok)
			e := &Engine{Client: NewClient(1, 5*time.Second), Workload: getEach(srv.URL), MaxInFlight: 1, Senders: senders}
			defer e.Client.CloseIdleConnections()
			ok, errs := runN(t, e, 3)
			st := Outcome(tc.Status)
			if st.OK() && (ok != 3 || len(errs) != 0) || !st.OK() && (ok != 2 || errs[st] != 1) {
				t.Errorf("%d successes, errors %v; want the first outcome %v, then 2 × 200", ok, errs, tc.Status)
			}
			if a := srv.Accepted.Load(); a != tc.Accepted {
				t.Errorf("connections: %d, want %d", a, tc.Accepted)
			}
		})
	}
}

// A body larger than a socket buffer goes out whole, request after
// request, with the headers the workload set.
func TestEngineSendsLargeBodies(t *testing.T) { forEachPath(t, testEngineSendsLargeBodies) }

func testEngineSendsLargeBodies(t *testing.T, senders bool) {
	body := strings.Repeat("0123456789", 200<<10) // 2 MB
	const n = 4
	replies := make([]string, n)
	for i := range replies {
		replies[i] = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
	}
	srv := rawserver.New(t, replies...)
	w := rawWorkload{func(ctx context.Context, seq uint64) *http.Request {
		u := *srv.URL
		u.Path = "/api/v1/memories/remember"
		return (&http.Request{Method: http.MethodPost, URL: &u, Header: http.Header{"X-Memory-Space": {"s1"}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}).WithContext(ctx)
	}}
	e := &Engine{Client: NewClient(2, 10*time.Second), Workload: w, MaxInFlight: 2, Senders: senders}
	defer e.Client.CloseIdleConnections()
	if ok, errs := runN(t, e, n); ok != n {
		t.Errorf("%d successes, errors %v; want %d", ok, errs, n)
	}
	srv.Mu.Lock()
	defer srv.Mu.Unlock()
	for i, b := range srv.Bodies {
		if b != body || srv.Got[i].Header.Get("X-Memory-Space") != "s1" {
			t.Errorf("request %d: body of %d bytes (want %d), headers %v", i, len(b), len(body), srv.Got[i].Header)
		}
	}
}

// Connections outlive a phase: the next phase of the same client sends on
// them instead of opening new ones.
func TestEngineKeepsConnectionsAcrossPhases(t *testing.T) {
	forEachPath(t, testEngineKeepsConnectionsAcrossPhases)
}

func testEngineKeepsConnectionsAcrossPhases(t *testing.T, senders bool) {
	replies := make([]string, 40)
	for i := range replies {
		replies[i] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
	}
	srv := rawserver.New(t, replies...)
	e := &Engine{Client: NewClient(4, 5*time.Second), Workload: getEach(srv.URL), MaxInFlight: 4, Senders: senders}
	defer e.Client.CloseIdleConnections()
	var first int32
	for phase := 0; phase < 4; phase++ {
		if ok, errs := runN(t, e, 10); ok != 10 {
			t.Fatalf("phase %d: %d successes, errors %v", phase, ok, errs)
		}
		if phase == 0 {
			first = srv.Accepted.Load()
		}
	}
	// The first phase opens what it needs (one connection, one at a time
	// 5 ms apart, for the loop; one per started sender for the senders);
	// the later phases open none.
	if a := srv.Accepted.Load(); a != first || first > 4 {
		t.Errorf("%d connections after the first phase, %d after the fourth; want them kept", first, a)
	}
}

// Requests that are not plain http go through Engine.Client.
func TestEngineSendsHTTPSThroughTheClient(t *testing.T) {
	forEachPath(t, testEngineSendsHTTPSThroughTheClient)
}

func testEngineSendsHTTPSThroughTheClient(t *testing.T, senders bool) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	defer srv.Close()
	tr := NewTransport(4, 5*time.Second)
	tr.TLS = srv.Client().Transport
	e := &Engine{Client: &http.Client{Transport: tr}, Workload: getWorkload{srv.URL}, MaxInFlight: 4, Senders: senders}
	defer tr.CloseIdleConnections()
	if ok, errs := runN(t, e, 6); ok != 6 {
		t.Errorf("%d successes, errors %v; want 6", ok, errs)
	}
}

// A server that answers before it has read the whole request (a 413 to a
// body too large) gets its answer recorded, not a request stuck writing:
// whether it goes on reading the body ("drains") or not ("stops reading").
// A sender goroutine writes the whole body before it reads, so only the
// event loop is asked to handle a server that stops reading.
func TestEngineTakesAnAnswerBeforeTheBodyIsOut(t *testing.T) {
	for _, drain := range []bool{true, false} {
		name := map[bool]string{true: "drains", false: "stops reading"}[drain]
		t.Run(name, func(t *testing.T) {
			forEachPath(t, func(t *testing.T, senders bool) {
				if senders && !drain {
					t.Skip("a sender goroutine writes the whole body before it reads")
				}
				answerEarly(t, senders, drain)
			})
		})
	}
}

func answerEarly(t *testing.T, senders, drain bool) {
	done := make(chan struct{})
	defer close(done)
	addr := serveRaw(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 413 Request Entity Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
		if drain {
			io.Copy(io.Discard, br) // the rest, until the client closes
		} else {
			<-done // holds the connection open, reading nothing
		}
	})
	body := strings.Repeat("x", 32<<20)
	u, _ := url.Parse("http://" + addr + "/api/v1/memories/remember")
	w := rawWorkload{func(ctx context.Context, seq uint64) *http.Request {
		return (&http.Request{Method: http.MethodPost, URL: u, Header: http.Header{},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}).WithContext(ctx)
	}}
	e := &Engine{Client: NewClient(1, 20*time.Second), Workload: w, MaxInFlight: 1, Senders: senders}
	defer e.Client.CloseIdleConnections()
	ok, errs := runN(t, e, 2)
	if ok != 0 || errs[413] != 2 {
		t.Errorf("%d successes, errors %v; want 2 × 413", ok, errs)
	}
}

// An IPv6 loopback endpoint is reached as well as an IPv4 one.
func TestEngineReachesIPv6Loopback(t *testing.T) { forEachPath(t, testEngineReachesIPv6Loopback) }

func testEngineReachesIPv6Loopback(t *testing.T, senders bool) {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	e := &Engine{Client: NewClient(2, 5*time.Second), Workload: getWorkload{srv.URL}, MaxInFlight: 2, Senders: senders}
	defer e.Client.CloseIdleConnections()
	if ok, errs := runN(t, e, 5); ok != 5 {
		t.Errorf("%d successes, errors %v; want 5", ok, errs)
	}
}
