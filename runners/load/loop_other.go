//go:build !linux

package load

import "errors"

// eventLoop is the Linux engine's epoll loop; elsewhere the sender
// goroutines send every request.
type eventLoop struct{}

func (e *Engine) newLoop(*phase) (*eventLoop, error) {
	return nil, errors.New("load: no event loop on this system")
}

func (l *eventLoop) run() {}

// loopPool keeps the event loops' connections; there are none here.
type loopPool struct{}

func (p *loopPool) closeAll() {}
