// Package rawserver is a scripted HTTP/1.1 server for the load client's
// tests: it answers byte for byte what the test wrote, malformed or not,
// so that framing, keep-alive and retries can be tested against replies
// net/http would never send.
package rawserver

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Server answers each request it reads with the next of replies,
// written byte for byte; a reply ending in "\x00close" is followed by
// closing the connection. It records the requests it got and counts the
// connections it accepted.
type Server struct {
	URL      *url.URL
	Accepted atomic.Int32
	Mu       sync.Mutex // guards Got and Bodies
	Got      []*http.Request
	Bodies   []string
}

// New starts a Server on loopback for the test's lifetime.
func New(t testing.TB, replies ...string) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &Server{}
	s.URL, _ = url.Parse("http://" + ln.Addr().String())
	var next atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.Accepted.Add(1)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					b, _ := io.ReadAll(req.Body)
					s.Mu.Lock()
					s.Got = append(s.Got, req)
					s.Bodies = append(s.Bodies, string(b))
					s.Mu.Unlock()
					i := int(next.Add(1)) - 1
					if i >= len(replies) {
						io.Copy(io.Discard, br) // no reply: the client waits
						return
					}
					r, closeAfter := strings.CutSuffix(replies[i], "\x00close")
					if _, err := io.WriteString(c, r); err != nil || closeAfter {
						return
					}
				}
			}()
		}
	}()
	return s
}

// Get is a GET request of path on u's host.
func Get(u *url.URL, path string) *http.Request {
	v := *u
	v.Path = path
	return &http.Request{Method: http.MethodGet, URL: &v, Header: http.Header{"X-Memory-Space": {"s1"}}}
}

// Framing are responses each reader must frame: the status it must
// report and how many connections two or three requests take when the
// others are answered "200, Content-Length: 2".
var Framing = []struct {
	Name     string
	Reply    string
	Status   int
	Accepted int32
}{
	{"content-length keeps the connection", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\nhello", 200, 1},
	{"chunked with a trailer keeps it", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n4\r\n abc\r\n0\r\nX-Trailer: 1\r\n\r\n", 200, 1},
	{"chunked, upper case header names", "HTTP/1.1 404 Not Found\r\nTRANSFER-ENCODING: Chunked\r\n\r\n2\r\nno\r\n0\r\n\r\n", 404, 1},
	{"Connection: close drops it", "HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbusy\x00close", 503, 2},
	{"HTTP/1.0 without a length reads to the end", "HTTP/1.0 200 OK\r\n\r\nall of it\x00close", 200, 2},
	{"HTTP/1.0 keep-alive keeps it", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}", 200, 1},
	{"204 has no body", "HTTP/1.1 204 No Content\r\n\r\n", 204, 1},
	{"100 Continue is skipped", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 201, 1},
}
