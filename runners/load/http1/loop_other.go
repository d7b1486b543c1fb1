//go:build !linux

package http1

import (
	"fmt"

	"github.com/engram/m18-gate/runners/load/client"
)

// Drive implements client.Driver; there is no event loop outside Linux,
// so the engine's sender goroutines send every request.
func (c *Client) Drive(client.Schedule) error {
	return fmt.Errorf("%w: the event loop needs Linux's epoll", client.ErrNoDriver)
}

// loopPool keeps the event loops' connections; there are none here.
type loopPool struct{}

func (p *loopPool) closeAll() {}
