package load

import (
	"net"
	"net/http"
	"testing"
)

// serveRaw accepts connections on a loopback port until the test ends and
// hands each to handle in its own goroutine (closing it after); it returns
// the address. For servers that answer below net/http.
func serveRaw(tb testing.TB, handle func(c net.Conn)) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// path is one way the engine sends, every one through the client.Client
// interface (Engine.Transport): the HTTP client's event loop (its
// client.Driver), its sender connections (client.Conn on the package's
// own HTTP/1.1 connections), and client.Conn over a standard net/http
// client, the generic path any other client takes.
type path struct {
	name    string
	senders bool // the engine's sender goroutines, not the client's Driver
	std     bool // a standard net/http client instead of NewClient's
}

// use makes e send on path p and returns e.
func (p path) use(e *Engine) *Engine {
	e.Senders = p.senders
	if p.std && e.Client != nil {
		tr := e.Client.Transport.(*Transport)
		e.Client = &http.Client{Timeout: tr.Timeout, Transport: &http.Transport{MaxIdleConnsPerHost: e.maxInFlight(), DisableCompression: true}}
	}
	return e
}

// forEachPath runs f with the HTTP client's event loop (where the system
// has one) and with its sender connections.
func forEachPath(t *testing.T, f func(t *testing.T, senders bool)) {
	t.Run("loop", func(t *testing.T) { f(t, false) })
	t.Run("senders", func(t *testing.T) { f(t, true) })
}

// forEachClient runs f on every path.
func forEachClient(t *testing.T, f func(t *testing.T, p path)) {
	for _, p := range []path{{name: "loop"}, {name: "senders", senders: true}, {name: "std", senders: true, std: true}} {
		t.Run(p.name, func(t *testing.T) { f(t, p) })
	}
}
