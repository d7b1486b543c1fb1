// Package load is the open-loop load engine behind m18-run: it sends
// requests at the times an arrival process intends, whether or not earlier
// ones have returned, and records their latency from the intended send time
// into HDR histograms (1 µs – 1 h, 3 significant digits).
//
// Its opinions: a latency figure that hides queueing is wrong, so latency is
// measured from the intended time (coordinated-omission free) and the
// service time from the actual send is kept beside it; the overall figure is
// the merge of every request, never the worst operation's; and a generator
// that cannot keep its own schedule says so and fails the run rather than
// blaming the target. It measures; it neither judges regressions nor stores
// history.
//
// A generator must cost little per request, or its own pauses become the
// target's latency. On Linux one goroutine sends a whole phase: an event
// loop over non-blocking sockets and epoll keeps the schedule and every
// keep-alive HTTP/1.1 connection (loop_linux.go), framing responses as
// they stream in (respframe.go), so no goroutine is woken per request.
// Elsewhere, and for https, sender goroutines each own one connection and
// write and read it themselves (conn.go), fed by a scheduler goroutine.
// Neither spins.
package load
