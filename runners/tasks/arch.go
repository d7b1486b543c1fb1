package tasks

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/result"
)

// ArchConfig is how task 011 checks the SIMD fallback. ArchBudget returns
// each budget's; callers may adjust a copy.
type ArchConfig struct {
	// Nodes memories are stored; Queries recalls of K memories are
	// compared between the SIMD and the scalar path.
	Nodes, Queries, K int
	// Rounds pairs of timed rounds (SIMD then scalar, alternating which
	// goes first), RoundQueries recalls each, measure the fallback's cost.
	Rounds, RoundQueries int
}

// ArchBudget returns task 011's configuration for a budget. Up to 4096
// memories the reference target's recall is exact; full reaches its
// approximate path.
func ArchBudget(b Budget) ArchConfig {
	switch b {
	case BudgetNightly:
		return ArchConfig{Nodes: 4000, Queries: 200, K: 10, Rounds: 20, RoundQueries: 100}
	case BudgetFull:
		return ArchConfig{Nodes: 100_000, Queries: 1000, K: 10, Rounds: 30, RoundQueries: 200}
	}
	return ArchConfig{Nodes: 2000, Queries: 50, K: 10, Rounds: 8, RoundQueries: 25}
}

// SIMDCost is the measured cost of the scalar fallback: mean recall time
// on each path and their ratio, with a 95 % interval over the paired
// rounds.
type SIMDCost struct {
	Rounds         int     `json:"rounds"`
	SIMDRecallUs   float64 `json:"simd_recall_us"`
	ScalarRecallUs float64 `json:"scalar_recall_us"`
	// Ratio is scalar/SIMD time (geometric mean of the rounds' ratios);
	// RatioLow and RatioHigh its 95 % interval.
	Ratio     float64 `json:"ratio"`
	RatioLow  float64 `json:"ratio_low"`
	RatioHigh float64 `json:"ratio_high"`
}

// ArchReport is task 011's section of the result document.
type ArchReport struct {
	Budget string `json:"budget"`
	// Arch is the machine's architecture (the fingerprint's), GOARCH the
	// binary's.
	Arch   string   `json:"arch"`
	GOARCH string   `json:"goarch"`
	SIMD   []string `json:"simd,omitempty"`
	Nodes  int      `json:"nodes"`
	// Queries recalls of K were compared.
	Queries int `json:"queries"`
	K       int `json:"k"`
	// DatasetDigest identifies the stored embeddings; AnswersDigest the ids
	// the SIMD path returned, in order (equal digests across machines mean
	// equal data and answers); ScalarAnswersDigest the scalar path's.
	DatasetDigest       string `json:"dataset_digest"`
	AnswersDigest       string `json:"answers_digest"`
	ScalarAnswersDigest string `json:"scalar_answers_digest,omitempty"`
	// Mismatches counts recalls whose ids or order differ between paths;
	// MaxScoreDiff is the largest score difference of the same memory.
	Mismatches   int       `json:"mismatches"`
	MaxScoreDiff float64   `json:"max_score_diff"`
	Cost         *SIMDCost `json:"cost,omitempty"`
	// CrossArch compares results of other architectures (a comparison,
	// never a verdict: the hardware differs).
	CrossArch []ArchComparison `json:"cross_arch,omitempty"`
	Skipped   []string         `json:"skipped,omitempty"`
	Checks    []result.Check   `json:"checks"`
}

// Arch runs task 011 on this machine: the same recalls with the target's
// SIMD path and its scalar fallback (the built-in target's
// Options.ScalarDot, or {simd} = on/off in --target-command), checking
// that the answers are identical and measuring the fallback's cost
// (env.Duration, when set, bounds the cost's rounds).
func Arch(ctx context.Context, env Env, cfg ArchConfig) (*Outcome, error) {
	start := time.Now()
	rep := &ArchReport{Budget: string(env.Budget), Arch: env.Hardware.Arch, GOARCH: runtime.GOARCH, SIMD: env.Hardware.SIMD,
		Nodes: cfg.Nodes, Queries: cfg.Queries, K: cfg.K}
	if rep.Arch == "" {
		rep.Arch = runtime.GOARCH
	}
	rep.DatasetDigest = DatasetDigest(env.Seed, cfg.Nodes)
	modes := []string{"on", "off"}
	if env.Endpoint != "" && env.TargetCommand == "" {
		modes = modes[:1]
		rep.Skipped = append(rep.Skipped, "SIMD fallback: an --endpoint target cannot be restarted without its SIMD paths; give --target-command with {simd} (on/off)")
	} else if env.TargetCommand != "" && !strings.Contains(env.TargetCommand, "{simd}") {
		modes = modes[:1]
		rep.Skipped = append(rep.Skipped, "SIMD fallback: --target-command has no {simd} placeholder (filled with on or off, e.g. '--simd {simd}' or 'ENGRAM_SIMD={simd} engram start …')")
	}
	data := hwData(env.Seed, cfg.Nodes)
	var clients []*hwClient
	var answers [][]recallAnswer
	for _, m := range modes {
		o := env.TargetOptions
		o.ScalarDot = m == "off"
		srv, err := StartServer(ctx, env, ServerParams{Values: map[string]string{"simd": m, "instrument": ""}, Options: &o})
		if err != nil {
			return nil, fmt.Errorf("task 011 (simd %s): %w", m, err)
		}
		defer srv.Close()
		c := newHWClient(srv.URL, data)
		defer c.close()
		progressf(env, "011 simd %s: storing %d memories\n", m, cfg.Nodes)
		if err := c.store(ctx, "m18-arch", 0, cfg.Nodes); err != nil {
			return nil, fmt.Errorf("task 011 (simd %s): %w", m, err)
		}
		var as []recallAnswer
		for q := range cfg.Queries {
			a, err := c.recall(ctx, "m18-arch", archQuery(q, cfg.Nodes), cfg.K)
			if err != nil {
				return nil, fmt.Errorf("task 011 (simd %s): %w", m, err)
			}
			as = append(as, a)
		}
		clients = append(clients, c)
		answers = append(answers, as)
	}
	rep.AnswersDigest = answersDigest(answers[0])
	firstOK := 0
	for q, a := range answers[0] {
		if len(a.IDs) > 0 && a.IDs[0] == load.PreloadID(archQuery(q, cfg.Nodes)) {
			firstOK++
		}
	}
	rep.Checks = append(rep.Checks, check("stored_memory_recalled_first", float64(firstOK), "=", float64(cfg.Queries), " recalls"))
	if len(answers) == 2 {
		rep.ScalarAnswersDigest = answersDigest(answers[1])
		rep.Mismatches, rep.MaxScoreDiff = compareAnswers(answers[0], answers[1])
		rep.Checks = append(rep.Checks, check("simd_fallback_mismatches", float64(rep.Mismatches), "=", 0, " recalls"))
		cost, err := measureSIMDCost(ctx, clients[0], clients[1], cfg, env.Duration)
		if err != nil {
			return nil, fmt.Errorf("task 011: %w", err)
		}
		rep.Cost = cost
		progressf(env, "011 simd: %d/%d recalls identical, scalar fallback costs ×%.2f [%.2f, %.2f] (%.0f µs vs %.0f µs)\n",
			cfg.Queries-rep.Mismatches, cfg.Queries, cost.Ratio, cost.RatioLow, cost.RatioHigh, cost.ScalarRecallUs, cost.SIMDRecallUs)
	}
	if len(env.Compare) > 0 {
		docs := make([]*result.Document, 0, len(env.Compare))
		for _, f := range env.Compare {
			d, err := result.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("%w: task 011 --compare %s: %v", load.ErrConfig, f, err)
			}
			docs = append(docs, d)
		}
		rep.CrossArch = CompareArchitectures(docs)
		if len(rep.CrossArch) == 0 {
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("cross-architecture report: the %d --compare results hold no scenario measured on two architectures", len(docs)))
		}
		for _, c := range rep.CrossArch {
			progressf(env, "011 %s %s: %s/%s ×%.3g [%.3g, %.3g] (%s)\n", c.Scenario, c.Metric, c.Other, c.Base, c.Ratio, c.RatioLow, c.RatioHigh, c.Note)
		}
	}
	doc := hwDocument(env, "011", "CPU architecture and SIMD fallback", start, rep)
	return &Outcome{Document: doc, Checks: rep.Checks, Skipped: rep.Skipped}, nil
}

// archQuery is the stored memory whose embedding query q uses.
func archQuery(q, nodes int) uint64 { return uint64(q*7919) % uint64(nodes) }

// answersDigest hashes the ids of every answer, in order.
func answersDigest(as []recallAnswer) string {
	h := sha256.New()
	for _, a := range as {
		h.Write([]byte(strings.Join(a.IDs, ",")))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// compareAnswers counts answers whose ids differ (in content or order) and
// the largest score difference of answers that agree.
func compareAnswers(a, b []recallAnswer) (mismatches int, maxDiff float64) {
	for i := range a {
		if i >= len(b) || !slices.Equal(a[i].IDs, b[i].IDs) {
			mismatches++
			continue
		}
		for j := range a[i].Scores {
			maxDiff = max(maxDiff, math.Abs(a[i].Scores[j]-b[i].Scores[j]))
		}
	}
	return mismatches + max(len(b)-len(a), 0), maxDiff
}

// measureSIMDCost times paired rounds of recalls on both targets,
// alternating which goes first, and returns the scalar/SIMD ratio with its
// interval (a t interval on the rounds' log ratios).
//
// A limit > 0 ends the rounds once it has passed (after two at least).
func measureSIMDCost(ctx context.Context, simd, scalar *hwClient, cfg ArchConfig, limit time.Duration) (*SIMDCost, error) {
	began := time.Now()
	round := func(c *hwClient, r int) (float64, error) {
		begin := time.Now()
		for q := range cfg.RoundQueries {
			if _, err := c.recall(ctx, "m18-arch", archQuery(r*cfg.RoundQueries+q, cfg.Nodes), cfg.K); err != nil {
				return 0, err
			}
		}
		return float64(time.Since(begin).Microseconds()) / float64(cfg.RoundQueries), nil
	}
	var on, off, logs []float64
	for r := range max(cfg.Rounds, 2) {
		if limit > 0 && r >= 2 && time.Since(began) >= limit {
			break
		}
		first, second := simd, scalar
		if r%2 == 1 {
			first, second = scalar, simd
		}
		a, err := round(first, r)
		if err != nil {
			return nil, err
		}
		b, err := round(second, r)
		if err != nil {
			return nil, err
		}
		if r%2 == 1 {
			a, b = b, a
		}
		on, off = append(on, a), append(off, b)
		logs = append(logs, math.Log(b/a))
	}
	c := &SIMDCost{Rounds: len(on), SIMDRecallUs: stat.Mean(on, nil), ScalarRecallUs: stat.Mean(off, nil)}
	c.Ratio, c.RatioLow, c.RatioHigh = ratioInterval(logs)
	return c, nil
}

// ratioInterval returns exp of the mean of logs and its 95 % t interval.
func ratioInterval(logs []float64) (mid, lo, hi float64) {
	m, sd := stat.MeanStdDev(logs, nil)
	n := float64(len(logs))
	if n < 2 || math.IsNaN(sd) {
		return math.Exp(m), math.Exp(m), math.Exp(m)
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(0.975)
	half := t * sd / math.Sqrt(n)
	return math.Exp(m), math.Exp(m - half), math.Exp(m + half)
}

// ArchComparison is one metric of one scenario on two architectures, side
// by side: a comparison across hardware, never a regression verdict.
type ArchComparison struct {
	Scenario string `json:"scenario"`
	Metric   string `json:"metric"`
	// Base and Other are the architectures; BaseHash and OtherHash their
	// hardware fingerprints.
	Base      string  `json:"base"`
	Other     string  `json:"other"`
	BaseHash  string  `json:"base_hash"`
	OtherHash string  `json:"other_hash"`
	BaseMean  float64 `json:"base_mean"`
	OtherMean float64 `json:"other_mean"`
	// Ratio is other/base (geometric mean over the results' samples) with
	// its 95 % interval; Samples the results on each side.
	Ratio       float64 `json:"ratio"`
	RatioLow    float64 `json:"ratio_low"`
	RatioHigh   float64 `json:"ratio_high"`
	BaseSamples int     `json:"base_samples"`
	OtherSamp   int     `json:"other_samples"`
	Note        string  `json:"note"`
}

// CompareArchitectures puts results of the same scenario from machines of
// different architecture side by side (p50, p99 latency and throughput of
// each repetition, or of the whole run when it has none): the ratio of
// each architecture to base (x86_64 when present) with a 95 % interval on
// the log ratio (Welch). Scenarios measured on one architecture only give
// nothing.
func CompareArchitectures(docs []*result.Document) []ArchComparison {
	type key struct{ scenario, arch string }
	samples := map[key]map[string][]float64{}
	hashes := map[key]string{}
	for _, d := range docs {
		arch := archName(d.Run.Hardware.Arch)
		if arch == "" {
			continue
		}
		k := key{d.Run.Scenario, arch}
		if samples[k] == nil {
			samples[k] = map[string][]float64{}
		}
		hashes[k] = d.Run.Hardware.Hash
		add := func(p50, p99, thr float64) {
			if p50 > 0 && p99 > 0 && thr > 0 {
				samples[k]["p50_ms"] = append(samples[k]["p50_ms"], p50)
				samples[k]["p99_ms"] = append(samples[k]["p99_ms"], p99)
				samples[k]["throughput"] = append(samples[k]["throughput"], thr)
			}
		}
		if len(d.Repetitions) > 0 {
			for _, r := range d.Repetitions {
				add(r.Overall.Latency.P50, r.Overall.Latency.P99, r.Overall.Throughput)
			}
		} else {
			add(d.P50LatencyMs, d.P99LatencyMs, d.OverallThroughput)
		}
	}
	var keys []key
	for k := range samples {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.scenario, b.scenario), cmp.Compare(archRank(a.arch), archRank(b.arch)), cmp.Compare(a.arch, b.arch))
	})
	var out []ArchComparison
	for i, base := range keys {
		if i > 0 && keys[i-1].scenario == base.scenario {
			continue // base is the first architecture of each scenario
		}
		for _, other := range keys[i+1:] {
			if other.scenario != base.scenario {
				break
			}
			for _, metric := range []string{"p50_ms", "p99_ms", "throughput"} {
				b, o := samples[base][metric], samples[other][metric]
				if len(b) == 0 || len(o) == 0 {
					continue
				}
				c := ArchComparison{Scenario: base.scenario, Metric: metric, Base: base.arch, Other: other.arch,
					BaseHash: hashes[base], OtherHash: hashes[other], BaseMean: stat.Mean(b, nil), OtherMean: stat.Mean(o, nil),
					BaseSamples: len(b), OtherSamp: len(o),
					Note: "different hardware: a comparison, not a regression verdict"}
				c.Ratio, c.RatioLow, c.RatioHigh = logRatioInterval(b, o)
				out = append(out, c)
			}
		}
	}
	return out
}

// archName normalises an architecture name (amd64 → x86_64, aarch64 → arm64).
func archName(a string) string {
	switch a {
	case "amd64":
		return "x86_64"
	case "aarch64":
		return "arm64"
	}
	return a
}

func archRank(a string) int {
	if a == "x86_64" {
		return 0
	}
	return 1
}

// logRatioInterval is exp(mean log o − mean log b) with a 95 % Welch
// interval; with one sample on a side the interval is the point.
func logRatioInterval(b, o []float64) (mid, lo, hi float64) {
	lb, lo2 := logs(b), logs(o)
	mb, vb := stat.MeanVariance(lb, nil)
	mo, vo := stat.MeanVariance(lo2, nil)
	d := mo - mb
	nb, no := float64(len(lb)), float64(len(lo2))
	if nb < 2 || no < 2 {
		return math.Exp(d), math.Exp(d), math.Exp(d)
	}
	se2 := vb/nb + vo/no
	if se2 == 0 {
		return math.Exp(d), math.Exp(d), math.Exp(d)
	}
	df := se2 * se2 / ((vb/nb)*(vb/nb)/(nb-1) + (vo/no)*(vo/no)/(no-1))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(0.975)
	h := t * math.Sqrt(se2)
	return math.Exp(d), math.Exp(d - h), math.Exp(d + h)
}

func logs(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = math.Log(x)
	}
	return out
}
