package competitor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/load/client"
	"github.com/engram/m18-gate/runners/load/engram"
	"github.com/engram/m18-gate/runners/load/http1"
	"github.com/engram/m18-gate/runners/result"
)

// Build encodes one operation of an HTTP competitor: it appends the body
// to body and returns the method and the path (relative to the base URL,
// with its query). vec is scratch space of the embedding's dimension.
type Build func(op client.Op, seq uint64, vec []float32, body []byte) (method, path string, out []byte)

// HTTPClient returns the engine's client for an HTTP competitor: the
// workload that Build encodes, sent by http1 (its event loop on Linux),
// exactly as Engram's requests are.
func HTTPClient(base *url.URL, s load.AdapterSetup, build Build, header http.Header) client.Client {
	w := &workload{base: base, dim: s.Dim, build: build, header: header}
	return http1.New(http1.NewClient(s.MaxInFlight, s.Timeout), w)
}

type workload struct {
	base   *url.URL
	dim    int
	build  Build
	header http.Header
}

func (w *workload) NewSender() http1.Sender {
	h := w.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/json")
	return &sender{w: w, vec: make([]float32, w.dim), hdr: h}
}

type sender struct {
	w    *workload
	vec  []float32
	buf  []byte
	body *reqBody
	hdr  http.Header
}

// reqBody is a reusable body, reused only once the transport closed it.
type reqBody struct {
	bytes.Reader
	closed atomic.Bool
}

func (b *reqBody) Close() error { b.closed.Store(true); return nil }

func (s *sender) Request(ctx context.Context, op client.Op, seq uint64) (*http.Request, error) {
	if s.body != nil && !s.body.closed.Load() {
		s.body, s.buf = nil, nil
	}
	method, path, buf := s.w.build(op, seq, s.vec, s.buf[:0])
	s.buf = buf
	u := *s.w.base
	p, q, _ := strings.Cut(path, "?")
	u.Path, u.RawPath, u.RawQuery = strings.TrimRight(u.Path, "/")+p, "", q
	req := (&http.Request{Method: method, URL: &u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: s.hdr, Host: u.Host}).WithContext(ctx)
	if len(buf) > 0 {
		if s.body == nil {
			s.body = &reqBody{}
		}
		s.body.closed.Store(false)
		s.body.Reset(buf)
		req.Body, req.ContentLength = s.body, int64(len(buf))
	}
	return req, nil
}

// ParseURL parses an HTTP competitor's --competitor-url, or says what one
// looks like.
func ParseURL(name, raw, example string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s: --competitor-url %q is not an http:// URL (example: %s)", name, raw, example)
	}
	return u, nil
}

// Call sends one request of the setup (schema, preload, version, a probe)
// and decodes a JSON answer into out (when not nil). A status other than
// 2xx is an error quoting the start of the answer.
func Call(ctx context.Context, hc *http.Client, method, u string, header http.Header, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %v", method, u, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, snippet(data))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: answer is not the expected JSON (%v): %s", method, u, err, snippet(data))
		}
	}
	return nil
}

// Probe sends one operation of each of ops through build, the way the
// load will, and hands each answer to check: the load counts HTTP
// statuses only, so an error a system reports inside a 200 answer
// (GraphQL's and Cypher's errors arrays) is caught here, before the run.
func Probe(ctx context.Context, base *url.URL, s load.AdapterSetup, build Build, header http.Header, check func(op client.Op, answer []byte) error) error {
	hc := &http.Client{Timeout: 30 * time.Second}
	vec := make([]float32, s.Dim)
	for _, op := range s.Ops {
		// A probe's store writes a node far above anything the run
		// stores, so it never collides with one.
		seq := uint64(1) << 40
		if op != client.Store {
			seq = 0
		}
		method, path, body := build(op, seq, vec, nil)
		var raw json.RawMessage
		if err := Call(ctx, hc, method, strings.TrimRight(base.String(), "/")+path, header, nonNil(body, method), &raw); err != nil {
			return fmt.Errorf("probe of %s: %v", op, err)
		}
		if check != nil {
			if err := check(op, raw); err != nil {
				return fmt.Errorf("probe of %s: %v", op, err)
			}
		}
	}
	return nil
}

func nonNil(b []byte, method string) []byte {
	if b == nil && method != http.MethodGet {
		return []byte{}
	}
	return b
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// AppendVector appends v as a JSON array, as Engram's bodies carry it
// (engram.AppendVector).
func AppendVector(b []byte, v []float32) []byte { return engram.AppendVector(b, v) }

// AppendIDs appends ids as a JSON array of numbers.
func AppendIDs(b []byte, ids []uint64) []byte {
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, id, 10)
	}
	return append(b, ']')
}

// Batches calls f with consecutive ranges [lo, hi) of 0…n-1, size at most
// batch, reporting progress every second through s.Progress.
func Batches(ctx context.Context, s load.AdapterSetup, name string, n uint64, batch uint64, f func(lo, hi uint64) error) error {
	start, last := time.Now(), time.Now()
	for lo := uint64(0); lo < n; lo += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+batch, n)
		if err := f(lo, hi); err != nil {
			return fmt.Errorf("preload of nodes %d-%d into %s: %v", lo, hi-1, name, err)
		}
		if s.Progress != nil && time.Since(last) > time.Second {
			last = time.Now()
			s.Progress("%-14s %5.0fs  %7d/%d nodes\n", "preload", time.Since(start).Seconds(), hi, n)
		}
	}
	return nil
}

// JSONBatches preloads s.Nodes nodes in batches of batch (through
// Batches), each batch one JSON body: head, the nodes appended by node
// (with their links and a scratch vector of s.Dim) separated by commas,
// then tail; send sends a body. It returns the preload's figures.
func JSONBatches(ctx context.Context, s load.AdapterSetup, name string, batch uint64, head, tail string,
	node func(b []byte, i uint64, links []uint64, vec []float32) []byte, send func(body []byte) error) (*result.Preload, error) {
	start := time.Now()
	vec := make([]float32, s.Dim)
	var nb []uint64
	err := Batches(ctx, s, name, s.Nodes, batch, func(lo, hi uint64) error {
		b := []byte(head)
		for i := lo; i < hi; i++ {
			if i > lo {
				b = append(b, ',')
			}
			nb = Neighbors(nb[:0], i, s.Nodes)
			b = node(b, i, nb, vec)
		}
		return send(append(b, tail...))
	})
	if err != nil {
		return nil, err
	}
	return Preloaded(s.Nodes, time.Since(start)), nil
}

// Preloaded is the preload's figures: nodes stored in el.
func Preloaded(nodes uint64, el time.Duration) *result.Preload {
	return &result.Preload{Nodes: int(nodes), DurationSeconds: el.Seconds(), RatePerSecond: float64(nodes) / max(el.Seconds(), 1e-9)}
}

// Discover is the first step of every adapter's Describe: it refuses ops
// the mapping cannot express, parses raw (example shows a valid URL), and
// GETs path from the server into out (the document that carries its
// version), bounded by 10 s. It returns the parsed base URL.
func Discover(ctx context.Context, name string, m Mapping, ops []client.Op, raw, example, path string, header http.Header, out any) (*url.URL, error) {
	if err := m.Check(name, ops); err != nil {
		return nil, err
	}
	u, err := ParseURL(name, raw, example)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	if err := Call(ctx, hc, http.MethodGet, JoinURL(u, path), header, nil, out); err != nil {
		return nil, fmt.Errorf("%s at %s did not answer: %v", name, raw, err)
	}
	return u, nil
}

// JoinURL is base with path (which starts with "/") appended.
func JoinURL(base *url.URL, path string) string {
	return strings.TrimRight(base.String(), "/") + path
}

// Header returns a request header holding name: prefix+credential, or an
// empty one when credential is "" (none configured): the API key or token
// an adapter sends with every request.
func Header(name, credential, prefix string) http.Header {
	h := http.Header{}
	if credential != "" {
		h.Set(name, prefix+credential)
	}
	return h
}
