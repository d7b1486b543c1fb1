// Package gate decides whether a change regressed performance: it reads
// per-run samples of a base and a head, compares every (scenario, operation,
// metric) they share, and assembles an m18.verdict/v1 document.
//
// It is opinionated. gate never calls a change a regression unless it is
// both statistically significant across the whole verdict and larger than
// the threshold; and it never answers a bare "~": every comparison is
// regressed, improved, unchanged (with the interval that proves it) or
// inconclusive (with what would settle it). False alarms cost more trust
// than misses, because a gate that cries wolf gets switched off.
//
// # Samples
//
// A sample is one value per independent run — an m18 repetition, an Engram
// loadtest report file, a go test -bench line, a criterion sample, a
// hyperfine run — never one value per request, whose latencies are
// autocorrelated. Package input reads them, detecting each input's format
// by its content; package config reads the policy file.
//
// # The decision
//
// For each comparison with n_base and n_head runs, threshold T (5 % by
// default, 10 % when competitive) and significance level α (0.01):
//
//   - Change is median(head)/median(base) − 1, with a seeded percentile
//     bootstrap interval at confidence 1−α (CILow … CIHigh). Error rates are
//     the exception: Change, its interval and T are absolute differences in
//     points (head − base, as fractions: 0.05 is 5 points), as in
//     compare_m17_performance.sh, so a base of 0 % never divides by zero.
//   - The shift is the Hodges–Lehmann estimate, relative: on the log scale
//     for positive data (median of all log(head_j/base_i)), in points for
//     error rates.
//   - p is the two-sided Mann–Whitney U p-value; p_adjusted is its
//     Benjamini–Hochberg adjustment across every comparison in the verdict —
//     or, when the target's cost per request was measured (cpu_per_op,
//     instructions_per_op), within two families, cost and the rest, each
//     adjusted p then doubled (Bonferroni across the families), so a steady
//     cost signal is not diluted by dozens of latency percentiles. A derived
//     metric (go test -bench B/s) takes its primary's p and decision.
//   - "worse" means higher for latencies and error rates, lower for
//     throughput (or as the config's direction says).
//
// Then, in this order:
//
//  1. inconclusive, "too few runs", when the smallest p-value the exact test
//     can produce with these n, 2/C(n_base+n_head, n_base), is not below α:
//     no difference could be significant (α 0.01 needs 5 runs per side; the
//     default is 10).
//  2. regressed when p_adjusted < α AND both the change and the shift are
//     worse by more than T. Requiring both estimates keeps a change the
//     table shows below the threshold from failing the gate.
//  3. improved, symmetrically.
//  4. unchanged when the whole interval lies inside (−T, +T): "no change
//     beyond ±T", an equivalence statement, even if a smaller change is
//     significant.
//  5. inconclusive otherwise, saying why — the change is beyond T but not
//     significant, or the interval straddles T — and roughly how many runs
//     per side would settle it, from the noise of the runs (or the
//     calibration) and the width of the interval.
//
// When the base median is 0 (and the metric is not an error rate) a relative
// change is undefined: the comparison is regressed or improved on
// significance and the direction of the Hodges–Lehmann shift alone, and
// unchanged only when every run on both sides is 0.
//
// # The outcome
//
// Any regression of a comparison that is not competitive makes the verdict
// OutcomeRegression (exit 1); otherwise any competitive regression makes it
// OutcomeCompetitiveRegression (exit 2); otherwise it passes (exit 0). This
// follows compare_m17_performance.sh, where an internal regression (and an
// error-rate regression, which is always internal) takes precedence over a
// competitive one. Errors — unreadable inputs, hardware fingerprints that
// differ, nothing comparable — are exit 3 and never a verdict.
package gate
