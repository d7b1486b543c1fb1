// Package stats holds the statistics the gate decides with, and nothing else:
// no I/O, no verdicts, no thresholds.
//
// It is opinionated. A sample is one value per independent run, never one
// value per request. Comparisons are rank-based (Mann–Whitney U, exact while
// the exact distribution is cheap, ties included), because run-level
// performance data is skewed, heavy-tailed and full of outliers that a t-test
// would turn into false alarms. Effects are estimated robustly (median ratio
// with a seeded bootstrap interval, Hodges–Lehmann shift), noise is measured
// robustly (MAD, not standard deviation), and many comparisons are corrected
// together (Benjamini–Hochberg), because a gate that checks a hundred metrics
// at alpha 0.01 without correction raises an alarm on most pull requests.
// Every random procedure takes a seed, so a verdict can be reproduced.
//
// The package also says what it cannot do: MinPValue and MinSamplesForAlpha
// tell a caller when n is too small for any result to be significant, and
// MinDetectableEffect turns a noise estimate into the smallest change a
// given number of runs can detect.
package stats
