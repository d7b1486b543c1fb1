package load

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
	"time"
)

// rawServer answers each request it reads with the next of replies,
// written byte for byte; a reply ending in "\x00close" is followed by
// closing the connection. It records the requests it got and counts the
// connections it accepted.
type rawServer struct {
	url      *url.URL
	accepted atomic.Int32
	mu       sync.Mutex
	got      []*http.Request
	bodies   []string
}

func newRawServer(t *testing.T, replies ...string) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &rawServer{}
	s.url, _ = url.Parse("http://" + ln.Addr().String())
	var next atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					b, _ := io.ReadAll(req.Body)
					s.mu.Lock()
					s.got = append(s.got, req)
					s.bodies = append(s.bodies, string(b))
					s.mu.Unlock()
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

func (s *rawServer) conn(timeout time.Duration) *senderConn {
	return &senderConn{addr: s.url.Host, host: s.url.Host, dialer: &net.Dialer{Timeout: time.Second}, timeout: timeout}
}

func getReq(u *url.URL, path string) *http.Request {
	v := *u
	v.Path = path
	return &http.Request{Method: http.MethodGet, URL: &v, Header: http.Header{"X-Memory-Space": {"s1"}}}
}

// framingCases are responses each reader must frame: the status it must
// report and how many connections two or three requests take when the
// others are answered "200, Content-Length: 2".
var framingCases = []struct {
	name     string
	reply    string
	status   int
	accepted int32
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

func TestSenderConnFramesResponses(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
	for _, tc := range framingCases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRawServer(t, tc.reply, ok)
			c := srv.conn(5 * time.Second)
			defer c.close()
			st, err := c.do(getReq(srv.url, "/api/v1/memories/search"))
			if err != nil || st != tc.status {
				t.Fatalf("first request: status %d, err %v; want %d", st, err, tc.status)
			}
			st, err = c.do(getReq(srv.url, "/health/alive"))
			if err != nil || st != 200 {
				t.Fatalf("second request: status %d, err %v; want 200", st, err)
			}
			if a := srv.accepted.Load(); a != tc.accepted {
				t.Errorf("connections: %d, want %d", a, tc.accepted)
			}
		})
	}
}

func TestSenderConnWritesTheRequest(t *testing.T) {
	srv := newRawServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	c := srv.conn(5 * time.Second)
	defer c.close()
	u := *srv.url
	u.Path, u.RawQuery = "/api/v1/memories/remember", "a=%5B1%2C2%5D"
	body := `{"content":"x"}`
	req := &http.Request{Method: http.MethodPost, URL: &u, Header: http.Header{"Content-Type": {"application/json"}, "X-Memory-Space": {"tenant-a"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}
	if st, err := c.do(req); err != nil || st != 200 {
		t.Fatalf("status %d, err %v", st, err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	g := srv.got[0]
	if g.Method != "POST" || g.URL.Path != u.Path || g.URL.RawQuery != u.RawQuery || g.Host != u.Host {
		t.Errorf("request line: %s %s?%s Host %s", g.Method, g.URL.Path, g.URL.RawQuery, g.Host)
	}
	if g.Header.Get("X-Memory-Space") != "tenant-a" || g.Header.Get("Content-Type") != "application/json" || g.ContentLength != int64(len(body)) {
		t.Errorf("headers: %v, length %d", g.Header, g.ContentLength)
	}
	if srv.bodies[0] != body {
		t.Errorf("body %q, want %q", srv.bodies[0], body)
	}
}

func TestSenderConnRejectsBadInput(t *testing.T) {
	srv := newRawServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "garbage\r\n\r\n")
	c := srv.conn(5 * time.Second)
	defer c.close()
	bad := getReq(srv.url, "/x")
	bad.Header.Set("X-Evil", "a\r\nInjected: 1")
	if _, err := c.do(bad); err == nil {
		t.Error("a header value with CR LF was sent")
	}
	for i := 0; i < 2; i++ {
		if st, err := c.do(getReq(srv.url, "/x")); err != nil || st != 200 {
			t.Fatalf("request %d: status %d, err %v", i, st, err)
		}
	}
	if _, err := c.do(getReq(srv.url, "/x")); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("malformed status line: err %v, want one saying malformed", err)
	}
}

// A server that closes an idle keep-alive connection without saying so:
// the next request, POST with a body included, goes out again on a new
// connection instead of failing.
func TestSenderConnRetriesAStaleConnection(t *testing.T) {
	srv := newRawServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n\x00close", "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
	c := srv.conn(5 * time.Second)
	defer c.close()
	if st, err := c.do(getReq(srv.url, "/first")); err != nil || st != 200 {
		t.Fatalf("first: %d %v", st, err)
	}
	time.Sleep(50 * time.Millisecond) // let the close arrive
	body := &reqBody{}
	body.Reset([]byte(`{"k":1}`))
	u := *srv.url
	u.Path = "/second"
	req := &http.Request{Method: http.MethodPost, URL: &u, Header: http.Header{}, Body: body, ContentLength: 7}
	if st, err := c.do(req); err != nil || st != 201 {
		t.Fatalf("second: status %d, err %v; want 201 after a retry", st, err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if n := len(srv.bodies); n != 2 || srv.bodies[1] != `{"k":1}` {
		t.Errorf("server got %d requests, bodies %q", n, srv.bodies)
	}
	if a := srv.accepted.Load(); a != 2 {
		t.Errorf("connections %d, want 2", a)
	}
}

func TestSenderConnTimeoutAndAbort(t *testing.T) {
	srv := newRawServer(t) // never answers
	c := srv.conn(100 * time.Millisecond)
	_, err := c.do(getReq(srv.url, "/slow"))
	if classify(err) != OutcomeTimeout {
		t.Errorf("no answer within the timeout: %v, classified %v; want a timeout", err, classify(err))
	}
	c.close()

	c = srv.conn(time.Minute)
	done := make(chan error, 1)
	go func() { _, err := c.do(getReq(srv.url, "/slow")); done <- err }()
	time.Sleep(50 * time.Millisecond)
	c.abort()
	select {
	case err := <-done:
		if err == nil {
			t.Error("an aborted request succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("abort did not end the request in progress")
	}
	if _, err := c.do(getReq(srv.url, "/after")); err == nil {
		t.Error("a request after abort was sent")
	}
	c.close()
}

func TestTransportRoundTrip(t *testing.T) {
	srv := newRawServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nworld")
	client := NewClient(4, 5*time.Second)
	defer client.CloseIdleConnections()
	var got []string
	for i := 0; i < 2; i++ {
		resp, err := client.Get(srv.url.String() + "/x")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got = append(got, string(b))
	}
	if strings.Join(got, " ") != "hello world" {
		t.Errorf("bodies %q", got)
	}
	if a := srv.accepted.Load(); a != 1 {
		t.Errorf("connections %d, want 1 (kept alive)", a)
	}
}
