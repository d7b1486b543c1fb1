package target

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// shutdownGrace is how long a graceful shutdown waits for requests in flight
// before closing connections.
const shutdownGrace = 5 * time.Second

// Instance is a Server listening on a loopback port in this process.
type Instance struct {
	srv  *Server
	hs   *http.Server
	url  string
	done chan error
}

// Start runs a Server with options o on 127.0.0.1 at an ephemeral port, in
// this process. Close it when done.
func Start(o Options) (*Instance, error) {
	s, err := NewServer(o)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("target: listen on 127.0.0.1:0: %w", err)
	}
	i := &Instance{srv: s, hs: newHTTPServer(s), url: "http://" + ln.Addr().String(), done: make(chan error, 1)}
	go func() { i.done <- i.hs.Serve(ln) }()
	s.log.Info("m18-target listening", "url", i.url)
	return i, nil
}

// URL returns the base URL, "http://127.0.0.1:PORT".
func (i *Instance) URL() string { return i.url }

// Server returns the running Server, for Len, Leaked and Registry.
func (i *Instance) Server() *Server { return i.srv }

// Close shuts the instance down gracefully: it stops accepting, lets
// requests in flight finish (at most 5 s), then stops the server's
// background work.
func (i *Instance) Close() error {
	err := shutdown(i.hs, i.srv)
	if serr := <-i.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// ListenAndServe serves a Server with options o on addr until ctx is
// cancelled, then shuts down gracefully. It does not check that addr is
// loopback; callers exposed to users should call CheckLoopback first.
func ListenAndServe(ctx context.Context, addr string, o Options) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("target: listen on %s: %w", addr, err)
	}
	return Serve(ctx, ln, o)
}

// Serve is ListenAndServe on a listener the caller opened (so it can print
// the address first). It closes ln.
func Serve(ctx context.Context, ln net.Listener, o Options) error {
	s, err := NewServer(o)
	if err != nil {
		ln.Close()
		return err
	}
	hs := newHTTPServer(s)
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	s.log.Info("m18-target listening", "url", "http://"+ln.Addr().String())
	select {
	case err := <-done:
		s.Close()
		return fmt.Errorf("target: serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	s.log.Info("m18-target shutting down")
	err = shutdown(hs, s)
	if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// CheckLoopback returns an error unless addr ("host:port") names a loopback
// host: 127.0.0.0/8, ::1 or localhost. An empty host means every interface
// and is refused.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("target: address %q: %v; want host:port such as 127.0.0.1:7432", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("target: address %q is not loopback; use 127.0.0.1:PORT, or pass --allow-remote to listen on it on purpose", addr)
}

func newHTTPServer(s *Server) *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
	}
}

// shutdown stops hs gracefully, forcing it after shutdownGrace, and closes s.
// s is closed after the grace period so that requests held in a stall or the
// capacity queue finish normally when they can.
func shutdown(hs *http.Server, s *Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := hs.Shutdown(ctx)
	s.Close()
	if errors.Is(err, context.DeadlineExceeded) {
		return hs.Close()
	}
	return err
}
