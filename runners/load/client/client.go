// Package client is the contract between the load engine (package load)
// and whatever sends its operations: the operation to do, its outcome, and
// the two ways a client can do it.
//
// Every client implements Client: the engine's sender goroutines each get a
// Conn and call Do once per scheduled operation, so any protocol works (an
// HTTP API, PostgreSQL's wire protocol through its driver, gRPC). A client
// that can keep the schedule cheaper than a goroutine per request also
// implements Driver: it is handed the phase's Schedule and sends the whole
// phase itself, as the HTTP/1.1 client's epoll event loop does.
//
// Its opinion: the engine owns time. A client never decides when to send,
// never measures latency and never retries on its own behalf beyond what a
// protocol needs (a stale keep-alive connection); it reports an Outcome and
// the engine measures from the intended send time.
package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/engram/m18-gate/runners/result"
)

// Op is one kind of operation, named as the Engram loadtest report names it.
// A client for another system (a competitor's API) maps each Op to its
// nearest equivalent: Store writes one item, Recall and Search read by
// vector and by text, PatternCompletion is the system's richest read.
type Op uint8

// The operations, in result.Operations order.
const (
	Store Op = iota
	Recall
	Search
	PatternCompletion
	// NumOps is how many operations there are.
	NumOps
)

// String returns the report name (result.OpStore, …).
func (o Op) String() string {
	if int(o) < len(result.Operations) {
		return result.Operations[o]
	}
	return fmt.Sprintf("Op(%d)", o)
}

// Outcome classifies a completed (or failed) operation: an HTTP status (any
// value ≥ 100, 2xx is success) or one of the failures below. A client of a
// protocol without statuses reports 200 for success, OutcomeOf(err) for a
// transport failure, and an HTTP status of the same meaning for an error
// the server answered (400 for a rejected query, 503 for overload, 500 for
// anything else).
type Outcome int

// Outcomes other than an HTTP status.
const (
	OutcomeTimeout    Outcome = -1
	OutcomeConnection Outcome = -2
)

// OK is the outcome of a success without an HTTP status of its own.
const OK Outcome = 200

// Kind is the result document's name of an error class ("timeout",
// "connection", "http_503"), or "" for success.
func (o Outcome) Kind() string {
	switch {
	case o == OutcomeTimeout:
		return "timeout"
	case o == OutcomeConnection:
		return "connection"
	case o.OK():
		return ""
	}
	return "http_" + strconv.Itoa(int(o))
}

// OK reports a success (a 2xx status).
func (o Outcome) OK() bool { return o >= 200 && o < 300 }

// OutcomeOf classifies the error of a failed operation: OutcomeTimeout for
// a deadline (the context's, a connection's or a net.Error's timeout),
// otherwise OutcomeConnection.
func OutcomeOf(err error) Outcome {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return OutcomeTimeout
	}
	return OutcomeConnection
}

// Send is one scheduled operation: operation Op, number Seq of the run
// (unique within a run: a Store of number Seq writes a new item), due
// Intended after the phase started.
type Send struct {
	Op       Op
	Seq      uint64
	Intended time.Duration
}

// Client does operations. The engine calls NewConn once per sender
// goroutine at the start of a phase and Close on each Conn at its end;
// the Conns of one phase are used concurrently, each by one goroutine.
//
// A Client for an HTTP API is best written as an http1.Workload (it
// encodes an operation as a request) and wrapped by http1.New, which
// implements Client and Driver on the fast HTTP/1.1 paths. Implement Client
// directly for anything that is not HTTP.
type Client interface {
	// NewConn returns the state of one sender: its connection (or a handle
	// on a pool), buffers it reuses from one operation to the next.
	NewConn() Conn
}

// Conn does one operation at a time for one sender goroutine.
type Conn interface {
	// Do performs operation op with sequence number seq and returns once
	// its answer was read to its end (a response body, every row), with
	// the time the operation left (after it was encoded, so that encoding
	// counts as the generator's schedule lag, not as the target's service
	// time; time.Now() just before sending it) and its outcome. ctx
	// is the phase's: when it ends Do must return promptly, with any
	// outcome (an interrupted phase's operations are not recorded). Do
	// bounds the operation by the client's own timeout and reports
	// OutcomeTimeout when it passes.
	Do(ctx context.Context, op Op, seq uint64) (sent time.Time, o Outcome)
	// Close ends the sender at the end of a phase. A Conn may hand its
	// connection back to its Client for the next phase's Conns.
	Close()
}

// Driver is implemented by a Client that can send a whole phase from its
// own event loop, keeping the schedule there instead of the engine's
// sender goroutines doing it (the engine uses a Driver unless told to use
// sender goroutines). Drive follows the Schedule's rules exactly, as the
// engine's own scheduler does: pace with Next, number a send with Due
// when its time (less Early) has come, start it on an idle connection, or
// open one more only when all are busy and the send has waited its grace
// (SpawnLag after its time, at least SpawnLag/4 after it was due), never
// more than MaxInFlight, and Drop it when DropAfter has passed.
type Driver interface {
	Client
	// Drive sends the phase described by s and returns when the last
	// operation finished or the phase's context ended (then Interrupt
	// was called, and operations in flight are abandoned). An error means
	// Drive could not run here at all and sent nothing (no epoll on this
	// system, say); the engine then sends the phase through NewConn.
	Drive(s Schedule) error
}

// ErrNoDriver is what Drive returns when it cannot run on this system or
// with this configuration.
var ErrNoDriver = errors.New("client: no event loop here")

// Schedule is one phase as the engine hands it to a Driver. Its methods are
// called from the Driver's goroutine only, except Done, which is safe for
// concurrent use.
type Schedule interface {
	// Context ends when the phase is interrupted.
	Context() context.Context
	// Start is the phase's start: intended times are offsets from it.
	Start() time.Time
	// Early is how far ahead of its intended time a send may leave.
	Early() time.Duration
	// MaxInFlight caps the operations in flight (the connections).
	MaxInFlight() int
	// DropAfter: a send that could not start within this of its intended
	// time is dropped (Drop).
	DropAfter() time.Duration
	// Next paces the next send: its Intended time is set, its Op and Seq
	// are not yet. ok is false when the phase has no more sends.
	Next() (s Send, ok bool)
	// Due numbers a paced send whose time has come: it picks the Op and
	// Seq and counts the send as scheduled.
	Due(s *Send)
	// Drop counts a due send that never started.
	Drop()
	// Begin counts an operation put in flight and returns how many are
	// now, this one included.
	Begin() int
	// Done records a finished operation: sender (any small integer, the
	// connection's index, spreads the recording locks), the send, when it
	// actually left, the in-flight count Begin returned, and the outcome.
	Done(sender int, s Send, sentAt time.Time, inFlight int, o Outcome)
	// Interrupt says the phase ended early (its context, or a failure of
	// the Driver itself).
	Interrupt()
}

// SpawnLag is how late a send may get waiting for a busy connection to
// free up before one more is opened (see Driver).
const SpawnLag = time.Millisecond

// MinSleep is the shortest wait worth a system-call sleep, which wakes
// about 50 µs late anyway: a send closer to its time than this goes now.
const MinSleep = 50 * time.Microsecond
