package load

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/engram/m18-gate/runners/arrival"
	"github.com/engram/m18-gate/runners/load/client"
)

// nullClient answers every operation at once with 200 and records the
// operations and sequence numbers it was asked for: a client.Client with
// no target, so that a test sees the schedule exactly as the engine
// hands it out.
type nullClient struct {
	mu  sync.Mutex
	got []opSeq
}

type opSeq struct {
	op  Op
	seq uint64
}

func (c *nullClient) NewConn() client.Conn { return c }

func (c *nullClient) Do(ctx context.Context, op Op, seq uint64) (time.Time, client.Outcome) {
	c.mu.Lock()
	c.got = append(c.got, opSeq{op, seq})
	c.mu.Unlock()
	return time.Now(), client.OK
}

func (c *nullClient) Close() {}

// sent is what one phase sent: the operations with their sequence
// numbers, and the operations with their intended times.
type sent struct {
	seqs  []opSeq
	times []opTime
	res   *PhaseResult
}

type opTime struct {
	op       Op
	intended time.Duration
}

// runShard runs shard sh of a 0.4 s phase of at most 700 sends from
// startAt; a send not started within dropAfter is dropped, and a phase
// that began later than that skips what was due.
func runShard(t *testing.T, sh Shard, startAt time.Time, firstSeq uint64, dropAfter time.Duration) sent {
	t.Helper()
	c := &nullClient{}
	var mu sync.Mutex
	var times []opTime
	never := Limits{LateAfter: 10 * time.Millisecond, DropAfter: dropAfter, MaxLateFraction: 1, MaxDroppedFraction: 1}
	e := &Engine{Transport: c, MaxInFlight: 8, Limits: never, Observe: func(s Sample) {
		mu.Lock()
		times = append(times, opTime{s.Op, s.Intended})
		mu.Unlock()
	}}
	m, err := NewMix([numOps]float64{1, 2, 3, 4}, 7)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Run(context.Background(), Phase{Pacer: arrival.NewPoisson(arrival.Flat(2000), 11), Mix: m,
		Duration: 400 * time.Millisecond, MaxRequests: 700, FirstSeq: firstSeq, Shard: sh, StartAt: startAt})
	if err != nil {
		t.Fatal(err)
	}
	return sent{c.got, times, res}
}

func sortedSeqs(s []opSeq) []opSeq {
	return slices.SortedFunc(slices.Values(s), func(a, b opSeq) int { return cmp.Compare(a.seq, b.seq) })
}

func sortedTimes(s []opTime) []opTime {
	return slices.SortedFunc(slices.Values(s), func(a, b opTime) int {
		return cmp.Or(cmp.Compare(a.intended, b.intended), cmp.Compare(a.op, b.op))
	})
}

// The shards of a schedule send exactly the unsharded schedule between
// them: the same operations with the same sequence numbers at the same
// intended times, each once; and they end the phase at the same next
// sequence number, so later phases line up too.
func TestShardsUnionIsTheSchedule(t *testing.T) {
	whole := runShard(t, Shard{}, time.Time{}, 100, time.Hour)
	if n := len(whole.seqs); n < 500 || n > 700 {
		t.Fatalf("the unsharded phase sent %d, want 500…700 (2000/s for 0.4 s, at most 700)", n)
	}
	for _, n := range []int{2, 3} {
		var seqs []opSeq
		var times []opTime
		for i := range n {
			s := runShard(t, Shard{i, n}, time.Time{}, 100, time.Hour)
			seqs = append(seqs, s.seqs...)
			times = append(times, s.times...)
			if s.res.NextSeq != whole.res.NextSeq {
				t.Errorf("shard %d/%d: next sequence number %d, want the unsharded %d", i, n, s.res.NextSeq, whole.res.NextSeq)
			}
			if got, want := len(s.seqs), len(whole.seqs)/n; got < want || got > want+1 {
				t.Errorf("shard %d/%d sent %d of %d", i, n, got, len(whole.seqs))
			}
		}
		if !slices.Equal(sortedSeqs(seqs), sortedSeqs(whole.seqs)) {
			t.Errorf("%d shards: the union of (operation, sequence number) differs from the unsharded schedule", n)
		}
		if !slices.Equal(sortedTimes(times), sortedTimes(whole.times)) {
			t.Errorf("%d shards: the union of (operation, intended time) differs from the unsharded schedule", n)
		}
	}
}

// A phase that begins more than DropAfter after its StartAt skips the
// sends already due, counts them as missed, and numbers the rest as if it
// had sent them.
func TestLateStartSkipsWhatWasDue(t *testing.T) {
	whole := runShard(t, Shard{}, time.Time{}, 0, time.Hour)
	late := runShard(t, Shard{}, time.Now().Add(-150*time.Millisecond), 0, 100*time.Millisecond)
	g := late.res.Generator
	if late.res.StartLag < 150*time.Millisecond || g.StartLagMs < 150 {
		t.Errorf("start lag %v (%g ms), want ≥ 150 ms", late.res.StartLag, g.StartLagMs)
	}
	if late.res.Missed < 200 || late.res.Missed > 450 || g.Missed != late.res.Missed {
		t.Errorf("missed %d (generator %d), want about 2000/s × 0.15 s = 300", late.res.Missed, g.Missed)
	}
	if d := g.Dropped; d > 0 {
		// The machine stalled the sender for DropAfter: what was sent is
		// then not the whole tail (rare; the sum still holds).
		if got := uint64(len(late.seqs)) + late.res.Missed + d; got != uint64(len(whole.seqs)) {
			t.Errorf("sent %d + missed %d + dropped %d = %d, want the schedule's %d", len(late.seqs), late.res.Missed, d, got, len(whole.seqs))
		}
	} else {
		if got := uint64(len(late.seqs)) + late.res.Missed; got != uint64(len(whole.seqs)) {
			t.Errorf("sent %d + missed %d = %d, want the schedule's %d", len(late.seqs), late.res.Missed, got, len(whole.seqs))
		}
		// What was sent is the tail of the schedule, numbered as in it.
		tail := sortedSeqs(whole.seqs)[late.res.Missed:]
		if !slices.Equal(sortedSeqs(late.seqs), tail) {
			t.Errorf("the late phase's sends are not the schedule's last %d", len(tail))
		}
	}
	if late.res.NextSeq != whole.res.NextSeq {
		t.Errorf("next sequence number %d, want %d", late.res.NextSeq, whole.res.NextSeq)
	}
}

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Shard
		ok   bool
	}{
		{"0/1", Shard{0, 1}, true}, {"3/4", Shard{3, 4}, true},
		{"4/4", Shard{}, false}, {"-1/2", Shard{}, false}, {"1", Shard{}, false}, {"a/b", Shard{}, false}, {"0/0", Shard{}, false},
	} {
		got, err := ParseShard(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
