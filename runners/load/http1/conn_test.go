package http1

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/runners/load/client"
	"github.com/engram/m18-gate/runners/load/internal/rawserver"
)

// rawConn is a sender connection to s.
func rawConn(s *rawserver.Server, timeout time.Duration) *senderConn {
	return &senderConn{addr: s.URL.Host, host: s.URL.Host, dialer: &net.Dialer{Timeout: time.Second}, timeout: timeout}
}

// seekBody is a request body that can be sent again.
type seekBody struct{ *bytes.Reader }

func (seekBody) Close() error { return nil }

func TestSenderConnFramesResponses(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
	for _, tc := range rawserver.Framing {
		t.Run(tc.Name, func(t *testing.T) {
			srv := rawserver.New(t, tc.Reply, ok)
			c := rawConn(srv, 5*time.Second)
			defer c.close()
			st, err := c.do(rawserver.Get(srv.URL, "/api/v1/memories/search"))
			if err != nil || st != tc.Status {
				t.Fatalf("first request: status %d, err %v; want %d", st, err, tc.Status)
			}
			st, err = c.do(rawserver.Get(srv.URL, "/health/alive"))
			if err != nil || st != 200 {
				t.Fatalf("second request: status %d, err %v; want 200", st, err)
			}
			if a := srv.Accepted.Load(); a != tc.Accepted {
				t.Errorf("connections: %d, want %d", a, tc.Accepted)
			}
		})
	}
}

func TestSenderConnWritesTheRequest(t *testing.T) {
	srv := rawserver.New(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	c := rawConn(srv, 5*time.Second)
	defer c.close()
	u := *srv.URL
	u.Path, u.RawQuery = "/api/v1/memories/remember", "a=%5B1%2C2%5D"
	body := `{"content":"x"}`
	req := &http.Request{Method: http.MethodPost, URL: &u, Header: http.Header{"Content-Type": {"application/json"}, "X-Memory-Space": {"tenant-a"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}
	if st, err := c.do(req); err != nil || st != 200 {
		t.Fatalf("status %d, err %v", st, err)
	}
	srv.Mu.Lock()
	defer srv.Mu.Unlock()
	g := srv.Got[0]
	if g.Method != "POST" || g.URL.Path != u.Path || g.URL.RawQuery != u.RawQuery || g.Host != u.Host {
		t.Errorf("request line: %s %s?%s Host %s", g.Method, g.URL.Path, g.URL.RawQuery, g.Host)
	}
	if g.Header.Get("X-Memory-Space") != "tenant-a" || g.Header.Get("Content-Type") != "application/json" || g.ContentLength != int64(len(body)) {
		t.Errorf("headers: %v, length %d", g.Header, g.ContentLength)
	}
	if srv.Bodies[0] != body {
		t.Errorf("body %q, want %q", srv.Bodies[0], body)
	}
}

func TestSenderConnRejectsBadInput(t *testing.T) {
	srv := rawserver.New(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "garbage\r\n\r\n")
	c := rawConn(srv, 5*time.Second)
	defer c.close()
	bad := rawserver.Get(srv.URL, "/x")
	bad.Header.Set("X-Evil", "a\r\nInjected: 1")
	if _, err := c.do(bad); err == nil {
		t.Error("a header value with CR LF was sent")
	}
	for i := 0; i < 2; i++ {
		if st, err := c.do(rawserver.Get(srv.URL, "/x")); err != nil || st != 200 {
			t.Fatalf("request %d: status %d, err %v", i, st, err)
		}
	}
	if _, err := c.do(rawserver.Get(srv.URL, "/x")); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("malformed status line: err %v, want one saying malformed", err)
	}
}

// A server that closes an idle keep-alive connection without saying so:
// the next request, POST with a body included, goes out again on a new
// connection instead of failing.
func TestSenderConnRetriesAStaleConnection(t *testing.T) {
	srv := rawserver.New(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n\x00close", "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
	c := rawConn(srv, 5*time.Second)
	defer c.close()
	if st, err := c.do(rawserver.Get(srv.URL, "/first")); err != nil || st != 200 {
		t.Fatalf("first: %d %v", st, err)
	}
	time.Sleep(50 * time.Millisecond) // let the close arrive
	body := seekBody{bytes.NewReader([]byte(`{"k":1}`))}
	u := *srv.URL
	u.Path = "/second"
	req := &http.Request{Method: http.MethodPost, URL: &u, Header: http.Header{}, Body: body, ContentLength: 7}
	if st, err := c.do(req); err != nil || st != 201 {
		t.Fatalf("second: status %d, err %v; want 201 after a retry", st, err)
	}
	srv.Mu.Lock()
	defer srv.Mu.Unlock()
	if n := len(srv.Bodies); n != 2 || srv.Bodies[1] != `{"k":1}` {
		t.Errorf("server got %d requests, bodies %q", n, srv.Bodies)
	}
	if a := srv.Accepted.Load(); a != 2 {
		t.Errorf("connections %d, want 2", a)
	}
}

func TestSenderConnTimeoutAndAbort(t *testing.T) {
	srv := rawserver.New(t) // never answers
	c := rawConn(srv, 100*time.Millisecond)
	_, err := c.do(rawserver.Get(srv.URL, "/slow"))
	if client.OutcomeOf(err) != client.OutcomeTimeout {
		t.Errorf("no answer within the timeout: %v, classified %v; want a timeout", err, client.OutcomeOf(err))
	}
	c.close()

	c = rawConn(srv, time.Minute)
	done := make(chan error, 1)
	go func() { _, err := c.do(rawserver.Get(srv.URL, "/slow")); done <- err }()
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
	if _, err := c.do(rawserver.Get(srv.URL, "/after")); err == nil {
		t.Error("a request after abort was sent")
	}
	c.close()
}

func TestTransportRoundTrip(t *testing.T) {
	srv := rawserver.New(t, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nworld")
	client := NewClient(4, 5*time.Second)
	defer client.CloseIdleConnections()
	var got []string
	for i := 0; i < 2; i++ {
		resp, err := client.Get(srv.URL.String() + "/x")
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
	if a := srv.Accepted.Load(); a != 1 {
		t.Errorf("connections %d, want 1 (kept alive)", a)
	}
}
