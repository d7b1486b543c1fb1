package load

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/arrival"
	"github.com/engram/m18-gate/runners/dataset"
	"github.com/engram/m18-gate/runners/load/http1"
	"github.com/engram/m18-gate/runners/scenario"
)

// cannedServer answers every bodiless request on loopback with a fixed
// 200 response, reading and allocating as little as it can, so that a
// benchmark of the sending side measures the sending side.
func cannedServer(tb testing.TB) string {
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
	return "http://" + serveRaw(tb, func(c net.Conn) {
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
	})
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
	}{
		// A sender's own connection (http1's Conn on its Transport).
		{"conn", NewClient(10, 10*time.Second)},
		// The Transport as an http.RoundTripper under http.Client.
		{"client", &http.Client{Transport: struct{ http.RoundTripper }{NewTransport(10, 10*time.Second)}}},
		{"std", &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 10, DisableCompression: true}, Timeout: 10 * time.Second}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := http1.New(bc.client, &Engram{Base: base, Data: data, Dim: 768, NumNodes: 1000}).NewConn()
			defer c.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			b.ReportAllocs()
			cpu0 := testenv.CPUTime()
			for i := 0; b.Loop(); i++ {
				if _, o := c.Do(ctx, Search, uint64(i)); !o.OK() {
					b.Fatalf("outcome %v", o)
				}
			}
			// Both ends are in this process: CPU per send counts the
			// server's (small) share too.
			testenv.ReportCPU(b, cpu0)
		})
	}
}

// BenchmarkPhase is the generator's cost of a request inside a whole
// phase, scheduler included, against scripts/internal/trivialserver run as
// a separate process (in one process the target's goroutines would share
// the generator's Go scheduler, which flatters sender goroutines): b.N
// search requests due at once (1 000 000/s) with at most 8 in flight, sent
// by the event loop ("loop", the engine's path on Linux) or by sender
// goroutines ("senders", its path elsewhere). cpu-ns/op is this process's
// CPU only.
func BenchmarkPhase(b *testing.B) {
	srv := filepath.Join(b.TempDir(), "trivialserver")
	testenv.Build(b, srv, "./scripts/internal/trivialserver")
	cmd := exec.Command(srv)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("trivialserver: %v", err)
	}
	base, _ := url.Parse(strings.TrimSpace(line))
	data := dataset.New(scenario.Data{NumNodes: 1000, EmbeddingDim: 768, MemorySpaces: 1}, 1)
	never := Limits{LateAfter: time.Hour, DropAfter: time.Hour, MaxLateFraction: 1, MaxDroppedFraction: 1}
	for _, bc := range []struct {
		name    string
		senders bool
	}{{"loop", false}, {"senders", true}} {
		b.Run(bc.name, func(b *testing.B) {
			client := NewClient(8, 10*time.Second)
			defer client.CloseIdleConnections()
			e := &Engine{Client: client, Workload: &Engram{Base: base, Data: data, Dim: 768, NumNodes: 1000},
				MaxInFlight: 8, Limits: never, Senders: bc.senders}
			m, err := NewMix([numOps]float64{Search: 1}, 1)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := testenv.CPUTime()
			res, err := e.Run(context.Background(), Phase{Pacer: arrival.Regular{Shape: arrival.Flat(1e6)}, Mix: m,
				Duration: time.Hour, MaxRequests: uint64(b.N)})
			if err != nil {
				b.Fatal(err)
			}
			testenv.ReportCPU(b, cpu0)
			if res.Recorder.Errors() != 0 || res.Recorder.Count() != uint64(b.N) {
				b.Fatalf("%d samples, %d errors; want %d, none", res.Recorder.Count(), res.Recorder.Errors(), b.N)
			}
		})
	}
}
