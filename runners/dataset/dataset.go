// Package dataset generates a scenario's data — embeddings, text contents,
// memory spaces and request targets — from a seed.
//
// Its one promise: the same seed and [data] table give byte-identical output
// on every machine and Go version, so a result can be reproduced anywhere.
// That rules out math.Rand's streams, math.Log/Cos/Exp (whose last bit may
// differ by architecture) and fused multiply-adds: it uses its own splitmix64
// keyed by (seed, stream, index), Irwin–Hall Gaussian noise made of integer
// sums, and an explicit float32()/float64() conversion after every product so
// that the compiler cannot fuse it (Go permits fusion on arm64, ppc64, s390x
// and amd64 v3). Every value is random-access by index: node i's embedding
// does not depend on nodes 0…i-1, so workers can generate in parallel.
package dataset

import (
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/engram/m18-gate/runners/scenario"
)

// Streams keep the independent random choices independent: node i's
// embedding and request i's target never share random numbers.
const (
	// Digits of pi, in 64-bit words: arbitrary but fixed forever.
	streamCenter    uint64 = 0x243f6a8885a308d3
	streamNode      uint64 = 0x13198a2e03707344
	streamContent   uint64 = 0xa4093822299f31d0
	streamTarget    uint64 = 0x082efa98ec4e6c89
	streamQuery     uint64 = 0x452821e638d01377
	streamQueryText uint64 = 0xbe5466cf34e90c6c
)

// maxCachedCenters bounds the float32s of cluster centres kept in memory
// (64 MiB); beyond it centres are regenerated per call.
const maxCachedCenters = 16 << 20

// queryNoise is the norm of the noise added to a target's embedding to make a
// query: cosine similarity to the target ≈ 1/sqrt(1+queryNoise²) ≈ 0.96.
const queryNoise = 0.3

// Generator produces one scenario's data. It is immutable after New and safe
// for concurrent use.
type Generator struct {
	d    scenario.Data
	seed uint64
	dim  int

	dist      string  // "clustered", "uniform" or "hot_spot"
	clusters  uint64  // clustered: number of centres
	stdDev    float32 // noise per component around a centre
	centers   []float32
	querySD   float32 // per-component query noise
	hot       uint64  // hot_spot: nodes 0…hot-1 are hot
	hotThresh uint64  // hot_spot: P(hot) × 2^53
}

// New returns the generator for d and seed. A zero Distribution.Type means
// scenario.DefaultDistribution; dimensions below 1 are treated as 1.
func New(d scenario.Data, seed uint64) *Generator {
	g := &Generator{d: d, seed: seed, dim: max(d.EmbeddingDim, 1)}
	dist := d.Distribution
	if dist.Type == "" {
		dist = scenario.DefaultDistribution
	}
	g.dist = dist.Type
	g.stdDev = float32(dist.StdDev)
	g.querySD = float32(queryNoise / math.Sqrt(float64(g.dim))) // Sqrt is correctly rounded everywhere
	switch dist.Type {
	case "clustered":
		g.clusters = uint64(max(dist.NumClusters, 1))
		if g.clusters*uint64(g.dim) <= maxCachedCenters {
			g.centers = make([]float32, g.clusters*uint64(g.dim))
			for k := uint64(0); k < g.clusters; k++ {
				g.center(k, g.centers[k*uint64(g.dim):(k+1)*uint64(g.dim)])
			}
		}
	case "hot_spot":
		g.clusters = 1
		g.centers = make([]float32, g.dim)
		if center := dist.Center(); len(center) > 0 {
			for j := 0; j < g.dim && j < len(center); j++ {
				g.centers[j] = float32(center[j])
			}
		} else {
			g.center(0, g.centers)
		}
		n := uint64(max(d.NumNodes, 1))
		frac := dist.HotFraction
		if frac <= 0 {
			frac = scenario.DefaultHotFraction
		}
		g.hot = min(max(uint64(float64(float64(n)*frac)), 1), n) // float64(…) stops fusion into the conversion
		p := dist.HotProbability
		if p < 0 || p > 1 || math.IsNaN(p) {
			p = scenario.DefaultHotProbability
		}
		g.hotThresh = uint64(float64(p * (1 << 53))) // exact: scaling by a power of two
	default: // "uniform", and anything unknown
		g.dist = "uniform"
	}
	return g
}

// Dim is the embedding dimension.
func (g *Generator) Dim() int { return g.dim }

// center writes cluster k's centre: components uniform in [-1, 1).
func (g *Generator) center(k uint64, dst []float32) {
	r := newRNG(g.seed, streamCenter, k)
	for j := range dst {
		dst[j] = r.uniform()
	}
}

// Cluster is the cluster node i belongs to (0 for uniform and hot_spot).
func (g *Generator) Cluster(i uint64) uint64 {
	if g.dist != "clustered" {
		return 0
	}
	r := newRNG(g.seed, streamNode, i)
	return r.below(g.clusters)
}

// Embedding writes node i's embedding into dst (len(dst) must be Dim()),
// unit-normalised. clustered: a centre plus Gaussian noise of std_dev per
// component, clamped to [-1, 1] (as Engram); hot_spot: the single centre
// plus noise; uniform: components uniform in [-1, 1).
func (g *Generator) Embedding(i uint64, dst []float32) {
	dst = dst[:g.dim]
	r := newRNG(g.seed, streamNode, i)
	switch g.dist {
	case "clustered", "hot_spot":
		k := uint64(0)
		if g.dist == "clustered" {
			k = r.below(g.clusters)
		}
		var c []float32
		if g.centers != nil {
			c = g.centers[k*uint64(g.dim) : (k+1)*uint64(g.dim)]
		} else {
			g.center(k, dst)
			c = dst
		}
		for j := range dst {
			v := c[j] + float32(r.gauss()*g.stdDev)
			dst[j] = min(max(v, -1), 1)
		}
	default:
		for j := range dst {
			dst[j] = r.uniform()
		}
	}
	normalize(dst)
}

// Node is the stored node request i targets: uniform over the num_nodes
// preloaded nodes, or for hot_spot nodes 0…hot-1 with hot_probability and the
// others otherwise.
func (g *Generator) Node(i uint64) uint64 {
	n := uint64(max(g.d.NumNodes, 1))
	r := newRNG(g.seed, streamTarget, i)
	if g.dist != "hot_spot" || g.hot >= n {
		return r.below(n)
	}
	if r.next()>>11 < g.hotThresh {
		return r.below(g.hot)
	}
	return g.hot + r.below(n-g.hot)
}

// QueryEmbedding writes the query vector of request i (a recall cue or a
// search vector): the embedding of its target Node(i) plus noise of norm
// about 0.3, so it lands in the target's cluster and finds the target.
func (g *Generator) QueryEmbedding(i uint64, dst []float32) {
	dst = dst[:g.dim]
	g.Embedding(g.Node(i), dst)
	r := newRNG(g.seed, streamQuery, i)
	for j := range dst {
		dst[j] += float32(r.gauss() * g.querySD)
	}
	normalize(dst)
}

// vocabulary is the fixed word list contents are made of. Never reorder or
// edit it: contents (and the pinned hash) depend on it.
var vocabulary = [64]string{
	"amber", "anchor", "aspen", "atlas", "beacon", "birch", "bramble", "canyon",
	"cedar", "cinder", "comet", "coral", "delta", "drift", "dune", "echo",
	"ember", "fable", "fern", "fjord", "flint", "garnet", "glacier", "harbor",
	"hazel", "heron", "indigo", "island", "jasper", "juniper", "kestrel", "lagoon",
	"lantern", "lichen", "maple", "meadow", "meteor", "mist", "nectar", "nova",
	"oasis", "onyx", "orbit", "orchid", "pebble", "prairie", "quartz", "quill",
	"raven", "reef", "ridge", "saffron", "sierra", "slate", "sparrow", "summit",
	"thicket", "tundra", "umber", "valley", "willow", "yarrow", "zenith", "zephyr",
}

// contentWords is how many vocabulary words a content has after its topic.
const contentWords = 5

// Content is node i's text: a topic word (its cluster's, for clustered
// data), five words from a fixed vocabulary and the token "node-<i>", e.g.
// "coral meadow flint orbit raven quill node-42".
func (g *Generator) Content(i uint64) string {
	var b strings.Builder
	b.Grow(64)
	b.WriteString(vocabulary[g.topic(i)])
	r := newRNG(g.seed, streamContent, i)
	x := r.next()
	for w := 0; w < contentWords; w++ {
		b.WriteByte(' ')
		b.WriteString(vocabulary[x&63])
		x >>= 6
	}
	b.WriteString(" node-")
	b.WriteString(strconv.FormatUint(i, 10))
	return b.String()
}

func (g *Generator) topic(i uint64) uint64 {
	if g.dist == "clustered" {
		return g.Cluster(i) % uint64(len(vocabulary))
	}
	r := newRNG(g.seed, streamContent, i)
	return r.next() >> 58 // the top 6 bits; Content uses the low 30
}

// QueryText is request i's text query: two words of its target's content
// (the topic and one other), so a text search has something to find.
func (g *Generator) QueryText(i uint64) string {
	node := g.Node(i)
	r := newRNG(g.seed, streamQueryText, i)
	c := newRNG(g.seed, streamContent, node)
	x := c.next()
	w := r.below(contentWords)
	return vocabulary[g.topic(node)] + " " + vocabulary[(x>>(6*w))&63]
}

// Space is node i's memory space: "default" when memory_spaces is 1, else
// "space-00", "space-01", … assigned round-robin (i mod memory_spaces).
func (g *Generator) Space(i uint64) string {
	n := uint64(max(g.d.MemorySpaces, 1))
	if n == 1 {
		return "default"
	}
	s := strconv.FormatUint(i%n, 10)
	if len(s) < 2 {
		s = "0" + s
	}
	return "space-" + s
}

// normalize scales v to unit length. The sum of squares is exact in float64
// (a float32 square has at most 48 significant bits); math.Sqrt is
// correctly rounded on every platform; each product is rounded explicitly.
func normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(float64(x) * float64(x))
	}
	if s == 0 {
		if len(v) > 0 {
			v[0] = 1
		}
		return
	}
	inv := 1 / math.Sqrt(s)
	for j, x := range v {
		v[j] = float32(float64(x) * inv)
	}
}

// rng is splitmix64 (Steele, Lea, Flood 2014): a 64-bit counter through a
// bijective mixer. Small, fast, and the same on every platform.
type rng struct{ s uint64 }

const gamma = 0x9e3779b97f4a7c15

func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// newRNG starts the stream for (seed, stream, index).
func newRNG(seed, stream, i uint64) rng {
	return rng{s: mix(mix(seed^stream) + i*gamma)}
}

func (r *rng) next() uint64 {
	r.s += gamma
	return mix(r.s)
}

// below is uniform on [0, n) (Lemire's multiply-shift; the bias, < n/2^64,
// is far below anything measurable here).
func (r *rng) below(n uint64) uint64 {
	hi, _ := bits.Mul64(r.next(), n)
	return hi
}

// uniform is uniform on [-1, 1) in steps of 2^-23; every step is exact.
func (r *rng) uniform() float32 {
	return float32(int32(r.next()>>40)-(1<<23)) * (1.0 / (1 << 23))
}

// gauss is approximately standard normal: the Irwin–Hall sum of twelve
// 16-bit uniforms, centred. Integer arithmetic until one exact conversion.
func (r *rng) gauss() float32 {
	// Each word holds four 16-bit uniforms; add them pairwise in two 32-bit
	// lanes (at most 6·65535 per lane, no carry between lanes).
	const m = 0x0000ffff0000ffff
	a, b, c := r.next(), r.next(), r.next()
	l := a&m + a>>16&m + b&m + b>>16&m + c&m + c>>16&m
	sum := int64(l&0xffffffff + l>>32)
	// (sum - 12·32767.5) / 65536, with the half removed by doubling:
	// |2·sum − 786420| < 2^24, so the conversion is exact.
	return float32(2*sum-786420) * (1.0 / (1 << 17))
}
