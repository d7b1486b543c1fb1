package dataset

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/engram/m18-gate/runners/scenario"
)

func data(dist scenario.Distribution) scenario.Data {
	return scenario.Data{NumNodes: 10_000, EmbeddingDim: 768, MemorySpaces: 4, Distribution: dist}
}

var (
	clustered = scenario.Distribution{Type: "clustered", NumClusters: 20, StdDev: 0.15}
	uniform   = scenario.Distribution{Type: "uniform"}
	hotSpot   = scenario.Distribution{Type: "hot_spot", StdDev: 0.01, HotFraction: 0.01, HotProbability: 0.9}
)

// digest hashes everything a generator produces for the first n indices:
// embeddings and query embeddings as little-endian float32 bits, contents,
// query texts, spaces and targets.
func digest(g *Generator, n uint64) string {
	h := sha256.New()
	v := make([]float32, g.Dim())
	var b [8]byte
	for i := uint64(0); i < n; i++ {
		g.Embedding(i, v)
		for _, x := range v {
			binary.LittleEndian.PutUint32(b[:4], math.Float32bits(x))
			h.Write(b[:4])
		}
		g.QueryEmbedding(i, v)
		for _, x := range v {
			binary.LittleEndian.PutUint32(b[:4], math.Float32bits(x))
			h.Write(b[:4])
		}
		binary.LittleEndian.PutUint64(b[:], g.Node(i))
		h.Write(b[:])
		h.Write([]byte(g.Content(i) + "\x00" + g.QueryText(i) + "\x00" + g.Space(i) + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestPinnedDigest pins the generated data for seed 0xDEADBEEF. If this
// fails, results produced before the change can no longer be reproduced:
// never update these values to make the test pass unless that break is
// intended and announced. The same values must come out on every
// architecture (try GOARCH=386, GOAMD64=v3 which allows FMA, and arm64).
func TestPinnedDigest(t *testing.T) {
	for _, tc := range []struct {
		name string
		dist scenario.Distribution
		want string
	}{
		{"clustered", clustered, "96b0d1fc3843bd9b2be057e1de71320c7acc49d97cb829d16af50d94d3a8463b"},
		{"uniform", uniform, "ae8a36f63c004b3a2fbbe9f119f9db9a97ae7aa5566f3327b4e2700e7fe57d2d"},
		{"hot_spot", hotSpot, "11c8d7c031d61d7dbf44e25f6b7e9570a7d748c4c72c29769cfd3a2c32465e2b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := digest(New(data(tc.dist), 0xDEADBEEF), 1000)
			if got != tc.want {
				t.Errorf("digest of first 1000 items = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestNoFusedMultiplyAdd compiles this package for the architectures where
// Go may fuse x*y+z into one instruction and fails if any fused instruction
// appears in it: a fused operation rounds once instead of twice, so data
// would differ between, say, amd64 and arm64 in the last bit.
func TestNoFusedMultiplyAdd(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the package for four architectures; skipped in -short")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		t.Skipf("no go tool at %s: %v", goTool, err)
	}
	fused := regexp.MustCompile(`\b(FN?M(ADD|SUB)[SD]?|WFN?M[AS][DS]?B?)\b`)
	for _, arch := range []string{"arm64", "ppc64le", "riscv64", "s390x"} {
		cmd := exec.Command(goTool, "build", "-gcflags=-S", "-o", os.DevNull, ".")
		cmd.Env = append(os.Environ(), "GOARCH="+arch, "GOOS=linux", "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("GOARCH=%s go build: %v\n%s", arch, err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "dataset.go:") && fused.MatchString(line) {
				t.Errorf("GOARCH=%s: fused multiply-add in generated code (add an explicit float32()/float64() conversion):\n%s", arch, line)
			}
		}
	}
}

func TestSameSeedSameDataDifferentSeedDifferentData(t *testing.T) {
	for _, dist := range []scenario.Distribution{clustered, uniform, hotSpot} {
		a := digest(New(data(dist), 1), 50)
		b := digest(New(data(dist), 1), 50)
		c := digest(New(data(dist), 2), 50)
		if a != b {
			t.Errorf("%s: same seed gave different data", dist.Type)
		}
		if a == c {
			t.Errorf("%s: seeds 1 and 2 gave the same data", dist.Type)
		}
	}
	// Two seeds must differ in the embeddings themselves, not only the hash.
	g1, g2 := New(data(clustered), 1), New(data(clustered), 2)
	v1, v2 := make([]float32, 768), make([]float32, 768)
	g1.Embedding(0, v1)
	g2.Embedding(0, v2)
	if cosine(v1, v2) > 0.99 {
		t.Errorf("seeds 1 and 2 gave near-identical node 0 (cos %.4f)", cosine(v1, v2))
	}
}

func TestRandomAccess(t *testing.T) {
	// Node 500's embedding must not depend on whether 0…499 were generated.
	g := New(data(clustered), 7)
	a, b := make([]float32, 768), make([]float32, 768)
	g.Embedding(500, a)
	for i := uint64(0); i < 500; i++ {
		g.Embedding(i, b)
	}
	g.Embedding(500, b)
	for j := range a {
		if a[j] != b[j] {
			t.Fatalf("component %d differs: %v vs %v", j, a[j], b[j])
		}
	}
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for j := range a {
		ab += float64(a[j]) * float64(b[j])
		aa += float64(a[j]) * float64(a[j])
		bb += float64(b[j]) * float64(b[j])
	}
	return ab / math.Sqrt(aa*bb)
}

func TestUnitNorm(t *testing.T) {
	for _, dist := range []scenario.Distribution{clustered, uniform, hotSpot} {
		for _, dim := range []int{1, 3, 768} {
			d := data(dist)
			d.EmbeddingDim = dim
			g := New(d, 3)
			v := make([]float32, dim)
			for i := uint64(0); i < 100; i++ {
				for _, f := range []func(uint64, []float32){g.Embedding, g.QueryEmbedding} {
					f(i, v)
					var s float64
					for _, x := range v {
						if math.IsNaN(float64(x)) || x < -1 || x > 1 {
							t.Fatalf("%s dim %d: component %v out of [-1,1]", dist.Type, dim, x)
						}
						s += float64(x) * float64(x)
					}
					if math.Abs(s-1) > 1e-5 {
						t.Fatalf("%s dim %d item %d: squared norm %v, want 1", dist.Type, dim, i, s)
					}
				}
			}
		}
	}
}

func TestClustersAreTight(t *testing.T) {
	// With std_dev 0.15 around centres uniform in [-1,1], two members of one
	// cluster have cosine ≈ (1/3)/(1/3+0.0225) ≈ 0.94, members of different
	// clusters ≈ 0. Check both over many pairs.
	g := New(data(clustered), 11)
	byCluster := map[uint64][][]float32{}
	for i := uint64(0); i < 400; i++ {
		v := make([]float32, 768)
		g.Embedding(i, v)
		k := g.Cluster(i)
		byCluster[k] = append(byCluster[k], v)
	}
	if len(byCluster) != 20 {
		t.Fatalf("400 nodes fell in %d clusters, want all 20", len(byCluster))
	}
	var same, diff []float64
	for k, vs := range byCluster {
		for a := 1; a < len(vs); a++ {
			same = append(same, cosine(vs[0], vs[a]))
		}
		other := byCluster[(k+1)%20]
		diff = append(diff, cosine(vs[0], other[0]))
	}
	if m := mean(same); math.Abs(m-0.937) > 0.02 {
		t.Errorf("mean cosine within a cluster = %.3f, want ≈ 0.937", m)
	}
	if m := mean(diff); math.Abs(m) > 0.05 {
		t.Errorf("mean cosine across clusters = %.3f, want ≈ 0", m)
	}
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func TestQueryFindsItsTarget(t *testing.T) {
	for _, dist := range []scenario.Distribution{clustered, uniform, hotSpot} {
		g := New(data(dist), 5)
		q, v := make([]float32, 768), make([]float32, 768)
		for i := uint64(0); i < 50; i++ {
			g.QueryEmbedding(i, q)
			g.Embedding(g.Node(i), v)
			// Expected 1/sqrt(1+0.3²) = 0.958.
			if c := cosine(q, v); c < 0.93 || c > 0.99 {
				t.Fatalf("%s: query %d has cosine %.3f to its target, want ≈ 0.958", dist.Type, i, c)
			}
		}
	}
}

func TestGaussMoments(t *testing.T) {
	// Irwin–Hall(12) − 6: mean 0, variance 1, kurtosis 3 − 1.2/12 = 2.9.
	r := newRNG(1, 2, 3)
	const n = 200_000
	var s1, s2, s4 float64
	for i := 0; i < n; i++ {
		x := float64(r.gauss())
		s1 += x
		s2 += x * x
		s4 += x * x * x * x
	}
	m := s1 / n
	v := s2/n - m*m
	k := s4 / n / (v * v)
	// Standard errors: mean 1/sqrt(n) = 0.0022, variance sqrt(2/n) = 0.0032.
	if math.Abs(m) > 0.012 || math.Abs(v-1) > 0.016 || math.Abs(k-2.9) > 0.05 {
		t.Errorf("gauss: mean %.4f var %.4f kurtosis %.3f, want 0, 1, 2.9", m, v, k)
	}
}

func TestNodeTargets(t *testing.T) {
	const n = 100_000
	t.Run("uniform", func(t *testing.T) {
		g := New(data(clustered), 9)
		counts := make([]int, 10)
		for i := uint64(0); i < n; i++ {
			x := g.Node(i)
			if x >= 10_000 {
				t.Fatalf("Node(%d) = %d, beyond num_nodes", i, x)
			}
			counts[x/1000]++
		}
		// Each decile: binomial(n, 0.1), sd = 95; allow 5 sd.
		for d, c := range counts {
			if math.Abs(float64(c)-n/10) > 5*95 {
				t.Errorf("decile %d got %d of %d requests, want ≈ %d", d, c, n, n/10)
			}
		}
	})
	t.Run("hot_spot", func(t *testing.T) {
		g := New(data(hotSpot), 9)
		hot, seen := 0, map[uint64]bool{}
		for i := uint64(0); i < n; i++ {
			x := g.Node(i)
			if x >= 10_000 {
				t.Fatalf("Node(%d) = %d, beyond num_nodes", i, x)
			}
			if x < 100 { // 1 % of 10 000
				hot++
				seen[x] = true
			}
		}
		// binomial(n, 0.9): sd = 95; allow 5 sd.
		if math.Abs(float64(hot)-0.9*n) > 5*95 {
			t.Errorf("hot nodes got %d of %d requests, want ≈ %d", hot, n, int(0.9*n))
		}
		if len(seen) != 100 {
			t.Errorf("%d distinct hot nodes hit, want all 100", len(seen))
		}
	})
}

func TestContentAndText(t *testing.T) {
	g := New(data(clustered), 4)
	words := map[string]bool{}
	for _, w := range vocabulary {
		words[w] = true
	}
	for i := uint64(0); i < 200; i++ {
		c := g.Content(i)
		f := strings.Fields(c)
		if len(f) != 7 || f[6] != "node-"+strconv.FormatUint(i, 10) {
			t.Fatalf("Content(%d) = %q, want 6 words and node-%d", i, c, i)
		}
		for _, w := range f[:6] {
			if !words[w] {
				t.Fatalf("Content(%d) has %q, not in the vocabulary", i, w)
			}
		}
		target := g.Content(g.Node(i))
		for _, w := range strings.Fields(g.QueryText(i)) {
			if !strings.Contains(target, w) {
				t.Fatalf("QueryText(%d) word %q not in its target's content %q", i, w, target)
			}
		}
	}
	// Same cluster, same topic word.
	for i := uint64(0); i < 200; i++ {
		if want := vocabulary[g.Cluster(i)%64]; !strings.HasPrefix(g.Content(i), want+" ") {
			t.Fatalf("Content(%d) = %q, want topic %q", i, g.Content(i), want)
		}
	}
}

func TestSpace(t *testing.T) {
	for _, tc := range []struct {
		spaces int
		i      uint64
		want   string
	}{
		{1, 5, "default"},
		{0, 5, "default"},
		{4, 0, "space-00"},
		{4, 5, "space-01"},
		{16, 15, "space-15"},
		{200, 123, "space-123"},
	} {
		d := data(uniform)
		d.MemorySpaces = tc.spaces
		if got := New(d, 1).Space(tc.i); got != tc.want {
			t.Errorf("spaces %d: Space(%d) = %q, want %q", tc.spaces, tc.i, got, tc.want)
		}
	}
}

func TestHotSpotCenter(t *testing.T) {
	// A given centre is used: with tiny noise every embedding points at it.
	d := data(scenario.Distribution{Type: "hot_spot", StdDev: 0.001}.WithCenter([]float64{1, 1}))
	d.EmbeddingDim = 4
	g := New(d, 1)
	v := make([]float32, 4)
	g.Embedding(3, v)
	if c := cosine(v, []float32{1, 1, 0, 0}); c < 0.999 {
		t.Errorf("hot_spot embedding %v has cosine %.4f to centre [1 1 0 0]", v, c)
	}
}

func BenchmarkEmbedding(b *testing.B) {
	for _, dist := range []scenario.Distribution{clustered, uniform} {
		b.Run(dist.Type+"/768", func(b *testing.B) {
			g := New(data(dist), 1)
			v := make([]float32, 768)
			b.SetBytes(768 * 4)
			for i := 0; b.Loop(); i++ {
				g.Embedding(uint64(i), v)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "embeddings/s")
		})
	}
}
