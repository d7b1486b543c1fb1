package instrument

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// C2C is the "Trace Event Information" summary of `perf c2c report
// --stdio`: the sampled loads and where they were served from. HITM loads
// found the line modified in another core's cache: the line bounced.
type C2C struct {
	LoadOps    float64
	L1Hit      float64
	FillBuffer float64
	LocalHITM  float64
	RemoteHITM float64
	LLCMisses  float64
}

// ParseC2C reads the summary of `perf c2c report --stdio` ("  Load
// Operations : 69679" and so on). It fails when the report holds no load
// operations line (perf c2c recorded nothing or is not the report).
func ParseC2C(out []byte) (C2C, error) {
	var c C2C
	seen := false
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		v = strings.TrimSpace(v)
		if strings.HasSuffix(v, "%") {
			continue
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		switch k {
		case "Load Operations":
			c.LoadOps, seen = n, true
		case "Load L1D hit":
			c.L1Hit = n
		case "Load Fill Buffer Hit":
			c.FillBuffer = n
		case "Load Local HITM":
			c.LocalHITM = n
		case "Load Remote HITM":
			c.RemoteHITM = n
		case "Load LLC Misses":
			c.LLCMisses = n
		}
	}
	if !seen {
		return C2C{}, fmt.Errorf("perf c2c report: no \"Load Operations\" line (did perf c2c record any loads?)")
	}
	return c, nil
}

// HITMShare is the share of sampled loads that missed L1 (and its fill
// buffer) and found the line modified in another core's cache, local or
// remote: the share of misses due to line bouncing.
func (c C2C) HITMShare() (float64, bool) {
	misses := c.LoadOps - c.L1Hit - c.FillBuffer
	if misses <= 0 {
		return 0, false
	}
	return (c.LocalHITM + c.RemoteHITM) / misses, true
}

// C2C records cache-to-cache transfers of process pid for d with `perf c2c
// record` (into dir) and returns the report's summary.
func (p Perf) C2C(ctx context.Context, pid int, d time.Duration, dir string) (C2C, error) {
	data := filepath.Join(dir, "perf-c2c.data")
	rec := exec.CommandContext(ctx, p.bin(), "c2c", "record", "-o", data, "-p", strconv.Itoa(pid), "--", "sleep", strconv.FormatFloat(d.Seconds(), 'f', 3, 64))
	if out, err := rec.CombinedOutput(); err != nil {
		return C2C{}, fmt.Errorf("perf c2c record: %v: %s", err, clip(out))
	}
	defer os.Remove(data)
	rep := exec.CommandContext(ctx, p.bin(), "c2c", "report", "-i", data, "--stdio")
	var stdout, stderr bytes.Buffer
	rep.Stdout, rep.Stderr = &stdout, &stderr
	if err := rep.Run(); err != nil {
		return C2C{}, fmt.Errorf("perf c2c report: %v: %s", err, clip(stderr.Bytes()))
	}
	return ParseC2C(stdout.Bytes())
}
