package stats

import (
	"math"
	"slices"
	"testing"
)

func TestWalshMedian(t *testing.T) {
	tests := []struct {
		d    []float64
		want float64
	}{
		{[]float64{1}, 1},
		{[]float64{1, 3}, 2},             // walsh 1, 2, 3
		{[]float64{0, 0, 10}, 2.5},       // Walsh averages 0 0 0 5 5 10
		{[]float64{-1, 1}, 0},            // -1, 0, 1
		{[]float64{1, 2, 3, 100}, 2.75},  // 1 1.5 2 2 2.5 | 3 50.5 51 51.5 100: the outlier barely moves it
		{[]float64{5, 5, 5, 5, 5, 5}, 5}, // constant
	}
	for _, tt := range tests {
		if got := WalshMedian(tt.d); !close(got, tt.want) {
			t.Errorf("WalshMedian(%v) = %v, want %v", tt.d, got, tt.want)
		}
	}
	if !math.IsNaN(WalshMedian(nil)) {
		t.Error("WalshMedian(nil) is not NaN")
	}
}

func TestMedianCI(t *testing.T) {
	d := []float64{0.06, 0.07, 0.14, 0.15, 0.015, 0.17, 0.09, 0.11, 0.12, 0.08}
	var b MedianBootstrap
	lo, hi := b.MedianCI(d, 0.99, 2000, 7)
	lo2, hi2 := b.MedianCI(d, 0.99, 2000, 7)
	if lo != lo2 || hi != hi2 {
		t.Errorf("not reproducible: %v…%v then %v…%v", lo, hi, lo2, hi2)
	}
	med := Median(d)
	if !(lo <= med && med <= hi) || lo < slices.Min(d) || hi > slices.Max(d) {
		t.Errorf("CI %v…%v must hold the median %v and stay within the data", lo, hi, med)
	}
	if !(lo > 0) {
		t.Errorf("every pair is positive but the 99%% CI reaches %v", lo)
	}
	if l, h := b.MedianCI(nil, 0.9, 100, 1); !math.IsNaN(l) || !math.IsNaN(h) {
		t.Error("empty d: want NaN, NaN")
	}
}
