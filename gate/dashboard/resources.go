package dashboard

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/engram/m18-gate/gate/stats"
	"github.com/engram/m18-gate/runners/procstat"
	"github.com/engram/m18-gate/runners/result"
)

// Resources are the target's CPU and memory during one run (or the median
// over several).
type Resources struct {
	CPUCores float64
	RSSMiB   float64
	// Source says which section of the document they come from.
	Source string
}

// resourcesOf reads the target's figures from a document: the run's own
// summary (Tasks["016"]["target"], a procstat.Summary), else the soak's
// resource summary (task 002), else the bursts' RSS (task 003). nil when
// the run recorded none.
func resourcesOf(d *result.Document) *Resources {
	if len(d.Tasks) == 0 {
		return nil
	}
	section := func(id string) map[string]json.RawMessage {
		v, ok := d.Tasks[id]
		if !ok {
			return nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil {
			return nil
		}
		return m
	}
	if m := section("016"); m != nil && m["target"] != nil {
		var s procstat.Summary
		if json.Unmarshal(m["target"], &s) == nil && s.Samples > 0 {
			return &Resources{CPUCores: s.CPUCores, RSSMiB: s.RSSMiB, Source: "run"}
		}
	}
	if m := section("002"); m != nil && m["resources"] != nil {
		var s struct {
			Samples  int     `json:"samples"`
			CPUCores float64 `json:"cpu_cores"`
			RSSEnd   float64 `json:"rss_end_mb"`
		}
		if json.Unmarshal(m["resources"], &s) == nil && s.Samples > 0 {
			return &Resources{CPUCores: s.CPUCores, RSSMiB: s.RSSEnd, Source: "task 002 (soak)"}
		}
	}
	if m := section("003"); m != nil && m["runs"] != nil {
		var runs []struct {
			RSSMax float64 `json:"rss_max_mib"`
		}
		if json.Unmarshal(m["runs"], &runs) == nil && len(runs) > 0 && runs[0].RSSMax > 0 {
			return &Resources{RSSMiB: runs[0].RSSMax, Source: "task 003 (bursts)"}
		}
	}
	return nil
}

// medianResources is the median of each figure over the points that
// recorded resources; nil when none did.
func medianResources(ps []Point) *Resources {
	var cpu, rss []float64
	src := map[string]bool{}
	for _, p := range ps {
		if p.Resources == nil {
			continue
		}
		cpu = append(cpu, p.Resources.CPUCores)
		rss = append(rss, p.Resources.RSSMiB)
		src[p.Resources.Source] = true
	}
	if len(rss) == 0 {
		return nil
	}
	r := &Resources{CPUCores: stats.Median(cpu), RSSMiB: stats.Median(rss)}
	for _, s := range slices.Sorted(maps.Keys(src)) {
		if r.Source != "" {
			r.Source += ", "
		}
		r.Source += s
	}
	return r
}
