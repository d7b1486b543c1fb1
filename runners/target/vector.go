package target

import (
	"hash/fnv"
	"math"
	"strconv"
)

// Dim is the embedding dimension Engram uses and the target requires.
const Dim = 768

// parseVector parses a JSON array of numbers as sent in an embedding field or
// in the recall query string. With allowNull, null entries are accepted and
// reported as unknown in the returned mask (nil when every value is known);
// without it they are errors. Every value must be a finite float32 and there
// must be exactly Dim of them. field names the request field in errors.
//
// It works on a string so that slicing numbers out of it does not allocate.
func parseVector(field, s string, allowNull bool) (vec []float32, known []bool, err error) {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '[' {
		return nil, nil, fieldErrorf(field, "must be a JSON array of %d numbers", Dim)
	}
	i = skipSpace(s, i+1)
	vec = make([]float32, Dim)
	n := 0
	if i < len(s) && s[i] == ']' {
		i++
	} else {
		for {
			i = skipSpace(s, i)
			if i >= len(s) {
				return nil, nil, fieldErrorf(field, "unterminated array after %d values", n)
			}
			switch {
			case len(s)-i >= 4 && s[i:i+4] == "null":
				if !allowNull {
					return nil, nil, fieldErrorf(field+"["+strconv.Itoa(n)+"]", "is null; every value must be a finite number")
				}
				if n < Dim {
					if known == nil {
						known = make([]bool, Dim)
						for k := 0; k < n; k++ {
							known[k] = true
						}
					}
					known[n] = false
				}
				i += 4
			default:
				j := i
				for j < len(s) && isNumberByte(s[j]) {
					j++
				}
				if j == i {
					return nil, nil, fieldErrorf(field+"["+strconv.Itoa(n)+"]", "expected a number, got %q", clip(s[i:], 12))
				}
				v, perr := strconv.ParseFloat(s[i:j], 64)
				if perr != nil || math.IsNaN(v) || math.Abs(v) > math.MaxFloat32 {
					return nil, nil, fieldErrorf(field+"["+strconv.Itoa(n)+"]", "%s is not a finite float32", clip(s[i:j], 24))
				}
				if n < Dim {
					vec[n] = float32(v)
					if known != nil {
						known[n] = true
					}
				}
				i = j
			}
			n++
			i = skipSpace(s, i)
			if i >= len(s) {
				return nil, nil, fieldErrorf(field, "unterminated array after %d values", n)
			}
			if s[i] == ']' {
				i++
				break
			}
			if s[i] != ',' {
				return nil, nil, fieldErrorf(field, "expected ',' or ']' after value %d, got %q", n-1, clip(s[i:], 12))
			}
			i++
		}
	}
	if i = skipSpace(s, i); i != len(s) {
		return nil, nil, fieldErrorf(field, "unexpected %q after the array", clip(s[i:], 12))
	}
	if n != Dim {
		return nil, nil, fieldErrorf(field, "has %d values; want exactly %d", n, Dim)
	}
	return vec, known, nil
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// clip shortens s for an error message.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// normalize scales v to unit length in place and returns its original norm.
// A zero vector stays zero (its similarity to everything is 0).
func normalize(v []float32) float64 {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	norm := math.Sqrt(ss)
	if norm == 0 || math.IsInf(norm, 0) {
		if math.IsInf(norm, 0) {
			// Values near MaxFloat32 overflow the sum of squares; rescale first.
			var m float64
			for _, x := range v {
				m = math.Max(m, math.Abs(float64(x)))
			}
			for i := range v {
				v[i] = float32(float64(v[i]) / m)
			}
			return normalize(v) * m
		}
		return 0
	}
	inv := 1 / norm
	for i := range v {
		v[i] = float32(float64(v[i]) * inv)
	}
	return norm
}

// dot8 returns the dot product of a and b, whose common length is a multiple
// of 8: four independent accumulators, no bounds checks in the body. Both the
// full embeddings and their sketches are scanned with it.
func dot8(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	for i := 0; i+8 <= len(a); i += 8 {
		x := a[i : i+8 : i+8]
		y := b[i : i+8 : i+8]
		s0 += x[0]*y[0] + x[4]*y[4]
		s1 += x[1]*y[1] + x[5]*y[5]
		s2 += x[2]*y[2] + x[6]*y[6]
		s3 += x[3]*y[3] + x[7]*y[7]
	}
	return (s0 + s1) + (s2 + s3)
}

// contentEmbedding derives a deterministic unit vector from text, for
// memories stored without an embedding and for text queries. Engram stores a
// constant placeholder instead; a content hash keeps recall meaningful here.
// The same text gives the same vector on every machine.
func contentEmbedding(text string) []float32 {
	h := fnv.New64a()
	h.Write([]byte(text))
	x := h.Sum64()
	v := make([]float32, Dim)
	for i := range v {
		x = splitmix64(x)
		// Uniform in [-1, 1): enough spread for distinct texts to be far apart.
		v[i] = float32(int64(x>>11))/float32(1<<52) - 1
	}
	normalize(v)
	return v
}

// splitmix64 is the SplitMix64 finaliser of x+golden: a fast, well-mixed,
// deterministic 64-bit hash step.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// unitFloat maps a 64-bit hash to a uniform float64 in [0, 1).
func unitFloat(x uint64) float64 { return float64(x>>11) / (1 << 53) }

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
