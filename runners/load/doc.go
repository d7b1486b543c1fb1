// Package load is the open-loop load engine behind m18-run: it sends
// operations at the times an arrival process intends, whether or not
// earlier ones have returned, and records their latency from the intended
// send time into HDR histograms (1 µs – 1 h, 3 significant digits).
//
// Its opinions: a latency figure that hides queueing is wrong, so latency is
// measured from the intended time (coordinated-omission free) and the
// service time from the actual send is kept beside it; the overall figure is
// the merge of every request, never the worst operation's; and a generator
// that cannot keep its own schedule says so and fails the run rather than
// blaming the target. It measures; it neither judges regressions nor stores
// history.
//
// The engine (Engine: schedule, phases, recorder) knows no protocol: it
// sends through a client.Client (package client is the contract), on the
// client's own event loop when the client is a client.Driver, otherwise
// from sender goroutines of its own, one client.Conn each. Package http1 is
// the HTTP/1.1 client (its epoll event loop, sender connections, response
// framer and connection pools); package engram encodes Engram's operations
// as HTTP requests for it. Run wires the three together for an Engram
// scenario; Engine.Client and Engine.Workload are the HTTP shorthand for
// Engine.Transport = http1.New(Client, Workload). With Config.Adapter, Run
// sends the same scenario to a competitor instead (an Adapter: the
// packages under runners/competitor), which prepares its own system and
// hands the engine its client.
//
// A generator must cost little per request, or its own pauses become the
// target's latency. On Linux one goroutine sends a whole phase: http1's
// event loop over non-blocking sockets and epoll keeps the schedule and
// every keep-alive HTTP/1.1 connection, framing responses as they stream
// in, so no goroutine is woken per request. Elsewhere, for https, and with
// Engine.Senders, sender goroutines each own one connection and write and
// read it themselves, fed by the engine's scheduler goroutine. Neither
// spins.
package load
