package http1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Transport is the http.RoundTripper of NewClient: HTTP/1.1 over keep-alive
// connections, each request written and its response read by the calling
// goroutine itself.
//
// net/http's Transport runs two goroutines per connection and hands every
// request and response between them and the caller over channels; at tens
// of thousands of requests a second on a small machine those hand-offs and
// its per-request timers cost more CPU than the requests. Here the only
// goroutine is the caller's: it takes an idle connection (or dials one),
// writes the request with Request.Write, reads the response with
// http.ReadResponse, and the connection goes back to the pool when the body
// has been read to its end and closed. The request timeout is a deadline on
// the connection (covering the write, the response and its body), and a
// cancelled context expires that deadline at once.
//
// Only http:// is spoken here; https:// requests go to a standard
// http.Transport. A request on a reused connection that fails before any
// byte of the response arrived (the server closed the idle connection) is
// retried once on a new connection when its body can be sent again (no
// body, or GetBody set).
type Transport struct {
	// Timeout bounds one request from the write to the end of its body;
	// 0 means none.
	Timeout time.Duration
	// MaxIdle is how many idle connections are kept per host (default 100).
	MaxIdle int
	// TLS handles https:// requests (default: a standard http.Transport).
	TLS http.RoundTripper

	dialer net.Dialer

	mu     sync.Mutex
	idle   map[string][]*conn
	closed bool

	// senders keeps the connections of the Engine's senders from one
	// phase to the next.
	senders connPool
	// loopConns keeps the connections of the Engine's event loops.
	loopConns loopPool
}

// NewTransport returns a Transport for up to maxConns concurrent requests
// with a whole-request timeout.
func NewTransport(maxConns int, timeout time.Duration) *Transport {
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	return &Transport{
		Timeout: timeout,
		MaxIdle: maxConns,
		dialer:  net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second},
		TLS: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        maxConns,
			MaxIdleConnsPerHost: maxConns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			Protocols:           protocols,
		},
	}
}

// conn is one keep-alive connection.
type conn struct {
	nc   net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	key  string
	used bool // a request was sent on it before
}

// longAgo is a deadline in the past: setting it makes blocked I/O return.
var longAgo = time.Unix(1, 0)

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		closeBody(req)
		return nil, errors.New("http1: request has no URL")
	}
	switch req.URL.Scheme {
	case "http":
	case "https":
		if t.TLS == nil {
			closeBody(req)
			return nil, errors.New("http1: no TLS transport for " + req.URL.Redacted())
		}
		return t.TLS.RoundTrip(req)
	default:
		closeBody(req)
		return nil, fmt.Errorf("http1: unsupported scheme %q in %s", req.URL.Scheme, req.URL.Redacted())
	}
	ctx := req.Context()
	key := req.URL.Host
	if req.URL.Port() == "" {
		key = net.JoinHostPort(req.URL.Hostname(), "80")
	}
	for attempt := 0; ; attempt++ {
		c, err := t.get(ctx, key)
		if err != nil {
			closeBody(req)
			return nil, err
		}
		resp, retry, err := t.exchange(ctx, c, req)
		if err == nil {
			return resp, nil
		}
		if !retry || attempt > 0 || req.GetBody == nil && req.Body != nil && req.Body != http.NoBody {
			closeBody(req)
			return nil, err
		}
		if req.GetBody != nil {
			b, gerr := req.GetBody()
			if gerr != nil {
				return nil, err
			}
			r2 := *req
			r2.Body = b
			req = &r2
		}
	}
}

// exchange sends req on c and reads the response head. retry says whether
// the failure may be a stale idle connection (nothing of a response read).
func (t *Transport) exchange(ctx context.Context, c *conn, req *http.Request) (*http.Response, bool, error) {
	reused := c.used
	c.used = true
	deadline := time.Time{}
	if t.Timeout > 0 {
		deadline = time.Now().Add(t.Timeout)
	}
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
		deadline = d
	}
	c.nc.SetDeadline(deadline)
	var stop func() bool
	if ctx.Done() != nil {
		if err := ctx.Err(); err != nil {
			c.nc.Close()
			return nil, false, err
		}
		stop = context.AfterFunc(ctx, func() { c.nc.SetDeadline(longAgo) })
	}
	fail := func(err error, retry bool) (*http.Response, bool, error) {
		if stop != nil {
			stop()
		}
		c.nc.Close()
		if cerr := ctx.Err(); cerr != nil {
			err = fmt.Errorf("%w (%v)", cerr, err)
		}
		return nil, retry, err
	}
	if err := req.Write(c.bw); err != nil {
		return fail(err, reused)
	}
	if err := c.bw.Flush(); err != nil {
		return fail(err, reused)
	}
	if _, err := c.br.Peek(1); err != nil {
		return fail(err, reused && (errors.Is(err, io.EOF) || isReset(err)))
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		return fail(err, false)
	}
	keep := !resp.Close && !req.Close && resp.ProtoAtLeast(1, 1)
	resp.Body = &body{ReadCloser: resp.Body, t: t, c: c, keep: keep, stop: stop}
	return resp, false, nil
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// get returns an idle connection to key, or dials one.
func (t *Transport) get(ctx context.Context, key string) (*conn, error) {
	t.mu.Lock()
	if cs := t.idle[key]; len(cs) > 0 {
		c := cs[len(cs)-1]
		cs[len(cs)-1] = nil
		t.idle[key] = cs[:len(cs)-1]
		t.mu.Unlock()
		return c, nil
	}
	t.mu.Unlock()
	nc, err := t.dialer.DialContext(ctx, "tcp", key)
	if err != nil {
		return nil, err
	}
	return &conn{nc: nc, br: bufio.NewReaderSize(nc, 16<<10), bw: bufio.NewWriterSize(nc, 16<<10), key: key}, nil
}

// put returns c to the idle pool, or closes it when the pool is full or
// the transport closed.
func (t *Transport) put(c *conn) {
	max := t.MaxIdle
	if max <= 0 {
		max = 100
	}
	t.mu.Lock()
	if t.closed || len(t.idle[c.key]) >= max {
		t.mu.Unlock()
		c.nc.Close()
		return
	}
	if t.idle == nil {
		t.idle = map[string][]*conn{}
	}
	t.idle[c.key] = append(t.idle[c.key], c)
	t.mu.Unlock()
}

// CloseIdleConnections closes the idle connections (http.Client calls it).
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, cs := range idle {
		for _, c := range cs {
			c.nc.Close()
		}
	}
	t.senders.closeAll()
	t.loopConns.closeAll()
	if ci, ok := t.TLS.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// body is a response body: closing it after reading it to its end returns
// the connection to the pool; closing it early closes the connection.
type body struct {
	io.ReadCloser
	t    *Transport
	c    *conn
	keep bool
	stop func() bool
	eof  bool
	done bool
}

func (b *body) Read(p []byte) (int, error) {
	if b.done {
		return 0, errors.New("http1: read on closed response body")
	}
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *body) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	if !b.eof {
		// Read what is left of a short body, so the connection can be
		// reused; a long one is not worth it.
		if _, err := io.CopyN(io.Discard, b.ReadCloser, 256<<10); err == io.EOF {
			b.eof = true
		}
	}
	err := b.ReadCloser.Close()
	cancelled := b.stop != nil && !b.stop()
	if b.keep && b.eof && err == nil && !cancelled && b.c.br.Buffered() == 0 {
		b.t.put(b.c)
	} else {
		b.c.nc.Close()
	}
	return err
}
