package stats

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// reference is testdata/reference.json, written by testdata/reference.py
// (Python standard library only, independent of this package):
//
//	python3 gate/stats/testdata/reference.py > gate/stats/testdata/reference.json
type reference struct {
	MannWhitney []struct {
		Name    string    `json:"name"`
		Source  string    `json:"source"`
		X       []float64 `json:"x"`
		Y       []float64 `json:"y"`
		U       float64   `json:"u"`
		PExact  *float64  `json:"p_exact"`
		PNormal float64   `json:"p_normal"`
		HL      float64   `json:"hl"`
		Exact   bool      `json:"exact"`
	} `json:"mann_whitney"`
	BenjaminiHochberg []struct {
		Name     string    `json:"name"`
		P        []float64 `json:"p"`
		Adjusted []float64 `json:"adjusted"`
	} `json:"benjamini_hochberg"`
	MinPValue []struct {
		NX, NY int
		P      float64
	} `json:"min_p_value"`
	MinSamplesForAlpha []struct {
		Alpha float64
		N     int
	} `json:"min_samples_for_alpha"`
}

func loadReference(t *testing.T) reference {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r reference
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("testdata/reference.json: %v", err)
	}
	if len(r.MannWhitney) < 15 {
		t.Fatalf("testdata/reference.json: only %d Mann-Whitney cases", len(r.MannWhitney))
	}
	return r
}

// close reports whether got matches want to 1e-6 relative (1e-12 absolute
// near zero).
func close(got, want float64) bool {
	if got == want {
		return true
	}
	d := math.Abs(got - want)
	return d <= 1e-6*math.Max(math.Abs(got), math.Abs(want)) || d <= 1e-12
}

func TestMannWhitneyReference(t *testing.T) {
	ref := loadReference(t)
	exact, normal, tied := 0, 0, 0
	for _, c := range ref.MannWhitney {
		t.Run(c.Name, func(t *testing.T) {
			r, err := MannWhitney(c.X, c.Y)
			if err != nil {
				t.Fatal(err)
			}
			if r.NX != len(c.X) || r.NY != len(c.Y) {
				t.Errorf("NX, NY = %d, %d; want %d, %d", r.NX, r.NY, len(c.X), len(c.Y))
			}
			if r.U != c.U {
				t.Errorf("U = %v; want %v", r.U, c.U)
			}
			if r.Exact != c.Exact {
				t.Fatalf("Exact = %v; want %v", r.Exact, c.Exact)
			}
			want := c.PNormal
			if c.Exact {
				if c.PExact == nil {
					t.Fatal("reference has no exact p-value")
				}
				want = *c.PExact
				exact++
			} else {
				normal++
			}
			if !close(r.P, want) {
				t.Errorf("P = %.15g; want %.15g (%s)", r.P, want, c.Source)
			}
			// The normal approximation on its own, for every case.
			u, st := uStatistic(sorted(c.X), sorted(c.Y), false)
			if st.groups < len(c.X)+len(c.Y) {
				tied++
			}
			pn := normalTwoSided(u, len(c.X), len(c.Y), st.tieSum)
			if !close(pn, c.PNormal) {
				t.Errorf("normal approximation P = %.15g; want %.15g", pn, c.PNormal)
			}
			if hl := HodgesLehmann(c.X, c.Y); !close(hl, c.HL) {
				t.Errorf("HodgesLehmann = %.15g; want %.15g", hl, c.HL)
			}
		})
	}
	t.Logf("%d cases: %d exact, %d normal, %d with ties", len(ref.MannWhitney), exact, normal, tied)
}

func sorted(x []float64) []float64 {
	s, _ := sortedCopy(x, "x")
	return s
}

// TestMannWhitneyPublished checks numbers printed by R and scipy, to the
// digits they print.
func TestMannWhitneyPublished(t *testing.T) {
	hw := struct{ x, y []float64 }{
		[]float64{0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46},
		[]float64{1.15, 0.88, 0.90, 0.74, 1.21},
	}
	tiesX := []float64{1, 5, 9, 24, 56, 21, 3, 7, 21, 4}
	for _, c := range []struct {
		name   string
		x, y   []float64
		normal bool // compare the normal approximation (R falls back to it with ties)
		u, p   float64
		digits float64 // absolute tolerance implied by the printed digits
	}{
		// scipy.stats.mannwhitneyu docs (Conover's example): U1 = 17, p = 0.1111111111111111.
		{"scipy males/females", []float64{19, 22, 16, 29, 24}, []float64{20, 11, 17, 12}, false, 17, 0.1111111111111111, 1e-15},
		// R ?wilcox.test, Hollander & Wolfe: W = 35, one-sided p = 0.1272 → two-sided 0.2544.
		{"R Hollander-Wolfe", hw.x, hw.y, false, 35, 2 * 0.1272, 2e-4},
		// R wilcox.test with ties (normal approximation, continuity correction).
		{"R ties", tiesX, []float64{12, 15, 5, 9, 9, 14, 56, 22, 3, 7, 32, 5}, true, 51.5, 0.5966, 1e-4},
		{"R ties separated", tiesX, []float64{1233, 4356, 987, 39999, 1111, 200000}, true, 0, 0.001364, 1e-6},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := MannWhitney(c.x, c.y)
			if err != nil {
				t.Fatal(err)
			}
			p := r.P
			if c.normal {
				u, st := uStatistic(sorted(c.x), sorted(c.y), false)
				p = normalTwoSided(u, len(c.x), len(c.y), st.tieSum)
			}
			if r.U != c.u || math.Abs(p-c.p) > c.digits {
				t.Errorf("U, p = %v, %.7g; want %v, %.7g", r.U, p, c.u, c.p)
			}
		})
	}
}

func TestMannWhitneyEdges(t *testing.T) {
	for _, c := range []struct {
		name    string
		x, y    []float64
		wantErr bool
		p       float64
	}{
		{"empty x", nil, []float64{1}, true, math.NaN()},
		{"empty y", []float64{1}, nil, true, math.NaN()},
		{"NaN", []float64{1, math.NaN()}, []float64{1}, true, math.NaN()},
		{"all equal small", []float64{2, 2, 2}, []float64{2, 2}, false, 1},
		{"all equal large", slices.Repeat([]float64{7}, 3000), slices.Repeat([]float64{7}, 2000), false, 1},
		{"one each", []float64{1}, []float64{2}, false, 1},
		{"two each separated", []float64{1, 2}, []float64{3, 4}, false, 2.0 / 6},
		{"identical", []float64{1, 2, 3}, []float64{1, 2, 3}, false, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := MannWhitney(c.x, c.y)
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v; want error %v", err, c.wantErr)
			}
			if c.wantErr {
				return
			}
			if !close(r.P, c.p) {
				t.Errorf("P = %v; want %v", r.P, c.p)
			}
		})
	}
}

func TestMannWhitneyInputsUnmodified(t *testing.T) {
	x := []float64{3, 1, 2}
	y := []float64{9, 7, 8}
	if _, err := MannWhitney(x, y); err != nil {
		t.Fatal(err)
	}
	if x[0] != 3 || y[0] != 9 {
		t.Errorf("inputs were modified: %v %v", x, y)
	}
}

func TestBenjaminiHochbergReference(t *testing.T) {
	ref := loadReference(t)
	for _, c := range ref.BenjaminiHochberg {
		t.Run(c.Name, func(t *testing.T) {
			got := BenjaminiHochberg(c.P)
			if len(got) != len(c.Adjusted) {
				t.Fatalf("len = %d; want %d", len(got), len(c.Adjusted))
			}
			for i := range got {
				if !close(got[i], c.Adjusted[i]) {
					t.Errorf("adjusted[%d] = %.15g; want %.15g (p = %v)", i, got[i], c.Adjusted[i], c.P[i])
				}
			}
		})
	}
	// Published: Benjamini & Hochberg (1995) reject the four smallest of
	// their fifteen p-values at q = 0.05.
	adj := BenjaminiHochberg(ref.BenjaminiHochberg[0].P)
	rejected := 0
	for _, a := range adj {
		if a < 0.05 {
			rejected++
		}
	}
	if rejected != 4 {
		t.Errorf("BH 1995 example: %d rejected at 0.05; want 4", rejected)
	}
}

func TestBenjaminiHochbergNaN(t *testing.T) {
	got := BenjaminiHochberg([]float64{0.01, math.NaN(), 0.04})
	want := []float64{0.02, math.NaN(), 0.04}
	for i := range got {
		if !(close(got[i], want[i]) || math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			t.Errorf("adjusted[%d] = %v; want %v", i, got[i], want[i])
		}
	}
	if len(BenjaminiHochberg(nil)) != 0 {
		t.Error("BenjaminiHochberg(nil) not empty")
	}
}

func TestMinPValueReference(t *testing.T) {
	ref := loadReference(t)
	for _, c := range ref.MinPValue {
		if got := MinPValue(c.NX, c.NY); !close(got, c.P) {
			t.Errorf("MinPValue(%d, %d) = %.15g; want %.15g", c.NX, c.NY, got, c.P)
		}
		// It is attained by separated samples.
		x, y := make([]float64, c.NX), make([]float64, c.NY)
		for i := range x {
			x[i] = float64(i)
		}
		for j := range y {
			y[j] = float64(c.NX + j)
		}
		if r, err := MannWhitney(x, y); err != nil || r.Exact && !close(r.P, c.P) {
			t.Errorf("MannWhitney on separated %d vs %d: P = %v, %v; want %v", c.NX, c.NY, r.P, err, c.P)
		}
	}
	for _, c := range ref.MinSamplesForAlpha {
		if got := MinSamplesForAlpha(c.Alpha); got != c.N {
			t.Errorf("MinSamplesForAlpha(%v) = %d; want %d", c.Alpha, got, c.N)
		}
	}
	if got := MinSamplesForAlpha(0.01); got != 5 {
		t.Errorf("MinSamplesForAlpha(0.01) = %d; benchstat's table says 5", got)
	}
	for _, a := range []float64{0, -1, 1.5, math.NaN()} {
		if got := MinSamplesForAlpha(a); got != 0 {
			t.Errorf("MinSamplesForAlpha(%v) = %d; want 0", a, got)
		}
	}
}
