package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParsePercent reads a threshold written in percent: "5" and "5%" both mean
// 5 % and return 0.05. A bare number below 0.5 is refused, because "0.05"
// is far more often a fraction meant as 5 % than a threshold of 0.05 %;
// write "0.05%" to mean that.
func ParsePercent(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	t = strings.TrimSpace(strings.TrimSuffix(t, "%"))
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a percentage (write 5 or 5%% for five percent)", s)
	}
	return percentValue(v, pct, s)
}

func percentValue(v float64, pct bool, orig string) (float64, error) {
	if !(v > 0) {
		return 0, fmt.Errorf("%s must be > 0 %%", orig)
	}
	if !pct && v < 0.5 {
		return 0, fmt.Errorf("%s is read in percent, i.e. %v %%; write %v%% for %v %%, or %s%% if you really mean %s %%", orig, v, v*100, v*100, orig, orig)
	}
	return v / 100, nil
}

// FormatPercent writes a fraction as a percentage: 0.05 → "5%".
func FormatPercent(f float64) string {
	return strconv.FormatFloat(f*100, 'g', 4, 64) + "%"
}
