// Package merge combines the m18.result/v1 documents of the shards of one
// run (m18-run --shard i/n) into the one document of the whole load.
//
// Its opinions: a merged figure is computed from the merged data, never
// from the shards' figures — HDR histograms are merged and percentiles
// read from the merge (never averaged); counts and rates are summed;
// windows are merged window by window on the shared timeline. And a merge
// is either one complete, valid measurement or says why not: a shard
// missing, started late, interrupted, or whose generator slipped is a
// Problem in the document and an error (ErrIncomplete, ErrSlipped), never
// a silent partial.
package merge

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/engram/m18-gate/runners/result"
)

var (
	// ErrIncomplete: the shards do not add up to the whole schedule — one
	// is missing, given twice, interrupted, or started late and skipped
	// sends. The merged document (when there is one) lists the problems.
	ErrIncomplete = errors.New("the shards do not make one complete run")
	// ErrSlipped: every shard is there, but a shard's generator was the
	// bottleneck (too many sends late or dropped), so the figures describe
	// a generator, not the target.
	ErrSlipped = errors.New("a shard's load generator was the bottleneck")
	// ErrMismatch: the documents are not shards of one run (different
	// scenario, seed, configuration, shard count or start time, or not
	// shards at all); nothing is merged.
	ErrMismatch = errors.New("the documents are not shards of one run")
)

// Shards merges the documents of the shards of one run, named by names
// (file names, for messages; same length as docs). It returns the merged
// document and nil, or the merged document and an error wrapping
// ErrIncomplete or ErrSlipped (the document's Run.Sharding.Problems say
// what), or no document and an error wrapping ErrMismatch.
func Shards(names []string, docs []*result.Document) (*result.Document, error) {
	if len(docs) == 0 {
		return nil, fmt.Errorf("%w: no shard documents given", ErrMismatch)
	}
	first := docs[0]
	for i, d := range docs {
		if err := sameRun(first, d); err != nil {
			return nil, fmt.Errorf("%w: %s: %v (against %s)", ErrMismatch, names[i], err, names[0])
		}
	}
	sh := first.Run.Sharding
	var incomplete, slipped []string
	byIndex := map[int]int{}
	for i, d := range docs {
		s := d.Run.Sharding.Shards[0]
		if j, dup := byIndex[s.Index]; dup {
			incomplete = append(incomplete, fmt.Sprintf("shard %d/%d given twice (%s and %s): each shard's document must be given once", s.Index, sh.Count, names[j], names[i]))
			continue
		}
		byIndex[s.Index] = i
		who := fmt.Sprintf("shard %d/%d (%s)", s.Index, sh.Count, names[i])
		if s.Missed > 0 {
			incomplete = append(incomplete, fmt.Sprintf("%s started %.0f ms late and skipped the %d sends of its slice due before then: start every shard before --start-at (allow for the preload), or give a later --start-at", who, s.MaxStartLagMs, s.Missed))
		}
		if s.Interrupted {
			incomplete = append(incomplete, fmt.Sprintf("%s was interrupted before the end of its schedule: its document is a partial load", who))
		} else if want := d.Run.Config.Repetitions; len(d.Repetitions) < want {
			incomplete = append(incomplete, fmt.Sprintf("%s holds %d of %d repetitions: it was interrupted or killed", who, len(d.Repetitions), want))
		}
		for _, r := range d.Repetitions {
			if r.Generator.Bottleneck != "" {
				slipped = append(slipped, fmt.Sprintf("%s, repetition %d: %s", who, r.Index, r.Generator.Bottleneck))
			}
		}
	}
	var missing []string
	for i := range sh.Count {
		if _, ok := byIndex[i]; !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", i, sh.Count))
		}
	}
	if len(missing) > 0 {
		incomplete = append([]string{fmt.Sprintf("shard %s missing: no document given for it (did its job fail, or was it killed?); the merge of the others would be a partial load", strings.Join(missing, ", "))}, incomplete...)
	}

	order := slices.Sorted(maps.Keys(byIndex))
	var set []*result.Document
	for _, idx := range order {
		set = append(set, docs[byIndex[idx]])
	}
	out, err := merge(set)
	if err != nil {
		return nil, err
	}
	out.Run.Sharding.Problems = append(incomplete, slipped...)
	switch {
	case len(incomplete) > 0:
		return out, fmt.Errorf("%w: %s", ErrIncomplete, strings.Join(incomplete, "; "))
	case len(slipped) > 0:
		return out, fmt.Errorf("%w: %s", ErrSlipped, strings.Join(slipped, "; "))
	}
	return out, nil
}

// sameRun says why d is not a shard of the run first is a shard of.
func sameRun(first, d *result.Document) error {
	s := d.Run.Sharding
	if s == nil || len(s.Shards) != 1 {
		return errors.New("not a shard's document (no run.sharding with one shard): run m18-run with --shard i/n --start-at TIME")
	}
	f := first.Run.Sharding
	switch {
	case d.Run.Scenario != first.Run.Scenario || d.Run.ScenarioSHA256 != first.Run.ScenarioSHA256:
		return fmt.Errorf("scenario %s (sha256 %.12s), want %s (%.12s)", d.Run.Scenario, d.Run.ScenarioSHA256, first.Run.Scenario, first.Run.ScenarioSHA256)
	case d.Run.Seed != first.Run.Seed:
		return fmt.Errorf("seed %d, want %d: the shards must share a seed to share a schedule", d.Run.Seed, first.Run.Seed)
	case s.Count != f.Count:
		return fmt.Errorf("shard count %d, want %d", s.Count, f.Count)
	case !s.StartAt.Equal(f.StartAt):
		return fmt.Errorf("start time %s, want %s: the shards must share --start-at", s.StartAt.Format(time.RFC3339Nano), f.StartAt.Format(time.RFC3339Nano))
	case !reflect.DeepEqual(d.Run.Config, first.Run.Config):
		return fmt.Errorf("load configuration %+v, want %+v: give every shard the same flags", d.Run.Config, first.Run.Config)
	}
	return nil
}

// merge combines shard documents that belong together.
func merge(docs []*result.Document) (*result.Document, error) {
	first := docs[0]
	out := &result.Document{Schema: result.SchemaVersion, Run: first.Run, Preload: first.Preload}
	out.Run.Sharding = &result.Sharding{Count: first.Run.Sharding.Count, StartAt: first.Run.Sharding.StartAt}
	out.Run.RunID = "merged-" + first.Run.RunID
	for _, d := range docs {
		out.Run.Sharding.Shards = append(out.Run.Sharding.Shards, d.Run.Sharding.Shards[0])
		if d.Run.Start.Before(out.Run.Start) {
			out.Run.Start = d.Run.Start
		}
		if d.Run.End.After(out.Run.End) {
			out.Run.End = d.Run.End
		}
	}
	// Repetitions by index; a repetition some shard lacks is merged from
	// those that have it (the problem is reported by Shards).
	reps := map[int][]result.Repetition{}
	for _, d := range docs {
		for _, r := range d.Repetitions {
			reps[r.Index] = append(reps[r.Index], r)
		}
	}
	for _, idx := range slices.Sorted(maps.Keys(reps)) {
		r, err := repetition(idx, reps[idx])
		if err != nil {
			return nil, err
		}
		out.Repetitions = append(out.Repetitions, r)
	}
	if err := engramFields(out, docs); err != nil {
		return nil, err
	}
	out.Validation = revalidate(first.Validation, out)
	return out, nil
}

func repetition(idx int, rs []result.Repetition) (result.Repetition, error) {
	out := result.Repetition{Index: idx, Start: rs[0].Start, End: rs[0].End, Operations: map[string]result.OpStats{}}
	var overall []result.OpStats
	ops := map[string][]result.OpStats{}
	var gens []result.Generator
	var wins []result.Window
	for _, r := range rs {
		if r.Start.Before(out.Start) {
			out.Start = r.Start
		}
		if r.End.After(out.End) {
			out.End = r.End
		}
		out.DurationSeconds = max(out.DurationSeconds, r.DurationSeconds)
		overall = append(overall, r.Overall)
		for name, s := range r.Operations {
			ops[name] = append(ops[name], s)
		}
		gens = append(gens, r.Generator)
		wins = append(wins, r.Windows...)
	}
	var err error
	if out.Overall, err = opStats(overall); err != nil {
		return out, fmt.Errorf("repetition %d overall: %w", idx, err)
	}
	for name, ss := range ops {
		if out.Operations[name], err = opStats(ss); err != nil {
			return out, fmt.Errorf("repetition %d %s: %w", idx, name, err)
		}
	}
	out.Generator = generator(gens)
	if out.Windows, err = windows(wins); err != nil {
		return out, fmt.Errorf("repetition %d windows: %w", idx, err)
	}
	return out, nil
}

// opStats merges one operation's figures of several shards: counts and
// throughputs summed, histograms merged, percentiles read from the merge.
func opStats(ss []result.OpStats) (result.OpStats, error) {
	var out result.OpStats
	lat, svc := result.NewHistogram(), result.NewHistogram()
	for _, s := range ss {
		out.Count += s.Count
		out.Success += s.Success
		out.Errors += s.Errors
		out.Throughput += s.Throughput
		for k, v := range s.ErrorsByKind {
			if out.ErrorsByKind == nil {
				out.ErrorsByKind = map[string]uint64{}
			}
			out.ErrorsByKind[k] += v
		}
		if err := mergeInto(lat, s.Histogram, s.Count); err != nil {
			return out, err
		}
		if err := mergeInto(svc, s.ServiceHistogram, s.Count); err != nil {
			return out, err
		}
	}
	if out.Count > 0 {
		out.ErrorRate = float64(out.Errors) / float64(out.Count)
	}
	out.Latency, out.Service = result.LatencyOf(lat), result.LatencyOf(svc)
	var err error
	if out.Histogram, err = result.EncodeHistogram(lat); err != nil {
		return out, err
	}
	out.ServiceHistogram, err = result.EncodeHistogram(svc)
	return out, err
}

// mergeInto adds the encoded histogram enc, of count values, to h.
func mergeInto(h *hdr.Histogram, enc string, count uint64) error {
	if enc == "" {
		if count > 0 {
			return fmt.Errorf("%d requests without a histogram: merge needs the shards' histograms", count)
		}
		return nil
	}
	d, err := result.DecodeHistogram(enc)
	if err != nil {
		return err
	}
	if dropped := h.Merge(d); dropped > 0 {
		return fmt.Errorf("%d values outside the histogram range", dropped)
	}
	return nil
}

// generator sums the shards' schedules. Lags: the mean weighted by sends,
// the p99 and maximum the largest shard's (a shard's p99 bounds the
// merged one from above only approximately; each shard's own figures are
// kept in Run.Sharding.Shards).
func generator(gs []result.Generator) result.Generator {
	var out result.Generator
	var lagSum float64
	var why []string
	for _, g := range gs {
		out.Scheduled += g.Scheduled
		out.Sent += g.Sent
		out.Late += g.Late
		out.Dropped += g.Dropped
		out.Missed += g.Missed
		out.MaxInFlightSeen += g.MaxInFlightSeen
		lagSum += g.MeanLagMs * float64(g.Sent)
		out.P99LagMs = max(out.P99LagMs, g.P99LagMs)
		out.MaxLagMs = max(out.MaxLagMs, g.MaxLagMs)
		out.StartLagMs = max(out.StartLagMs, g.StartLagMs)
		if g.Bottleneck != "" {
			why = append(why, g.Bottleneck)
		}
	}
	if out.Sent > 0 {
		out.MeanLagMs = lagSum / float64(out.Sent)
	}
	out.Bottleneck = strings.Join(why, "; ")
	return out
}

// windows merges windows with the same start on the shared timeline.
func windows(ws []result.Window) ([]result.Window, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	type acc struct {
		w result.Window
		h *hdr.Histogram
	}
	by := map[float64]*acc{}
	for _, w := range ws {
		a := by[w.StartSeconds]
		if a == nil {
			a = &acc{w: result.Window{StartSeconds: w.StartSeconds, EndSeconds: w.EndSeconds}, h: result.NewWindowHistogram()}
			by[w.StartSeconds] = a
		}
		if w.EndSeconds != a.w.EndSeconds {
			return nil, fmt.Errorf("window at %g s ends at %g s in one shard and %g s in another", w.StartSeconds, w.EndSeconds, a.w.EndSeconds)
		}
		a.w.Count += w.Count
		a.w.Errors += w.Errors
		if err := mergeInto(a.h, w.Histogram, w.Count); err != nil {
			return nil, err
		}
	}
	out := make([]result.Window, 0, len(by))
	for _, a := range by {
		w := a.w
		if sec := w.EndSeconds - w.StartSeconds; sec > 0 {
			w.Rate = float64(w.Count) / sec
		}
		lat := result.LatencyOf(a.h)
		w.P50, w.P99, w.Max = lat.P50, lat.P99, lat.Max
		var err error
		if w.Histogram, err = result.EncodeHistogram(a.h); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b result.Window) int { return cmp.Compare(a.StartSeconds, b.StartSeconds) })
	return out, nil
}

// engramFields sets the Engram loadtest report fields of the whole run:
// every repetition of every shard merged, throughputs summed.
func engramFields(out *result.Document, docs []*result.Document) error {
	first := docs[0]
	out.ConfigName = first.ConfigName
	var all []result.OpStats
	ops := map[string][]result.OpStats{}
	for _, d := range docs {
		out.ElapsedSeconds = max(out.ElapsedSeconds, d.ElapsedSeconds)
		out.OverallThroughput += d.OverallThroughput
		for _, r := range d.Repetitions {
			all = append(all, r.Overall)
			for name, s := range r.Operations {
				ops[name] = append(ops[name], s)
			}
		}
	}
	o, err := opStats(all)
	if err != nil {
		return fmt.Errorf("overall: %w", err)
	}
	out.TotalOperations, out.TotalErrors, out.OverallErrorRate = o.Count, o.Errors, o.ErrorRate
	out.P50LatencyMs, out.P95LatencyMs, out.P99LatencyMs = o.Latency.P50, o.Latency.P95, o.Latency.P99
	out.PerOperationStats = map[string]result.EngramOpStats{}
	for name, ss := range ops {
		s, err := opStats(ss)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		out.PerOperationStats[name] = result.EngramOpStats{
			Count: s.Count, SuccessCount: s.Success, ErrorCount: s.Errors,
			P50LatencyUs: 1000 * s.Latency.P50, P95LatencyUs: 1000 * s.Latency.P95, P99LatencyUs: 1000 * s.Latency.P99,
			P999LatencyUs: 1000 * s.Latency.P999, MeanLatencyUs: 1000 * s.Latency.Mean, MaxLatencyUs: 1000 * s.Latency.Max,
		}
	}
	return nil
}

// revalidate evaluates the scenario's [validation] checks (as the shards
// recorded them, each against its own slice) against the merged run.
func revalidate(v *result.Validation, d *result.Document) *result.Validation {
	if v == nil {
		return nil
	}
	out := &result.Validation{Passed: true, Checks: []result.Check{}}
	for _, c := range v.Checks {
		var measured float64
		var passed bool
		var rel string
		switch c.Name {
		case "p99_latency_ms":
			measured, rel = d.P99LatencyMs, "≤"
			passed = measured <= c.Expected
		case "throughput_ops_sec":
			measured, rel = d.OverallThroughput, "≥"
			passed = measured >= c.Expected
		case "error_rate":
			measured, rel = d.OverallErrorRate, "≤"
			passed = measured <= c.Expected
		default:
			out.Checks = append(out.Checks, c) // not one merge can re-check: as the first shard measured it
			out.Passed = out.Passed && c.Passed
			continue
		}
		verdict := "ok"
		if !passed {
			verdict, out.Passed = "FAILED", false
		}
		out.Checks = append(out.Checks, result.Check{Name: c.Name, Expected: c.Expected, Measured: measured, Passed: passed,
			Message: fmt.Sprintf("%s %g (all shards merged), expected %s %g: %s", c.Name, measured, rel, c.Expected, verdict)})
	}
	return out
}
