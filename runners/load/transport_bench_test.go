package load

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/dataset"
	"github.com/engram/m18-gate/runners/scenario"
)

// cannedServer answers every bodiless request on loopback with a fixed
// 200 response, reading and allocating as little as it can, so that a
// benchmark of the sending side measures the sending side.
func cannedServer(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReaderSize(c, 64<<10)
				end := []byte("\r\n\r\n")
				var pending []byte
				for {
					buf, err := br.Peek(1)
					if err != nil {
						return
					}
					n := br.Buffered()
					buf, _ = br.Peek(n)
					pending = append(pending, buf...)
					br.Discard(n)
					for {
						i := bytes.Index(pending, end)
						if i < 0 {
							break
						}
						pending = pending[i+len(end):]
						if _, err := c.Write(resp); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// BenchmarkSend is the cost of one search request as the engine sends it:
// build, write, read, drain, classify (the server's share is tiny). "conn"
// is the engine's path with NewClient (a connection per sender), "client"
// the same request through http.Client with Transport, "std" through
// net/http's own Transport, for comparison.
func BenchmarkSend(b *testing.B) {
	base, _ := url.Parse(cannedServer(b))
	data := dataset.New(scenario.Data{NumNodes: 1000, EmbeddingDim: 768, MemorySpaces: 1}, 1)
	for _, bc := range []struct {
		name   string
		client *http.Client
		fast   bool
	}{
		{"conn", NewClient(10, 10*time.Second), true},
		{"client", NewClient(10, 10*time.Second), false},
		{"std", &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 10, DisableCompression: true}, Timeout: 10 * time.Second}, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := &Engine{Client: bc.client, Workload: &Engram{Base: base, Data: data, Dim: 768, NumNodes: 1000}}
			conns := &connSet{}
			if bc.fast {
				conns = newConnSet(bc.client)
			}
			ws := &senderState{sender: e.Workload.NewSender(), conns: conns}
			defer ws.close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			start := time.Now()
			b.ReportAllocs()
			cpu0 := testenv.CPUTime()
			for i := 0; b.Loop(); i++ {
				smp := e.send(ctx, ws, item{op: Search, seq: uint64(i), intended: time.Since(start)}, start)
				if !smp.Outcome.OK() {
					b.Fatalf("outcome %v", smp.Outcome)
				}
			}
			// Both ends are in this process: CPU per send counts the
			// server's (small) share too.
			testenv.ReportCPU(b, cpu0)
		})
	}
}
