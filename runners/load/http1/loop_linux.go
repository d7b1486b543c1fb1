//go:build linux

package http1

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/engram/m18-gate/runners/load/client"
)

// eventLoop sends the requests of one phase from a single goroutine over
// non-blocking sockets watched by epoll: the scheduler and every
// connection in one place, as wrk does. A send is a write system call on
// an idle connection when its time comes; its response is read when epoll
// says the connection is readable; the wait between sends is the epoll
// wait itself, with a nanosecond timeout. No goroutine is woken or handed
// anything per request, which on a small machine is most of what a
// goroutine-per-connection generator spends (see runners/README.md, "How
// fast the generator is").
//
// It speaks HTTP/1.1 over keep-alive connections to http:// endpoints;
// requests for anything else go through the http.Client from a goroutine
// each, and come back to the loop when done. Connections follow the
// sender-goroutine rules: one per request in flight, opened only when every
// connection is busy and the due send has waited its grace, kept from one
// phase to the next in the Transport.
type eventLoop struct {
	c     *Client
	sch   client.Schedule
	t     *Transport
	start time.Time

	ep     int // the epoll instance
	events []unix.EpollEvent
	rbuf   []byte // responses are read here; their bodies are only counted
	addrs  map[string]unix.Sockaddr

	slots []*slot // every slot; a slot's id is its index
	idle  []*slot // slots with no request, most recently used last
	busy  []*slot // slots with a request in flight

	reqCtx     context.Context // the requests' context: ends with the phase
	cancelReqs context.CancelFunc
	away       sync.WaitGroup // requests sent through the http.Client
	back       chan *slot     // their slots, when they are done

	// wake is an eventfd in the epoll set: written when the phase's
	// context ends or a request through the http.Client finishes.
	wakeMu  sync.Mutex
	wake    int
	closed  bool
	aborted atomic.Bool
}

// wakeID is the epoll data of the wake eventfd.
const wakeID = -1

type slotState int

const (
	slotIdle       slotState = iota // no request; the connection, if any, is idle
	slotConnecting                  // a request waits for its connection to open
	slotWriting                     // a request is being written
	slotReading                     // the response is being read
	slotAway                        // the request went through the http.Client
)

// slot is what a sender goroutine is to runSenders: a request builder and
// its connection, with at most one request in flight.
type slot struct {
	id     int
	sender Sender
	state  slotState

	fd   int    // the connection, -1 for none
	gen  int32  // counts the slot's connections: tells stale events apart
	key  string // the connection's host:port
	used bool   // the connection carried a whole exchange before
	out  bool   // epoll watches the connection for writability too

	req      []byte // the request being sent, written up to wrote
	wrote    int
	head     bool // the request is a HEAD
	fr       respFramer
	retried  bool // sent again after its reused connection failed
	it       client.Send
	inFlight int
	busyAt   int // s's index in eventLoop.busy while it has a request
	sentAt   time.Time
	deadline time.Time // the request timeout, zero for none

	o client.Outcome // the finished request's, when it went through the http.Client
}

// Drive implements client.Driver: it sends the phase from an event loop
// when the Client has a Transport and the system has epoll.
func (c *Client) Drive(sch client.Schedule) error {
	if c.t == nil {
		return fmt.Errorf("%w: the event loop needs the package's Transport", client.ErrNoDriver)
	}
	l, err := newLoop(c, sch)
	if err != nil {
		return fmt.Errorf("%w: %v", client.ErrNoDriver, err)
	}
	l.run()
	return nil
}

// newLoop returns the event loop for a phase, or an error when the
// system refuses epoll.
func newLoop(c *Client, sch client.Schedule) (*eventLoop, error) {
	t := c.t
	n := sch.MaxInFlight()
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("http1: epoll: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(ep)
		return nil, fmt.Errorf("http1: eventfd: %w", err)
	}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, wake, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: wakeID}); err != nil {
		unix.Close(ep)
		unix.Close(wake)
		return nil, fmt.Errorf("http1: epoll: %w", err)
	}
	l := &eventLoop{
		c: c, sch: sch, t: t, start: sch.Start(), ep: ep, wake: wake,
		events: make([]unix.EpollEvent, 256),
		rbuf:   make([]byte, 64<<10),
		addrs:  map[string]unix.Sockaddr{},
		back:   make(chan *slot, n),
	}
	l.reqCtx, l.cancelReqs = context.WithCancel(context.Background())
	// Slots up to twice the cores, as the engine starts senders, and one
	// for each connection the last phase left, those on top of the idle
	// stack so that they are used first.
	kept := t.loopConns.take(n)
	for range min(n, 2*runtime.GOMAXPROCS(0)) - len(kept) {
		l.idle = append(l.idle, l.newSlot())
	}
	for _, c := range kept {
		s := l.newSlot()
		s.fd, s.key, s.used = c.fd, c.key, true
		if err := l.watch(s, unix.EPOLL_CTL_ADD); err != nil {
			unix.Close(s.fd)
			s.fd = -1
		}
		l.idle = append(l.idle, s)
	}
	return l, nil
}

func (l *eventLoop) newSlot() *slot {
	s := &slot{id: len(l.slots), sender: l.c.w.NewSender(), fd: -1}
	l.slots = append(l.slots, s)
	return s
}

// signal wakes the loop.
func (l *eventLoop) signal() {
	one := [8]byte{1}
	l.wakeMu.Lock()
	if !l.closed {
		unix.Write(l.wake, one[:])
	}
	l.wakeMu.Unlock()
}

// run sends the phase's requests and returns when the last response is in
// or the phase's context ended.
func (l *eventLoop) run() {
	sch := l.sch
	early, dropAfter, maxIn := sch.Early(), sch.DropAfter(), sch.MaxInFlight()
	stop := context.AfterFunc(sch.Context(), func() {
		l.aborted.Store(true)
		l.cancelReqs()
		l.signal()
	})
	defer stop()
	defer l.close()

	var (
		head     client.Send
		haveHead bool // head is the next send, paced
		due      bool // head is due and numbered, waiting for a slot
		finished bool // no sends left to pace
		spawnAt  time.Duration
		dropAt   time.Duration
		checkAt  time.Duration // the next scan for timed-out requests
	)
	timeout := l.t.Timeout
	for {
		if l.aborted.Load() {
			sch.Interrupt()
			return
		}
		now := time.Since(l.start)
		for !finished {
			if !haveHead {
				if head, haveHead = sch.Next(); !haveHead {
					finished = true
					break
				}
			}
			if !due {
				if head.Intended-early-now > client.MinSleep {
					break // not yet: the epoll wait below sleeps until then
				}
				sch.Due(&head)
				due = true
				// No connection free: wait for one until spawnLag after
				// the send's time (at least spawnLag/4), then open one more
				// every spawnLag/4, as the engine starts senders. Opening
				// one per send as soon as none is free is faster to react
				// but ruinous: on a cold start or a hiccup of the target it
				// opened thousands of connections, whose cost to both sides
				// made most sends late (measured at 26 000/s: 7 600–8 800 in
				// flight against 27–45 with the grace; runners/README.md).
				spawnAt = max(head.Intended+client.SpawnLag, now+client.SpawnLag/4)
				dropAt = head.Intended + dropAfter
			}
			var s *slot
			if n := len(l.idle); n > 0 {
				s = l.idle[n-1]
				l.idle = l.idle[:n-1]
			} else if now >= dropAt {
				sch.Drop()
				haveHead, due = false, false
				continue
			} else if len(l.slots) < maxIn && now >= spawnAt {
				s = l.newSlot()
				spawnAt = now + client.SpawnLag/4
			} else {
				break // wait for a response, a new slot, or the drop
			}
			l.send(s, head)
			haveHead, due = false, false
			now = time.Since(l.start)
		}
		if finished && len(l.busy) == 0 {
			return
		}

		wait := time.Duration(-1) // until something happens
		switch {
		case finished:
		case due:
			wait = dropAt - now
			if len(l.slots) < maxIn {
				wait = min(wait, spawnAt-now)
			}
		default:
			wait = head.Intended - early - now
		}
		if timeout > 0 && len(l.busy) > 0 {
			if checkAt <= now {
				l.expire(time.Now())
				checkAt = now + timeoutScan
			}
			if wait < 0 || checkAt-now < wait {
				wait = checkAt - now
			}
		}
		n, err := l.wait(max(wait, 0), wait < 0)
		if err != nil {
			// epoll itself failed: nothing more can be sent or read.
			sch.Interrupt()
			return
		}
		for _, ev := range l.events[:n] {
			if ev.Fd == wakeID {
				l.woken()
				continue
			}
			s := l.slots[ev.Fd]
			if s.fd < 0 || s.gen != ev.Pad {
				continue // an event of a connection closed since
			}
			l.ready(s, ev.Events)
		}
	}
}

// timeoutScan is how often the loop looks for requests past their
// timeout: timeouts are seconds, so a few milliseconds late is no matter.
const timeoutScan = 5 * time.Millisecond

// wait waits up to d (forever when forever) for events.
func (l *eventLoop) wait(d time.Duration, forever bool) (int, error) {
	ts := unix.NsecToTimespec(int64(d))
	timeout := &ts
	if forever {
		timeout = nil
	}
	n, _, errno := unix.Syscall6(unix.SYS_EPOLL_PWAIT2, uintptr(l.ep), uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), uintptr(unsafe.Pointer(timeout)), 0, 0)
	switch errno {
	case 0:
		return int(n), nil
	case unix.EINTR:
		return 0, nil // the Go runtime's preemption signal; look again
	case unix.ENOSYS:
		return l.waitMs(d, forever)
	}
	return 0, fmt.Errorf("http1: epoll_pwait2: %w", errno)
}

// waitMs is wait for kernels before Linux 5.11, without epoll_pwait2:
// epoll's own timeout counts whole milliseconds, so a shorter wait is a
// short sleep and a look.
func (l *eventLoop) waitMs(d time.Duration, forever bool) (int, error) {
	ms := -1
	if !forever {
		ms = int(d / time.Millisecond)
		if ms == 0 && d > 0 {
			client.SleepShort(d)
		}
	}
	n, err := unix.EpollWait(l.ep, l.events, ms)
	if err == unix.EINTR {
		return 0, nil
	}
	return n, err
}

// woken drains the wake eventfd and takes back the slots whose requests
// went through the http.Client.
func (l *eventLoop) woken() {
	var b [8]byte
	unix.Read(l.wake, b[:])
	for {
		select {
		case s := <-l.back:
			l.release(s)
			l.sch.Done(s.id, s.it, s.sentAt, s.inFlight, s.o)
		default:
			return
		}
	}
}

// send starts the request for it on slot s.
func (l *eventLoop) send(s *slot, it client.Send) {
	s.it = it
	s.inFlight = l.sch.Begin()
	s.retried = false
	s.busyAt = len(l.busy)
	l.busy = append(l.busy, s)
	req, err := s.sender.Request(l.reqCtx, it.Op, it.Seq)
	s.sentAt = time.Now()
	if err != nil {
		l.finish(s, client.OutcomeConnection)
		return
	}
	if req.URL == nil || req.URL.Scheme != "http" {
		l.sendAway(s, req)
		return
	}
	key := hostPort(req.URL)
	s.req, err = appendRequest(s.req[:0], req, req.URL.Host)
	if req.Body != nil {
		req.Body.Close()
	}
	if err != nil {
		l.finish(s, client.OutcomeConnection)
		return
	}
	s.head = req.Method == http.MethodHead
	s.fr.reset(s.head)
	s.deadline = time.Time{}
	if l.t.Timeout > 0 {
		s.deadline = s.sentAt.Add(l.t.Timeout)
	}
	if s.fd >= 0 && s.key != key {
		l.closeConn(s)
	}
	s.key = key
	l.transmit(s)
}

// transmit writes the slot's request, on its connection or a new one.
func (l *eventLoop) transmit(s *slot) {
	s.wrote = 0
	if s.fd >= 0 {
		s.state = slotWriting
		l.write(s)
		return
	}
	if err := l.connect(s); err != nil {
		l.fail(s, err, false)
		return
	}
}

// connect opens a non-blocking connection to s.key; the request is written
// when it is up.
func (l *eventLoop) connect(s *slot) error {
	sa, err := l.sockaddr(s.key)
	if err != nil {
		return err
	}
	family := unix.AF_INET
	if _, ok := sa.(*unix.SockaddrInet6); ok {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("http1: socket: %w", err)
	}
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	err = unix.Connect(fd, sa)
	if err != nil && err != unix.EINPROGRESS {
		unix.Close(fd)
		return &net.OpError{Op: "dial", Net: "tcp", Err: err}
	}
	s.fd, s.used = fd, false
	s.gen++
	s.out = true
	if err := l.watch(s, unix.EPOLL_CTL_ADD); err != nil {
		unix.Close(fd)
		s.fd = -1
		return err
	}
	s.state = slotConnecting
	return nil
}

// sockaddr resolves host:port once per phase.
func (l *eventLoop) sockaddr(key string) (unix.Sockaddr, error) {
	if sa, ok := l.addrs[key]; ok {
		return sa, nil
	}
	a, err := net.ResolveTCPAddr("tcp", key)
	if err != nil {
		return nil, err
	}
	var sa unix.Sockaddr
	if ip4 := a.IP.To4(); ip4 != nil {
		sa4 := &unix.SockaddrInet4{Port: a.Port}
		copy(sa4.Addr[:], ip4)
		sa = sa4
	} else {
		sa6 := &unix.SockaddrInet6{Port: a.Port}
		copy(sa6.Addr[:], a.IP.To16())
		sa = sa6
	}
	l.addrs[key] = sa
	return sa, nil
}

// watch registers (op EPOLL_CTL_ADD) or updates (EPOLL_CTL_MOD) the
// events epoll reports for s's connection: readability always, and
// writability while s.out.
func (l *eventLoop) watch(s *slot, op int) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(s.id), Pad: s.gen}
	if s.out {
		ev.Events |= unix.EPOLLOUT
	}
	if err := unix.EpollCtl(l.ep, op, s.fd, &ev); err != nil {
		return fmt.Errorf("http1: epoll: %w", err)
	}
	return nil
}

// ready handles the events epoll reported for s's connection.
func (l *eventLoop) ready(s *slot, events uint32) {
	switch s.state {
	case slotIdle:
		// An idle connection became readable: the server closed it (or
		// sent what no request asked for). It is of no more use.
		l.closeConn(s)
	case slotConnecting:
		if events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return
		}
		if soErr, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR); err != nil || soErr != 0 {
			if err == nil {
				err = unix.Errno(soErr)
			}
			l.fail(s, &net.OpError{Op: "dial", Net: "tcp", Err: err}, false)
			return
		}
		s.state = slotWriting
		l.write(s)
	case slotWriting:
		if events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
			// The server answers (or hangs up) before it has read the
			// whole request, a 413 say: take the answer, or writing would
			// wait on a peer that no longer reads.
			l.read(s)
			return
		}
		l.write(s)
	case slotReading:
		l.read(s)
	}
}

// write writes what is left of the request; when all of it is out, the
// slot waits for the response.
func (l *eventLoop) write(s *slot) {
	for s.wrote < len(s.req) {
		n, err := unix.Write(s.fd, s.req[s.wrote:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			if !s.out {
				s.out = true
				if err := l.watch(s, unix.EPOLL_CTL_MOD); err != nil {
					l.fail(s, err, false)
				}
			}
			return
		case err != nil:
			l.fail(s, &net.OpError{Op: "write", Net: "tcp", Err: err}, true)
			return
		}
		s.wrote += n
	}
	if s.out {
		s.out = false
		if err := l.watch(s, unix.EPOLL_CTL_MOD); err != nil {
			l.fail(s, err, false)
			return
		}
	}
	s.state = slotReading
}

// read reads what the connection has of the response.
func (l *eventLoop) read(s *slot) {
	n, err := unix.Read(s.fd, l.rbuf)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return
	case err != nil:
		l.fail(s, &net.OpError{Op: "read", Net: "tcp", Err: err}, !s.fr.started())
		return
	case n == 0:
		started := s.fr.started()
		done, ferr := s.fr.eof()
		if !done {
			l.fail(s, ferr, !started)
			return
		}
		l.closeConn(s)
		l.finish(s, client.Outcome(s.fr.status()))
		return
	}
	used, done, ferr := s.fr.feed(l.rbuf[:n])
	if ferr != nil {
		l.fail(s, ferr, false)
		return
	}
	if !done {
		return
	}
	s.used = true
	if !s.fr.keep() || used < n || s.wrote < len(s.req) {
		// Closed by the server, bytes no request asked for, or an
		// answer before the whole request was written.
		l.closeConn(s)
	}
	l.finish(s, client.Outcome(s.fr.status()))
}

// fail ends s's request on an error and closes its connection. fresh says
// nothing of a response was read: a request on a reused connection that
// failed so (the server had closed it while idle) is sent once more on a
// new one.
func (l *eventLoop) fail(s *slot, err error, fresh bool) {
	reused := s.used
	l.closeConn(s)
	if fresh && reused && !s.retried && !l.aborted.Load() {
		s.retried = true
		s.fr.reset(s.head)
		l.transmit(s)
		return
	}
	l.finish(s, client.OutcomeOf(err))
}

// expire ends the requests past their timeout.
func (l *eventLoop) expire(now time.Time) {
	for i := len(l.busy) - 1; i >= 0; i-- {
		s := l.busy[i]
		if s.state != slotAway && !s.deadline.IsZero() && now.After(s.deadline) {
			l.closeConn(s)
			l.finish(s, client.OutcomeTimeout)
		}
	}
}

// finish records s's request with outcome o and makes s idle.
func (l *eventLoop) finish(s *slot, o client.Outcome) {
	l.release(s)
	l.sch.Done(s.id, s.it, s.sentAt, s.inFlight, o)
}

// release makes s idle.
func (l *eventLoop) release(s *slot) {
	s.state = slotIdle
	last := len(l.busy) - 1
	moved := l.busy[last]
	l.busy[s.busyAt], moved.busyAt = moved, s.busyAt
	l.busy[last] = nil
	l.busy = l.busy[:last]
	l.idle = append(l.idle, s)
}

// sendAway sends req through the http.Client from a goroutine of its own.
func (l *eventLoop) sendAway(s *slot, req *http.Request) {
	s.state = slotAway
	l.away.Add(1)
	go func() {
		defer l.away.Done()
		s.o = do(l.c.hc, req)
		l.back <- s
		l.signal()
	}()
}

// closeConn closes s's connection.
func (l *eventLoop) closeConn(s *slot) {
	if s.fd < 0 {
		return
	}
	unix.Close(s.fd) // also takes it out of the epoll set
	s.fd, s.used, s.out = -1, false, false
}

// close ends the phase: requests still in flight (an interrupted phase)
// are abandoned, idle connections kept in the Transport for the next phase.
func (l *eventLoop) close() {
	l.cancelReqs()
	l.away.Wait()
	var keep []loopConn
	for _, s := range l.slots {
		if s.fd < 0 {
			continue
		}
		if s.state == slotIdle && s.used && !l.aborted.Load() {
			unix.EpollCtl(l.ep, unix.EPOLL_CTL_DEL, s.fd, nil)
			keep = append(keep, loopConn{fd: s.fd, key: s.key})
			s.fd = -1
			continue
		}
		l.closeConn(s)
	}
	l.t.loopConns.put(keep, max(l.t.MaxIdle, 1))
	l.wakeMu.Lock()
	l.closed = true
	unix.Close(l.wake)
	l.wakeMu.Unlock()
	unix.Close(l.ep)
}

// loopConn is an idle connection of an event loop, kept for the next phase.
type loopConn struct {
	fd  int
	key string
}

// loopPool keeps the idle connections of event loops between phases.
type loopPool struct {
	mu    sync.Mutex
	conns []loopConn
}

// take returns up to n kept connections.
func (p *loopPool) take(n int) []loopConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	n = min(n, len(p.conns))
	out := append([]loopConn(nil), p.conns[len(p.conns)-n:]...)
	p.conns = p.conns[:len(p.conns)-n]
	return out
}

// put keeps cs, up to max in all; the rest are closed.
func (p *loopPool) put(cs []loopConn, max int) {
	p.mu.Lock()
	for len(cs) > 0 && len(p.conns) < max {
		p.conns = append(p.conns, cs[0])
		cs = cs[1:]
	}
	p.mu.Unlock()
	for _, c := range cs {
		unix.Close(c.fd)
	}
}

// closeAll closes the kept connections.
func (p *loopPool) closeAll() {
	p.mu.Lock()
	cs := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range cs {
		unix.Close(c.fd)
	}
}
