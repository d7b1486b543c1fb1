// Package http1 is the load engine's HTTP/1.1 client: a client.Client and
// client.Driver (see package client) that sends a Workload's requests over
// keep-alive connections at tens of thousands of requests a second on one
// core.
//
// Its paths, fastest first: the event loop (loop_linux.go), one goroutine
// keeping the schedule and every connection over non-blocking sockets and
// epoll; sender connections (conn.go), each written and read by its sender
// goroutine; and any other http.Client (https://, or a client the caller
// built). Responses are framed as they stream in (respframe.go) and their
// bodies only counted. Transport is also an http.RoundTripper, for the
// preload and the callers' own requests.
//
// Its opinion: a generator must not pay per request for what it does not
// need. No goroutine hand-off, no per-request timer, no parsed header map:
// only the status, the framing and whether the connection stays open.
// It speaks HTTP/1.1 only, one request per connection at a time.
package http1
