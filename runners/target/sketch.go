package target

import "math"

// sketchDim is the length of the sketch kept beside every embedding: a
// random ±1 projection of the unit vector (Achlioptas 2003), so that the dot
// product of two sketches estimates the cosine of their vectors at 1/12 of
// the cost of the full one.
const sketchDim = 64

// exactRecallLimit is the number of memories in a space up to which recall
// scans full vectors only. Beyond it, recall scans sketches and re-ranks the
// best candidates of each shard exactly.
const exactRecallLimit = 4096

// projection is the fixed random projection from Dim to sketchDim, laid out
// row-major by input dimension so that sketching streams through it.
type projection [Dim * sketchDim]float32

// newProjection returns the projection for a seed: entries ±1/√sketchDim
// from SplitMix64, so every server with the same seed sketches alike.
func newProjection(seed uint64) *projection {
	p := new(projection)
	scale := float32(1 / math.Sqrt(sketchDim))
	x := seed ^ 0x5ce7c4
	for i := range p {
		x = splitmix64(x)
		if x&1 == 0 {
			p[i] = scale
		} else {
			p[i] = -scale
		}
	}
	return p
}

// sketch writes the projection of the unit vector v into dst (sketchDim).
func (p *projection) sketch(v []float32, dst []float32) {
	dst = dst[:sketchDim]
	clear(dst)
	for i, x := range v[:Dim] {
		if x == 0 {
			continue
		}
		row := p[i*sketchDim : i*sketchDim+sketchDim : i*sketchDim+sketchDim]
		for j := range dst {
			dst[j] += x * row[j]
		}
	}
}

// candidates is a bounded min-heap of (sketch score, row) pairs: the rows of
// one shard worth an exact look.
type candidates struct {
	k     int
	score []float32
	row   []int32
}

func (c *candidates) reset(k int) {
	c.k = k
	c.score = c.score[:0]
	c.row = c.row[:0]
}

func (c *candidates) offer(s float32, r int) {
	if len(c.score) < c.k {
		c.score = append(c.score, s)
		c.row = append(c.row, int32(r))
		for i := len(c.score) - 1; i > 0; {
			p := (i - 1) / 2
			if c.score[p] <= c.score[i] {
				break
			}
			c.swap(p, i)
			i = p
		}
		return
	}
	if s <= c.score[0] {
		return
	}
	c.score[0], c.row[0] = s, int32(r)
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < len(c.score) && c.score[l] < c.score[small] {
			small = l
		}
		if r := l + 1; r < len(c.score) && c.score[r] < c.score[small] {
			small = r
		}
		if small == i {
			return
		}
		c.swap(i, small)
		i = small
	}
}

func (c *candidates) swap(i, j int) {
	c.score[i], c.score[j] = c.score[j], c.score[i]
	c.row[i], c.row[j] = c.row[j], c.row[i]
}
