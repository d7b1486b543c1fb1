package load

import (
	"bytes"
	"errors"
	"net/http"
	"time"

	"github.com/engram/m18-gate/runners/load/client"
	"github.com/engram/m18-gate/runners/load/engram"
	"github.com/engram/m18-gate/runners/load/http1"
)

// The HTTP shorthand: the engine's HTTP/1.1 client lives in package http1
// and Engram's requests in package engram; these names keep the engine's
// HTTP callers short.
type (
	// Workload turns scheduled sends into HTTP requests (http1.Workload).
	Workload = http1.Workload
	// Sender builds the requests of one connection (http1.Sender).
	Sender = http1.Sender
	// Transport is the HTTP/1.1 transport of NewClient (http1.Transport).
	Transport = http1.Transport
	// Engram is the Workload of Engram's API (engram.Engram).
	Engram = engram.Engram
	// Data is the generated data the Engram workload sends (engram.Data).
	Data = engram.Data
)

// Engram's routes (see package engram).
const (
	RouteRemember = engram.RouteRemember
	RouteRecall   = engram.RouteRecall
	RouteSearch   = engram.RouteSearch
	RouteComplete = engram.RouteComplete
)

// NewClient returns the HTTP client tuned for an open-loop load
// (http1.NewClient).
func NewClient(maxInFlight int, timeout time.Duration) *http.Client {
	return http1.NewClient(maxInFlight, timeout)
}

// NewTransport returns the HTTP/1.1 transport of NewClient
// (http1.NewTransport).
func NewTransport(maxConns int, timeout time.Duration) *Transport {
	return http1.NewTransport(maxConns, timeout)
}

// AppendRemember appends the JSON body of a remember request for node i
// (engram.AppendRemember).
func AppendRemember(b []byte, d Data, i uint64, id, space string, vec []float32) []byte {
	return engram.AppendRemember(b, d, i, id, space, vec)
}

// transport returns the client the engine sends through: Transport, or
// the HTTP shorthand's.
func (e *Engine) transport() (client.Client, error) {
	if e.Transport != nil {
		return e.Transport, nil
	}
	if e.Client == nil || e.Workload == nil {
		return nil, errors.New("load: Engine needs a Transport, or a Client and a Workload")
	}
	return http1.New(e.Client, e.Workload), nil
}

func joinPath(base, p string) string { return engram.JoinPath(base, p) }

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
