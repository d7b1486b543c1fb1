package load

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/engram/m18-gate/runners/result"
)

// preloadBatch is how many consecutive nodes one preload worker claims at a
// time.
const preloadBatch = 64

// PreloadID is the id a preloaded node is stored under. Ids are
// deterministic so that preloading the same target twice replaces the
// nodes instead of doubling them (the reference target replaces a memory
// stored again under its id; a 409 from a server that refuses duplicates
// counts as already present).
func PreloadID(i uint64) string { return "m18-node-" + strconv.FormatUint(i, 10) }

// preload stores nodes 0…nodes-1 with remember, PreloadConcurrency at a
// time, closed-loop (as fast as the target takes them), showing progress.
// More than 1 % failed stores fail the run: recall would search an
// incomplete store (Engram's loadtest never preloaded at all).
func preload(ctx context.Context, client *http.Client, p *plan, d Data) (*result.Preload, error) {
	n := uint64(p.nodes)
	var next, done, failed atomic.Uint64
	var firstErr atomic.Value
	start := time.Now()
	stop := make(chan struct{})
	var progWG sync.WaitGroup
	if p.Progress != nil {
		progWG.Add(1)
		go func() {
			defer progWG.Done()
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					el := time.Since(start).Seconds()
					p.progressf("%-14s %5.0fs  %7d/%d nodes  %8.0f nodes/s  %d errors\n", "preload", el, done.Load(), n, float64(done.Load())/el, failed.Load())
				}
			}
		}()
	}
	u := *p.base
	u.Path = joinPath(u.Path, RouteRemember)
	target := u.String()
	var wg sync.WaitGroup
	for w := 0; w < p.PreloadConcurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vec := make([]float32, p.data.EmbeddingDim)
			var buf []byte
			for ctx.Err() == nil {
				lo := next.Add(preloadBatch) - preloadBatch
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+preloadBatch, n) && ctx.Err() == nil; i++ {
					space := d.Space(i)
					buf = AppendRemember(buf[:0], d, i, PreloadID(i), space, vec)
					err := storeOnce(ctx, client, target, space, buf)
					if err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
					}
					done.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	progWG.Wait()
	el := time.Since(start)
	pl := &result.Preload{Nodes: int(done.Load() - failed.Load()), Errors: failed.Load(), DurationSeconds: el.Seconds()}
	if el > 0 {
		pl.RatePerSecond = float64(done.Load()) / el.Seconds()
	}
	p.progressf("preload: %d nodes in %.1fs (%.0f/s), %d errors\n", pl.Nodes, pl.DurationSeconds, pl.RatePerSecond, pl.Errors)
	if ctx.Err() != nil {
		return pl, fmt.Errorf("%w during preload (%d of %d nodes stored)", ErrInterrupted, pl.Nodes, n)
	}
	if f := failed.Load(); float64(f) > 0.01*float64(n) {
		return pl, fmt.Errorf("%w: %d of %d stores failed (first: %v); check the target's logs and that it accepts POST %s", ErrPreload, f, n, firstErr.Load(), RouteRemember)
	}
	return pl, nil
}

func storeOnce(ctx context.Context, client *http.Client, target, space string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytesReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Memory-Space", space)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusConflict {
		return fmt.Errorf("POST %s: %s: %s", RouteRemember, resp.Status, msg)
	}
	return nil
}
