package input

import (
	"strings"

	"github.com/engram/m18-gate/runners/result"
)

// Units of the m18 result metrics.
const (
	UnitMilliseconds = "ms"
	UnitOpsPerSecond = "ops/s"
	UnitFraction     = "fraction"
	UnitInstructions = "instructions"
)

// MetricInfo returns the unit and direction of an m18 result metric.
func MetricInfo(metric string) (unit string, higherIsBetter bool) {
	switch metric {
	case result.MetricThroughput:
		return UnitOpsPerSecond, true
	case result.MetricErrorRate:
		return UnitFraction, false
	case result.MetricInstructionsPerOp:
		return UnitInstructions, false
	}
	return UnitMilliseconds, false
}

// higherIsBetterUnit guesses the direction of a benchmark unit without
// metadata: rates ("…/s", "…/sec") are better higher, everything else
// (time, bytes, allocations) lower.
func higherIsBetterUnit(unit string) bool {
	return strings.HasSuffix(unit, "/s") || strings.HasSuffix(unit, "/sec") ||
		strings.HasSuffix(unit, "-per-sec") || strings.HasSuffix(unit, "/second")
}
