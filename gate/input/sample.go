package input

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/engram/m18-gate/runners/result"
)

// NoOperation is the operation of samples whose format has no operations
// (go test -bench, criterion, hyperfine).
const NoOperation = "-"

// Key identifies one comparison: a metric of an operation of a scenario.
type Key struct {
	Scenario  string
	Operation string
	Metric    string
}

func (k Key) String() string {
	return k.Scenario + " " + k.Operation + " " + k.Metric
}

// Sample is a set of repeated measurements of one Key on one side: one value
// per independent run (an m18 repetition, an Engram report file, a go test
// -bench line, a criterion sample, a hyperfine run).
type Sample struct {
	Key
	// Unit of Values ("ms", "ops/s", "fraction", "sec/op", "ns", "s", …).
	Unit string
	// HigherIsBetter is true for throughput-like metrics.
	HigherIsBetter bool
	// DerivedFrom names the metric of the same scenario and operation this
	// one is computed from ("sec/op" for go test -bench's B/s, which is the
	// bytes per op over the time per op): the same measurement, which a
	// comparison counts once, under its primary. Empty for primary metrics.
	DerivedFrom string
	// Values holds one value per run, in the order read.
	Values []float64
	// Starts holds, for each value, when its run started; the zero time
	// when the format does not say (only m18 results do). Paired
	// comparisons order each side by it.
	Starts []time.Time
}

// Set is everything read for one side of a comparison (base or head).
type Set struct {
	// Files are the inputs, in the order given.
	Files []string
	// Samples holds one Sample per Key.
	Samples map[Key]*Sample
	// Fingerprints lists the distinct hardware fingerprint hashes of the
	// inputs that carry one (m18 results), sorted.
	Fingerprints []string
	// Hardware is a one-line description of the machine, when known.
	Hardware string
	// Commit and Ref of the code measured, when the inputs agree on one.
	Commit, Ref string

	commits map[string]bool
	refs    map[string]bool
}

// NewSet returns an empty Set.
func NewSet() *Set {
	return &Set{Samples: map[Key]*Sample{}}
}

// Add appends value to the sample of k, creating it with unit and direction
// when new.
func (s *Set) Add(k Key, unit string, higherIsBetter bool, value float64) {
	s.AddAt(k, unit, higherIsBetter, value, time.Time{})
}

// AddAt is Add for a value whose run started at start.
func (s *Set) AddAt(k Key, unit string, higherIsBetter bool, value float64, start time.Time) {
	sm := s.Samples[k]
	if sm == nil {
		sm = &Sample{Key: k, Unit: unit, HigherIsBetter: higherIsBetter}
		s.Samples[k] = sm
	}
	sm.Values = append(sm.Values, value)
	sm.Starts = append(sm.Starts, start)
}

// StampStarts sets the start of every value of s that has none to start:
// for inputs read from one run whose format does not say when it ran.
func (s *Set) StampStarts(start time.Time) {
	for _, sm := range s.Samples {
		for i := range sm.Starts {
			if sm.Starts[i].IsZero() {
				sm.Starts[i] = start
			}
		}
	}
}

// Keys returns the keys of s in a stable order: by scenario, then operation
// (canonical m18 order, "overall" first), then metric (canonical order).
func (s *Set) Keys() []Key {
	return slices.SortedFunc(maps.Keys(s.Samples), Key.Compare)
}

// Scenarios returns the distinct scenarios of s, sorted.
func (s *Set) Scenarios() []string {
	seen := map[string]bool{}
	for k := range s.Samples {
		seen[k.Scenario] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

func (s *Set) addFingerprint(hash string) {
	if hash == "" {
		return
	}
	i := sort.SearchStrings(s.Fingerprints, hash)
	if i < len(s.Fingerprints) && s.Fingerprints[i] == hash {
		return
	}
	s.Fingerprints = append(s.Fingerprints, "")
	copy(s.Fingerprints[i+1:], s.Fingerprints[i:])
	s.Fingerprints[i] = hash
}

func (s *Set) addRevision(commit, ref string) {
	if s.commits == nil {
		s.commits, s.refs = map[string]bool{}, map[string]bool{}
	}
	if commit != "" {
		s.commits[commit] = true
	}
	if ref != "" {
		s.refs[ref] = true
	}
	s.Commit, s.Ref = only(s.commits), only(s.refs)
}

// only returns the single key of m, or "" when there are none or several.
func only(m map[string]bool) string {
	if len(m) != 1 {
		return ""
	}
	for k := range m {
		return k
	}
	return ""
}

// Merge adds everything of o to s.
func (s *Set) Merge(o *Set) {
	s.Files = append(s.Files, o.Files...)
	for _, k := range o.Keys() {
		sm := o.Samples[k]
		for i, v := range sm.Values {
			var at time.Time
			if i < len(sm.Starts) {
				at = sm.Starts[i]
			}
			s.AddAt(k, sm.Unit, sm.HigherIsBetter, v, at)
		}
		s.Samples[k].DerivedFrom = sm.DerivedFrom
	}
	for _, f := range o.Fingerprints {
		s.addFingerprint(f)
	}
	if s.Hardware == "" {
		s.Hardware = o.Hardware
	}
	for c := range o.commits {
		s.addRevision(c, "")
	}
	for r := range o.refs {
		s.addRevision("", r)
	}
}

// rank is v's place in list; values not in it come after all that are.
func rank(list []string, v string) int {
	if i := slices.Index(list, v); i >= 0 {
		return i
	}
	return len(list)
}

var operationOrder = append([]string{result.OpOverall}, result.Operations...)

// Compare orders keys by scenario, then operation (canonical m18 order,
// "overall" first, then the rest alphabetically), then metric (canonical
// order, then alphabetically), for slices.SortFunc.
func (k Key) Compare(o Key) int {
	return cmp.Or(
		strings.Compare(k.Scenario, o.Scenario),
		cmp.Compare(rank(operationOrder, k.Operation), rank(operationOrder, o.Operation)),
		strings.Compare(k.Operation, o.Operation),
		cmp.Compare(rank(result.Metrics, k.Metric), rank(result.Metrics, o.Metric)),
		strings.Compare(k.Metric, o.Metric),
	)
}

// DescribeHardware makes the one-line machine description of a fingerprint.
func DescribeHardware(f result.Fingerprint) string {
	var parts []string
	if f.CPUModel != "" {
		parts = append(parts, f.CPUModel)
	}
	if f.LogicalCores > 0 {
		parts = append(parts, fmt.Sprintf("%d cores", f.LogicalCores))
	}
	if f.MemoryBytes > 0 {
		parts = append(parts, fmt.Sprintf("%.0f GiB", float64(f.MemoryBytes)/(1<<30)))
	}
	if f.Kernel != "" {
		parts = append(parts, f.Kernel)
	}
	if f.Hash != "" {
		parts = append(parts, "fingerprint "+f.Hash)
	}
	return strings.Join(parts, ", ")
}
