package load

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard is one generator's part of a schedule sent by Count generators
// (Index 0 … Count-1). Of the global sequence of sends the arrival process
// paces in a phase (numbered 0, 1, 2, … from the phase's start), shard i
// sends those numbered k with k mod Count = i. Every shard paces and
// numbers the whole schedule — the same seed gives every shard the same
// intended times, operations and sequence numbers — so the union of the
// shards' sends is exactly the unsharded phase's, and the slices
// interleave (each shard's rate is the total's 1/Count, with the pattern's
// shape).
//
// The zero Shard (Count 0) is the whole schedule, as is 0/1.
type Shard struct {
	Index, Count int
}

// ParseShard parses "i/n" (0 ≤ i < n), as m18-run --shard takes it.
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("shard %q: want INDEX/COUNT, e.g. 0/4 for the first of four", s)
	}
	idx, err1 := strconv.Atoi(i)
	cnt, err2 := strconv.Atoi(n)
	if err1 != nil || err2 != nil || cnt < 1 || idx < 0 || idx >= cnt {
		return Shard{}, fmt.Errorf("shard %q: want INDEX/COUNT with 0 ≤ INDEX < COUNT, e.g. 0/4 … 3/4", s)
	}
	return Shard{Index: idx, Count: cnt}, nil
}

// String returns "i/n".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// sharded reports whether s is a part of a schedule, not all of it.
func (s Shard) sharded() bool { return s.Count > 1 }

// owns reports whether global send k is this shard's.
func (s Shard) owns(k uint64) bool {
	return !s.sharded() || k%uint64(s.Count) == uint64(s.Index)
}
