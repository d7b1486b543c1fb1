package http1

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// senderConn is the keep-alive HTTP/1.1 connection of one sender
// goroutine: the engine's fast path. It writes a request straight from the
// fields of an *http.Request and reads only what it needs of the response
// (status, framing, keep-alive) before discarding the body, so that a send
// costs two system calls and almost no allocation. Its sender is its only
// user; abort may be called from another goroutine.
type senderConn struct {
	addr    string // host:port
	host    string // the Host header
	dialer  *net.Dialer
	timeout time.Duration

	mu      sync.Mutex // guards nc and aborted against abort
	nc      net.Conn
	aborted bool

	br   *bufio.Reader
	bw   *bufio.Writer
	wbuf []byte // the request being written
	fr   respFramer
}

var errAborted = errors.New("http1: run interrupted")

// abort makes the send in progress, and every later one, fail at once.
func (c *senderConn) abort() {
	c.mu.Lock()
	c.aborted = true
	if c.nc != nil {
		c.nc.SetDeadline(longAgo)
	}
	c.mu.Unlock()
}

// close closes the connection; the next send dials a new one.
func (c *senderConn) close() {
	c.mu.Lock()
	if c.nc != nil {
		c.nc.Close()
		c.nc = nil
	}
	c.mu.Unlock()
}

// connect dials when there is no open connection.
func (c *senderConn) connect() (reused bool, err error) {
	c.mu.Lock()
	aborted, nc := c.aborted, c.nc
	c.mu.Unlock()
	if aborted {
		return false, errAborted
	}
	if nc != nil {
		return true, nil
	}
	nc, err = c.dialer.Dial("tcp", c.addr)
	if err != nil {
		return false, err
	}
	c.mu.Lock()
	if c.aborted {
		c.mu.Unlock()
		nc.Close()
		return false, errAborted
	}
	c.nc = nc
	c.mu.Unlock()
	if c.br == nil {
		c.br = bufio.NewReaderSize(nc, 16<<10)
		c.bw = bufio.NewWriterSize(nc, 16<<10)
	} else {
		c.br.Reset(nc)
		c.bw.Reset(nc)
	}
	return false, nil
}

// do sends req and reads its response to the end. It returns the status
// code, or an error for a request that got no complete response. A request
// on a reused connection that fails before any byte of the response came
// back (the server closed the idle connection) is sent once more on a new
// connection, when its body can be rewound.
func (c *senderConn) do(req *http.Request) (int, error) {
	var mark int64 = -1
	if s, ok := req.Body.(io.Seeker); ok && req.Body != nil {
		if p, err := s.Seek(0, io.SeekCurrent); err == nil {
			mark = p
		}
	}
	defer func() {
		if req.Body != nil {
			req.Body.Close()
		}
	}()
	for attempt := 0; ; attempt++ {
		reused, err := c.connect()
		if err != nil {
			return 0, err
		}
		status, fresh, err := c.exchange(req)
		if err == nil {
			return status, nil
		}
		c.close()
		if !fresh || !reused || attempt > 0 {
			return 0, err
		}
		if req.Body != nil && req.Body != http.NoBody {
			s, ok := req.Body.(io.Seeker)
			if !ok || mark < 0 {
				return 0, err
			}
			if _, serr := s.Seek(mark, io.SeekStart); serr != nil {
				return 0, err
			}
		}
	}
}

// exchange writes req and reads the response. fresh reports a failure
// before any byte of a response was read.
func (c *senderConn) exchange(req *http.Request) (status int, fresh bool, err error) {
	if c.timeout > 0 {
		c.mu.Lock()
		if c.aborted {
			c.mu.Unlock()
			return 0, false, errAborted
		}
		c.nc.SetDeadline(time.Now().Add(c.timeout))
		c.mu.Unlock()
	}
	if err := c.writeRequest(req); err != nil {
		return 0, true, err
	}
	if _, err := c.br.Peek(1); err != nil {
		return 0, errors.Is(err, io.EOF) || isReset(err), err
	}
	status, keep, err := c.readResponse(req.Method == http.MethodHead)
	if err != nil {
		return 0, false, err
	}
	if !keep {
		c.close()
	}
	return status, false, nil
}

// writeRequest writes req as HTTP/1.1 to the buffered writer and flushes.
func (c *senderConn) writeRequest(req *http.Request) error {
	b, err := appendRequest(c.wbuf[:0], req, c.host)
	c.wbuf = b
	if err != nil {
		return err
	}
	if _, err := c.bw.Write(b); err != nil {
		return err
	}
	return c.bw.Flush()
}

// appendRequest appends req, written as HTTP/1.1, to dst: the request line,
// Host (req.Host, else host), User-Agent unless req sets one, req's
// headers, Content-Length for a body or a POST, PUT or PATCH, Connection:
// close when req.Close, and the body read to its end. The body must have
// its ContentLength.
func appendRequest(dst []byte, req *http.Request, host string) ([]byte, error) {
	dst = append(dst, req.Method...)
	dst = append(dst, ' ')
	if req.URL.Opaque != "" {
		dst = append(dst, req.URL.Opaque...)
	} else {
		p := req.URL.EscapedPath()
		if p == "" {
			p = "/"
		}
		dst = append(dst, p...)
	}
	if req.URL.RawQuery != "" {
		dst = append(dst, '?')
		dst = append(dst, req.URL.RawQuery...)
	}
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	if req.Host != "" {
		host = req.Host
	}
	dst = append(dst, host...)
	dst = append(dst, "\r\n"...)
	if _, ok := req.Header["User-Agent"]; !ok {
		dst = append(dst, "User-Agent: m18-run\r\n"...)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n") || strings.ContainsAny(k, "\r\n: ") {
				return dst, fmt.Errorf("http1: header %q has an invalid name or value", k)
			}
			dst = append(dst, k...)
			dst = append(dst, ": "...)
			dst = append(dst, v...)
			dst = append(dst, "\r\n"...)
		}
	}
	hasBody := req.Body != nil && req.Body != http.NoBody
	if hasBody || req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch {
		if hasBody && req.ContentLength <= 0 {
			return dst, fmt.Errorf("http1: %s %s: a body needs its ContentLength", req.Method, req.URL.Path)
		}
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, max(req.ContentLength, 0), 10)
		dst = append(dst, "\r\n"...)
	}
	if req.Close {
		dst = append(dst, "Connection: close\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	if hasBody {
		head := len(dst)
		buf := bytes.NewBuffer(dst)
		_, err := buf.ReadFrom(req.Body)
		dst = buf.Bytes()
		if err != nil {
			return dst, err
		}
		if n := int64(len(dst) - head); n != req.ContentLength {
			return dst, fmt.Errorf("http1: %s %s: body was %d bytes, ContentLength %d", req.Method, req.URL.Path, n, req.ContentLength)
		}
	}
	return dst, nil
}

// errMalformed is returned for a response this reader cannot frame.
var errMalformed = errors.New("malformed HTTP response")

// readResponse reads one response to its end (informational ones skipped)
// through the connection's framer, keeping none of the body. keep says
// whether the connection may carry the next request.
func (c *senderConn) readResponse(head bool) (status int, keep bool, err error) {
	c.fr.reset(head)
	for {
		if _, err := c.br.Peek(1); err != nil {
			if err == io.EOF {
				if done, ferr := c.fr.eof(); !done {
					return 0, false, ferr
				}
				return c.fr.status(), false, nil
			}
			return 0, false, err
		}
		b, _ := c.br.Peek(c.br.Buffered())
		n, done, err := c.fr.feed(b)
		c.br.Discard(n)
		switch {
		case err != nil:
			return 0, false, err
		case done:
			// Bytes beyond the response are none a request asked for.
			return c.fr.status(), c.fr.keep() && c.br.Buffered() == 0, nil
		}
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// containsFold reports whether b contains s (lower case ASCII) ignoring
// case, without the copy bytes.ToLower would make on every response.
func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if equalFold(b[i:i+len(s)], s) {
			return true
		}
	}
	return false
}

// equalFold reports whether b is s (lower case ASCII) ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
