package result

import (
	"encoding/base64"
	"fmt"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram range of OpStats.Histogram: 1 µs to 1 h, 3 significant
// digits, values in microseconds.
const (
	HistogramMinUs  = 1
	HistogramMaxUs  = int64(time.Hour / time.Microsecond)
	HistogramDigits = 3
	// WindowDigits is the precision of Window.Histogram: 1 %, about
	// 25 KB per window in memory.
	WindowDigits = 2
)

// NewHistogram returns an empty histogram of OpStats.Histogram's range.
func NewHistogram() *hdr.Histogram {
	return hdr.New(HistogramMinUs, HistogramMaxUs, HistogramDigits)
}

// NewWindowHistogram returns an empty histogram of Window.Histogram's range.
func NewWindowHistogram() *hdr.Histogram {
	return hdr.New(HistogramMinUs, HistogramMaxUs, WindowDigits)
}

// EncodeHistogram encodes h as the document stores it: V2 compressed,
// base64.
func EncodeHistogram(h *hdr.Histogram) (string, error) {
	b, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("encode histogram: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// DecodeHistogram is the inverse of EncodeHistogram.
func DecodeHistogram(s string) (*hdr.Histogram, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	return hdr.Decode(b)
}

// LatencyOf returns the percentiles of a microsecond histogram in
// milliseconds.
func LatencyOf(h *hdr.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	ms := func(q float64) float64 { return float64(h.ValueAtQuantile(q)) / 1000 }
	return Latency{
		P50: ms(50), P90: ms(90), P95: ms(95), P99: ms(99), P999: ms(99.9), P9999: ms(99.99),
		Max:  float64(h.Max()) / 1000,
		Mean: h.Mean() / 1000,
	}
}
