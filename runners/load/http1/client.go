package http1

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/engram/m18-gate/runners/load/client"
)

// Workload turns scheduled operations into HTTP requests: it is what an
// HTTP API's load client writes (package engram is Engram's; a
// competitor's adapter is another), and New makes it a client.Client.
type Workload interface {
	// NewSender returns the request builder of one connection (one sender
	// goroutine, or one of the event loop's connections); it may keep
	// buffers from one request to the next.
	NewSender() Sender
}

// Sender builds the requests of one connection, one at a time.
type Sender interface {
	// Request returns the request for operation op with sequence number
	// seq (a Store of number seq writes a new item). It may reuse memory
	// of the previous request of the same Sender: it is called again only
	// after that one's response was read. ctx is the request's context.
	// The request's URL decides where it goes: http:// on the fast paths,
	// anything else (https://) through the http.Client given to New.
	Request(ctx context.Context, op client.Op, seq uint64) (*http.Request, error)
}

// Client sends a Workload's requests: a client.Client, and a
// client.Driver on Linux when its http.Client's transport is this
// package's Transport (NewClient's). Its three paths:
//
//   - the event loop (Drive): one goroutine keeps the schedule and every
//     connection over non-blocking sockets and epoll (loop_linux.go);
//   - sender connections (NewConn, with a Transport): each sender
//     goroutine writes and reads its own keep-alive connection
//     (conn.go), framing responses with the loop's framer (respframe.go);
//   - any other http.Client, and https:// requests: http.Client.Do, the
//     body read to its end.
//
// Connections are kept from one phase to the next in the Transport.
type Client struct {
	hc *http.Client
	w  Workload
	t  *Transport // nil: every request through hc
}

// New returns the Client that sends w's requests through hc.
func New(hc *http.Client, w Workload) *Client {
	c := &Client{hc: hc, w: w}
	c.t, _ = hc.Transport.(*Transport)
	return c
}

// NewClient returns an HTTP client tuned for an open-loop load: keep-alive
// HTTP/1.1 connections, one kept idle per possible in-flight request, each
// request sent and read by its sender goroutine without hand-offs (see
// Transport), no proxy, no compression, and a whole-request timeout.
func NewClient(maxInFlight int, timeout time.Duration) *http.Client {
	return &http.Client{Transport: NewTransport(maxInFlight, timeout)}
}

// NewConn implements client.Client.
func (c *Client) NewConn() client.Conn {
	return &sender{c: c, b: c.w.NewSender()}
}

// sender is one sender goroutine's client.Conn: its request builder and,
// when the Client has a Transport, its own connection.
type sender struct {
	c    *Client
	b    Sender
	conn *senderConn

	// ctx is the phase's context of the last Do; stop ends the watch that
	// aborts the connection when it ends.
	ctx  context.Context
	stop func() bool
	mu   sync.Mutex
	done bool // ctx ended: every later connection starts aborted
}

// Do implements client.Conn.
func (s *sender) Do(ctx context.Context, op client.Op, seq uint64) (time.Time, client.Outcome) {
	if ctx != s.ctx {
		s.watch(ctx)
	}
	req, err := s.b.Request(ctx, op, seq)
	sent := time.Now()
	if err != nil {
		return sent, client.OutcomeConnection
	}
	if sc := s.open(req); sc != nil {
		status, err := sc.do(req)
		if err != nil {
			return sent, client.OutcomeOf(err)
		}
		return sent, client.Outcome(status)
	}
	return sent, do(s.c.hc, req)
}

// watch makes the end of ctx abort the sender's connection, so that a
// request in flight when the phase is interrupted returns at once.
func (s *sender) watch(ctx context.Context) {
	if s.stop != nil {
		s.stop()
	}
	s.ctx = ctx
	s.stop = context.AfterFunc(ctx, s.abort)
}

func (s *sender) abort() {
	s.mu.Lock()
	s.done = true
	c := s.conn
	s.mu.Unlock()
	if c != nil {
		c.abort()
	}
}

// open returns the sender's connection for req, or nil when req goes
// through the http.Client (no Transport, or not plain http://).
func (s *sender) open(req *http.Request) *senderConn {
	t := s.c.t
	if t == nil || req.URL == nil || req.URL.Scheme != "http" {
		return nil
	}
	if s.conn != nil && s.conn.host == req.URL.Host {
		return s.conn
	}
	s.release()
	c := t.senders.get(req.URL.Host)
	if c == nil {
		c = &senderConn{addr: hostPort(req.URL), host: req.URL.Host, dialer: &t.dialer, timeout: t.Timeout}
	}
	s.mu.Lock()
	s.conn = c
	done := s.done
	s.mu.Unlock()
	if done {
		c.abort()
	}
	return c
}

// release hands the sender's connection to the pool for the next phase.
func (s *sender) release() {
	s.mu.Lock()
	c := s.conn
	s.conn = nil
	s.mu.Unlock()
	if c != nil {
		s.c.t.senders.put(c, max(s.c.t.MaxIdle, 1))
	}
}

// Close implements client.Conn.
func (s *sender) Close() {
	if s.stop != nil {
		s.stop()
	}
	s.release()
}

// do sends req through hc and reads its response to the end.
func do(hc *http.Client, req *http.Request) client.Outcome {
	resp, err := hc.Do(req)
	if err != nil {
		return client.OutcomeOf(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return client.OutcomeOf(err)
	}
	return client.Outcome(resp.StatusCode)
}

// connPool keeps the open connections of senders that ended, for the
// senders of the next phase.
type connPool struct {
	mu   sync.Mutex
	idle []*senderConn
}

func (p *connPool) get(host string) *senderConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.idle) - 1; i >= 0; i-- {
		if c := p.idle[i]; c.host == host {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			return c
		}
	}
	return nil
}

// put keeps c when it is open and was not aborted, up to max connections.
func (p *connPool) put(c *senderConn, max int) {
	c.mu.Lock()
	ok := c.nc != nil && !c.aborted
	c.mu.Unlock()
	if ok {
		p.mu.Lock()
		if len(p.idle) < max {
			p.idle = append(p.idle, c)
			c = nil
		}
		p.mu.Unlock()
	}
	if c != nil {
		c.close()
	}
}

// closeAll closes the idle connections.
func (p *connPool) closeAll() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), "80")
}
