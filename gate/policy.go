package gate

import (
	"fmt"
	"github.com/engram/m18-gate/gate/config"
	"time"
)

// Defaults of a Policy. They follow compare_m17_performance.sh where it has a
// rule (5 % internal, 10 % competitive, 5 points of error rate) and
// benchstat where it has one (alpha 0.01 with Mann–Whitney U).
const (
	DefaultAlpha                = 0.01
	DefaultThreshold            = 0.05
	DefaultCompetitiveThreshold = 0.10
	DefaultErrorRatePoints      = 0.05
	DefaultPower                = 0.80
	DefaultResamples            = 1000
	DefaultSeed                 = 0x6d31382d67617465 // "m18-gate"
	DefaultRepetitions          = 10
)

// Policy is everything a verdict depends on besides the samples. Start from
// DefaultPolicy and adjust.
type Policy struct {
	// Alpha is the significance level every comparison is held to, after
	// Benjamini–Hochberg adjustment across the whole verdict. The bootstrap
	// confidence intervals are at 1−Alpha.
	Alpha float64
	// Threshold is the smallest relative change that counts as a regression
	// or improvement (0.05 is 5 %).
	Threshold float64
	// CompetitiveThreshold replaces Threshold for competitive comparisons.
	CompetitiveThreshold float64
	// ErrorRatePoints is the error-rate change, in absolute points as a
	// fraction (0.05 is 5 points), that counts. Error rates are never
	// compared relatively.
	ErrorRatePoints float64
	// Competitive makes every comparison competitive (m18-gate compare
	// --competitive, compare_m17_performance.sh --competitive).
	Competitive bool
	// Power is the probability of detection that MDE and RunsNeeded are
	// computed for.
	Power float64
	// Resamples and Seed drive the bootstrap confidence intervals. Each
	// comparison derives its own seed from Seed and its key, so a verdict
	// does not depend on the order of its comparisons.
	Resamples int
	Seed      uint64
	// Config holds per-scenario and per-metric overrides and tiers, when
	// the repository has a config file. Its [defaults] are not applied
	// here: use Config.Apply, so that flags can still override them.
	Config *config.Config
	// Tier, when set, restricts the verdict to the scenarios the config
	// lists under [tiers] for it; others are skipped with a reason.
	Tier string
	// Calibration, when set, puts the minimum detectable effect of A/A
	// noise into every comparison it covers.
	Calibration *Calibration
	// AllowFingerprintMismatch lets base and head come from different
	// hardware fingerprints (a warning instead of an error).
	AllowFingerprintMismatch bool
	// Paired compares base and head run by run: the i-th base run with the
	// i-th head run, each side ordered by run start time, as when they were
	// interleaved on one machine (A B B A …, the action's ab mode), which
	// cancels the machine's drift. Relative metrics are then decided on the
	// log ratios d_i = ln(head_i/base_i): change exp(Walsh median of d) − 1,
	// the bootstrap interval of the median of d, the p-value of Student's
	// paired t test of d (stats.PairedT says why not the signed-rank test). A comparison that cannot be paired (different run counts,
	// runs without start times, non-positive values) falls back to the
	// unpaired test and says why in its reason; error rates are always
	// compared unpaired, in absolute points.
	Paired bool
	// Looks, when set, makes the comparison one look of a sequential gate
	// (see Looks): it needs Paired, and Alpha is the whole design's.
	Looks Looks
	// Now stamps the verdict; nil means time.Now.
	Now func() time.Time
}

// DefaultPolicy returns the defaults: alpha 0.01, thresholds 5 % internal and
// 10 % competitive, 5 points of error rate, power 0.8, 1000 bootstrap
// resamples with a fixed seed.
func DefaultPolicy() Policy {
	return Policy{
		Alpha:                DefaultAlpha,
		Threshold:            DefaultThreshold,
		CompetitiveThreshold: DefaultCompetitiveThreshold,
		ErrorRatePoints:      DefaultErrorRatePoints,
		Power:                DefaultPower,
		Resamples:            DefaultResamples,
		Seed:                 DefaultSeed,
	}
}

// Validate reports the first setting out of range.
func (p Policy) Validate() error {
	switch {
	case !(p.Alpha > 0 && p.Alpha < 1):
		return fmt.Errorf("alpha must be in (0, 1), got %v", p.Alpha)
	case len(p.Looks) > 0 && !p.Paired:
		return fmt.Errorf("looks %v: a sequential gate compares interleaved pairs; add --paired", p.Looks)
	case !(p.Threshold > 0 && p.Threshold < 10):
		return fmt.Errorf("threshold must be in (0 %%, 1000 %%), got %s", config.FormatPercent(p.Threshold))
	case !(p.CompetitiveThreshold > 0 && p.CompetitiveThreshold < 10):
		return fmt.Errorf("competitive threshold must be in (0 %%, 1000 %%), got %s", config.FormatPercent(p.CompetitiveThreshold))
	case !(p.ErrorRatePoints > 0 && p.ErrorRatePoints <= 1):
		return fmt.Errorf("error-rate threshold must be in (0, 100] points, got %v", p.ErrorRatePoints*100)
	case !(p.Power > 0 && p.Power < 1):
		return fmt.Errorf("power must be in (0, 1), got %v", p.Power)
	case p.Resamples < 100:
		return fmt.Errorf("bootstrap resamples must be ≥ 100, got %d", p.Resamples)
	}
	return nil
}
