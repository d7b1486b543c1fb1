package load

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
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

// preload stores nodes 0…nodes-1 with remember, node 0 first and then
// PreloadConcurrency at a time, closed-loop (as fast as the target takes them), showing progress.
// More than 1 % failed stores fail the run: recall would search an
// incomplete store (Engram's loadtest never preloaded at all).
func preload(ctx context.Context, client *http.Client, p *plan, d Data) (*result.Preload, error) {
	n := uint64(p.nodes)
	held, err := inspectPreloaded(ctx, client, p, d, n)
	if err != nil {
		return nil, err
	}
	if held.complete {
		p.progressf("preload: the target already holds this dataset (%d memories, %d nodes wanted); not storing it again\n", held.count, n)
		if held.count > n {
			p.progressf("preload: warning: %d memories more than num_nodes: earlier runs' stores stay in the target, so each run measures a bigger store; restart the target between runs\n", held.count-n)
		}
		return &result.Preload{Nodes: int(n)}, nil
	}
	var next, done, failed atomic.Uint64
	var firstErr atomic.Value
	start := time.Now()
	stopProgress := func() {}
	if p.Progress != nil {
		stopProgress = everySecond(func() {
			el := time.Since(start).Seconds()
			p.progressf("%-14s %5.0fs  %7d/%d nodes  %8.0f nodes/s  %d errors\n", "preload", el, done.Load(), n, float64(done.Load())/el, failed.Load())
		})
	}
	u := *p.base
	u.Path = joinPath(u.Path, RouteRemember)
	target := u.String()
	store := func(i uint64, vec []float32, buf []byte) []byte {
		space := d.Space(i)
		buf = AppendRemember(buf[:0], d, i, PreloadID(i), space, vec)
		if err := storeOnce(ctx, client, target, space, buf); err != nil {
			failed.Add(1)
			firstErr.CompareAndSwap(nil, err.Error())
		}
		done.Add(1)
		return buf
	}
	// Node 0 is stored before any other, so that a target holding part of
	// this dataset holds node 0: a generator preloading the same target at
	// the same time (another shard) sees this dataset in it, not someone
	// else's data (inspectPreloaded).
	store(0, make([]float32, p.data.EmbeddingDim), nil)
	next.Store(1)
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
					buf = store(i, vec, buf)
				}
			}
		}()
	}
	wg.Wait()
	stopProgress()
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

// preloaded is what the target held before preloading.
type preloaded struct {
	count    uint64 // memories in the dataset's spaces
	complete bool   // the first and last node are this dataset's: nothing to store
}

// inspectPreloaded makes preloading idempotent: it asks the target how many
// memories the dataset's spaces hold (GET /api/v1/spaces) and reads back
// the first and the last preload node (GET /api/v1/memories/{id}).
//
//   - empty spaces: preload everything;
//   - the first node is this dataset's and so is the last: nothing to store
//     (complete);
//   - the first node is this dataset's, the last missing: top up (the ids are
//     deterministic, so storing them again replaces, never doubles);
//   - memories present but the first node missing or different (another
//     seed, another scenario, someone else's data): an ErrPreload error
//     saying so, because measuring would mix two datasets.
//
// A target that does not answer these routes (a server without the
// spaces API) is preloaded as before.
func inspectPreloaded(ctx context.Context, client *http.Client, p *plan, d Data, n uint64) (preloaded, error) {
	var held preloaded
	if n == 0 {
		return held, nil
	}
	spaces := map[string]bool{}
	for i := uint64(0); i < min(n, 4096); i++ {
		spaces[d.Space(i)] = true
	}
	var list struct {
		Spaces []struct {
			ID          string `json:"id"`
			MemoryCount uint64 `json:"memory_count"`
		} `json:"spaces"`
	}
	if ok := getJSON(ctx, client, p.base, "/api/v1/spaces", "", &list); !ok {
		return held, nil
	}
	for _, sp := range list.Spaces {
		if spaces[sp.ID] {
			held.count += sp.MemoryCount
		}
	}
	if held.count == 0 {
		return held, nil
	}
	node := func(i uint64) (content string, found bool) {
		var m struct {
			Content string `json:"content"`
		}
		if !getJSON(ctx, client, p.base, "/api/v1/memories/"+url.PathEscape(PreloadID(i)), d.Space(i), &m) {
			return "", false
		}
		return m.Content, true
	}
	first, found := node(0)
	if !found || first != d.Content(0) {
		what := fmt.Sprintf("no %s", PreloadID(0))
		if found {
			what = fmt.Sprintf("its %s is %q, this scenario's is %q: another seed or another scenario", PreloadID(0), clipText(first, 40), clipText(d.Content(0), 40))
		}
		return held, fmt.Errorf("%w: the target at %s already holds %d memories in memory space %q that are not this scenario's dataset (%s); "+
			"restart the target (or give it an empty memory space) so that the run measures one dataset", ErrPreload, p.base.Redacted(), held.count, d.Space(0), what)
	}
	if last, found := node(n - 1); found && last == d.Content(n-1) && held.count >= n {
		held.complete = true
	}
	return held, nil
}

// getJSON GETs path from the target (in memory space space when not "")
// and decodes a 2xx JSON answer into v; false for anything else.
func getJSON(ctx context.Context, client *http.Client, base *url.URL, path, space string, v any) bool {
	u := *base
	u.Path = joinPath(u.Path, path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false
	}
	if space != "" {
		req.Header.Set("X-Memory-Space", space)
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return false
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v) == nil
}

// clipText cuts s to n runes for a message.
func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
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
