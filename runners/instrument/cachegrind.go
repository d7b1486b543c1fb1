package instrument

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// CacheSim is cachegrind's simulation of a process: the simulated cache
// geometry and the event totals of its summary line. Events are named as
// cachegrind names them: Ir, I1mr, ILmr (instruction reads, I1 and LL
// misses), Dr, D1mr, DLmr (data reads), Dw, D1mw, DLmw (data writes).
type CacheSim struct {
	// I1, D1 and LL are the simulated caches ("49152 B, 64 B, 12-way
	// associative"), as the file's desc: lines give them.
	I1, D1, LL string
	Events     map[string]uint64
	// Source is SourceCachegrind, or SourceCallgrind for callgrind's
	// output.
	Source string
}

// ParseCachegrind parses a cachegrind.out file: its desc:, events: and
// summary: lines (per-function lines are skipped). It also reads
// callgrind's format, whose totals it takes from summary: or totals:.
func ParseCachegrind(b []byte) (CacheSim, error) {
	s := CacheSim{Events: map[string]uint64{}, Source: SourceCachegrind}
	var names []string
	var total []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "creator: callgrind"):
			s.Source = SourceCallgrind
		case strings.HasPrefix(line, "desc: "):
			k, v, _ := strings.Cut(strings.TrimPrefix(line, "desc: "), ":")
			v = strings.TrimSpace(v)
			switch strings.TrimSpace(k) {
			case "I1 cache":
				s.I1 = v
			case "D1 cache":
				s.D1 = v
			case "LL cache":
				s.LL = v
			}
		case strings.HasPrefix(line, "events:"):
			names = strings.Fields(strings.TrimPrefix(line, "events:"))
		case strings.HasPrefix(line, "summary:"), strings.HasPrefix(line, "totals:") && total == nil:
			_, v, _ := strings.Cut(line, ":")
			total = strings.Fields(v)
		}
	}
	if err := sc.Err(); err != nil {
		return CacheSim{}, err
	}
	if names == nil || total == nil {
		return CacheSim{}, fmt.Errorf("cachegrind output: no events: and summary: lines (the run did not finish, or this is not a cachegrind.out file)")
	}
	for i, n := range names {
		if i >= len(total) {
			break // trailing zero events may be left out
		}
		v, err := strconv.ParseUint(total[i], 10, 64)
		if err != nil {
			return CacheSim{}, fmt.Errorf("cachegrind summary: %s = %q is not a count", n, total[i])
		}
		s.Events[n] = v
	}
	if _, ok := s.Events["D1mr"]; !ok {
		return CacheSim{}, fmt.Errorf("cachegrind output has no cache events (%s): run it with --cache-sim=yes", strings.Join(names, " "))
	}
	return s, nil
}

// Sub returns s minus base, event by event (clamped at 0): the counts of
// what a run did beyond a baseline run of the same program.
func (s CacheSim) Sub(base CacheSim) CacheSim {
	out := CacheSim{I1: s.I1, D1: s.D1, LL: s.LL, Events: map[string]uint64{}, Source: s.Source}
	for k, v := range s.Events {
		b := base.Events[k]
		if v > b {
			out.Events[k] = v - b
		} else {
			out.Events[k] = 0
		}
	}
	return out
}

// Figures of a simulation.
func (s CacheSim) DataRefs() uint64  { return s.Events["Dr"] + s.Events["Dw"] }
func (s CacheSim) D1Misses() uint64  { return s.Events["D1mr"] + s.Events["D1mw"] }
func (s CacheSim) LLDMisses() uint64 { return s.Events["DLmr"] + s.Events["DLmw"] }

// share is part/whole, false when whole is 0.
func share(part, whole uint64) (float64, bool) {
	if whole == 0 {
		return 0, false
	}
	return float64(part) / float64(whole), true
}

// hit is 1 − a miss share.
func hit(miss float64, ok bool) (float64, bool) {
	if !ok {
		return 0, false
	}
	return 1 - miss, true
}

// D1HitRate is the share of data references that hit the simulated L1
// data cache.
func (s CacheSim) D1HitRate() (float64, bool) { return hit(share(s.D1Misses(), s.DataRefs())) }

// LLHitRate is the share of data references missing L1 that hit the
// simulated last-level cache.
func (s CacheSim) LLHitRate() (float64, bool) { return hit(share(s.LLDMisses(), s.D1Misses())) }

// DataHitRate is the share of data references served by a cache (L1 or
// LL): 1 − LL data misses / data references.
func (s CacheSim) DataHitRate() (float64, bool) { return hit(share(s.LLDMisses(), s.DataRefs())) }

// LLMissRate is LL data misses per data reference.
func (s CacheSim) LLMissRate() (float64, bool) { return share(s.LLDMisses(), s.DataRefs()) }

// LLReadMissRate is LL data read misses per data read.
func (s CacheSim) LLReadMissRate() (float64, bool) { return share(s.Events["DLmr"], s.Events["Dr"]) }

// Figures returns the simulation's hit rates and counts as figures
// labelled cachegrind, named with prefix ("hot_" …).
func (s CacheSim) Figures(prefix string) []Figure {
	var fs []Figure
	add := func(name string, v float64, ok bool, why string) {
		if ok {
			fs = append(fs, Measured(prefix+name, v, "", s.Source))
		} else {
			fs = append(fs, NotMeasured(prefix+name, why))
		}
	}
	v, ok := s.D1HitRate()
	add("d1_hit_rate", v, ok, "no data references simulated")
	v, ok = s.LLHitRate()
	add("ll_hit_rate", v, ok, "no L1 data misses simulated")
	v, ok = s.DataHitRate()
	add("data_hit_rate", v, ok, "no data references simulated")
	fs = append(fs,
		Measured(prefix+"instructions", float64(s.Events["Ir"]), "", s.Source),
		Measured(prefix+"data_refs", float64(s.DataRefs()), "", s.Source),
		Measured(prefix+"d1_misses", float64(s.D1Misses()), "", s.Source),
		Measured(prefix+"ll_data_misses", float64(s.LLDMisses()), "", s.Source),
		Measured(prefix+"ll_data_read_misses", float64(s.Events["DLmr"]), "", s.Source))
	return fs
}

// Geometry is a simulated cache: size, associativity and line size in
// bytes, as cachegrind's --D1/--LL options take them.
type Geometry struct {
	Size, Assoc, Line int
}

func (g Geometry) String() string { return fmt.Sprintf("%d,%d,%d", g.Size, g.Assoc, g.Line) }

// CachegrindArgs returns the command line prefix that runs a program under
// cachegrind with cache simulation, writing to outFile (cachegrind expands
// %p to the pid). Zero geometries leave cachegrind's (the host's). The
// prefix sets GoUnderValgrind in the program's environment.
func CachegrindArgs(outFile string, d1, ll Geometry) []string {
	return valgrindArgs("cachegrind", "--cachegrind-out-file="+outFile, d1, ll)
}
