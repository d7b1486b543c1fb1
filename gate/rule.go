package gate

import (
	"github.com/engram/m18-gate/gate/config"
	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/runners/result"
)

// WithConfig returns p with the config's [defaults] in place of p's settings
// and its overrides and tiers in p.Config.
func (p Policy) WithConfig(c *config.Config) Policy {
	if c == nil {
		return p
	}
	d := c.Defaults
	if d.Alpha != nil {
		p.Alpha = *d.Alpha
	}
	if d.Threshold != nil {
		p.Threshold = *d.Threshold
	}
	if d.CompetitiveThreshold != nil {
		p.CompetitiveThreshold = *d.CompetitiveThreshold
	}
	if d.ErrorRatePoints != nil {
		p.ErrorRatePoints = *d.ErrorRatePoints
	}
	p.Config = c
	return p
}

// Rule is the policy of one comparison after every override applied.
type Rule struct {
	// Threshold is relative, or absolute points for error rates.
	Threshold      float64
	Competitive    bool
	HigherIsBetter bool
	// Ignore, when not empty, is why the comparison is skipped.
	Ignore string
	Owners []string
	// Source is the most specific config table that applies, if any.
	Source *verdict.Source
}

// Rule resolves the policy of k. higherIsBetter is the metric's own
// direction.
func (p Policy) Rule(k input.Key, higherIsBetter bool) Rule {
	scopes := p.Config.Scopes(k.Scenario, k.Operation, k.Metric) // least specific first
	absolute := isAbsoluteMetric(k.Metric)
	r := Rule{Competitive: p.Competitive, HigherIsBetter: higherIsBetter}
	var threshold, competitiveThreshold *float64
	for _, o := range scopes {
		if o.Competitive != nil {
			r.Competitive = *o.Competitive || p.Competitive
		}
		if o.HigherIsBetter != nil {
			r.HigherIsBetter = *o.HigherIsBetter
		}
		if o.Ignore != "" {
			r.Ignore = o.Ignore
		}
		if len(o.Owners) > 0 {
			r.Owners = o.Owners
		}
		if o.CompetitiveThreshold != nil {
			competitiveThreshold = o.CompetitiveThreshold
		}
		// A scenario-wide threshold is relative; it does not reach the
		// error rate, whose threshold is in points and set per metric.
		if o.Threshold != nil && (!absolute || !o.Scenario) {
			threshold = o.Threshold
		}
	}
	if len(scopes) > 0 {
		r.Source = &verdict.Source{Path: p.Config.Path, Line: scopes[len(scopes)-1].Line}
	}
	switch {
	case absolute:
		// Error rates follow compare_m17: absolute points, and an
		// error-rate regression is always an internal one.
		r.Threshold = p.ErrorRatePoints
		if threshold != nil {
			r.Threshold = *threshold
		}
		r.Competitive = false
	case r.Competitive:
		r.Threshold = p.CompetitiveThreshold
		if competitiveThreshold != nil {
			r.Threshold = *competitiveThreshold
		}
	default:
		r.Threshold = p.Threshold
		if threshold != nil {
			r.Threshold = *threshold
		}
	}
	return r
}

// isAbsoluteMetric reports whether changes of metric are judged in absolute
// points rather than relative to the base (error rates: 0 % → 1 % is one
// point, not an infinite relative change).
func isAbsoluteMetric(metric string) bool {
	return metric == result.MetricErrorRate
}
