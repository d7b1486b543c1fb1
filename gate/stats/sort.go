package stats

import (
	"math"
	"slices"
)

// radixMin is the length from which sortFloats uses a radix sort.
const radixMin = 1 << 12

// sortFloats sorts s (which holds no NaN) in increasing order. Large inputs
// use an LSD radix sort on the order-preserving integer encoding of float64
// (four 16-bit passes), several times faster than a comparison sort at 10⁶
// values; −0 sorts before +0, which compare equal anyway.
func sortFloats(s []float64) {
	if len(s) < radixMin {
		slices.Sort(s)
		return
	}
	keys := make([]uint64, len(s))
	for i, f := range s {
		b := math.Float64bits(f)
		if b>>63 == 1 {
			b = ^b
		} else {
			b |= 1 << 63
		}
		keys[i] = b
	}
	buf := make([]uint64, len(s))
	var count [1 << 16]int
	for shift := uint(0); shift < 64; shift += 16 {
		clear(count[:])
		for _, k := range keys {
			count[(k>>shift)&0xffff]++
		}
		if count[(keys[0]>>shift)&0xffff] == len(keys) {
			continue // every key has this digit: the pass would not move anything
		}
		sum := 0
		for d, c := range count {
			count[d] = sum
			sum += c
		}
		for _, k := range keys {
			d := (k >> shift) & 0xffff
			buf[count[d]] = k
			count[d]++
		}
		keys, buf = buf, keys
	}
	for i, b := range keys {
		if b>>63 == 1 {
			b &^= 1 << 63
		} else {
			b = ^b
		}
		s[i] = math.Float64frombits(b)
	}
}
