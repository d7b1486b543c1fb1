package instrument

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PerfEvent is one event `perf list` offers, with its kind ("Hardware
// event", "Hardware cache event", "Kernel PMU event", "Software event", …).
type PerfEvent struct {
	Name string
	Kind string
}

// Hardware reports whether the event counts in the CPU's PMU (not a
// software, tool or tracepoint event, nor a breakpoint or raw descriptor).
func (e PerfEvent) Hardware() bool {
	switch e.Kind {
	case "Hardware event", "Hardware cache event":
		return true
	case "Kernel PMU event":
		// msr/…/, power/…/ are not cache or memory counters.
		return !strings.HasPrefix(e.Name, "msr/") && !strings.HasPrefix(e.Name, "power/")
	}
	return false
}

// ParsePerfList parses the output of `perf list` (with or without
// --no-desc): lines "  name [OR alias]   [Kind]". Lines without a bracketed
// kind (descriptions, headers) are ignored.
func ParsePerfList(out []byte) []PerfEvent {
	var evs []PerfEvent
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		open := strings.LastIndex(line, "[")
		if open <= 0 || !strings.HasSuffix(line, "]") {
			continue
		}
		kind := line[open+1 : len(line)-1]
		names := strings.TrimSpace(line[:open])
		if names == "" || strings.ContainsAny(kind, "[]") {
			continue
		}
		for _, n := range strings.Split(names, " OR ") {
			if n = strings.TrimSpace(n); n != "" && !strings.ContainsAny(n, " \t") {
				evs = append(evs, PerfEvent{Name: n, Kind: kind})
			}
		}
	}
	return evs
}

// Wanted events, in order of preference, for each figure the hardware tasks
// report. ChooseEvents keeps those the CPU offers.
var (
	CacheEvents    = []string{"cache-references", "cache-misses", "L1-dcache-loads", "L1-dcache-load-misses", "LLC-loads", "LLC-load-misses"}
	NodeEvents     = []string{"node-loads", "node-load-misses"}
	PrefetchEvents = []string{"L1-dcache-prefetches", "L1-dcache-prefetch-misses", "LLC-prefetches", "LLC-prefetch-misses",
		"l2_rqsts.pf_hit", "l2_rqsts.pf_miss", "l2_rqsts.all_pf", "sw_prefetch_access.any",
		"ls_hw_pf_dc_fills.all", "l2_pf_hit_l2", "l2_pf_miss_l2_hit_l3", "l2_pf_miss_l2_l3"}
)

// ChooseEvents returns the wanted events that evs offers as hardware
// events, in the wanted order.
func ChooseEvents(evs []PerfEvent, wanted []string) []string {
	have := map[string]bool{}
	for _, e := range evs {
		if e.Hardware() {
			have[e.Name] = true
		}
	}
	var out []string
	for _, w := range wanted {
		if have[w] && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// Count is one line of `perf stat -x ,`.
type Count struct {
	Event string
	Value float64
	Unit  string
	// Counted is false for "<not supported>" and "<not counted>".
	Counted bool
	// Status is "<not supported>", "<not counted>" or "" when counted.
	Status string
	// RunningPct is the share of the time the event was on the PMU (below
	// 100 when perf multiplexed events; the value is then scaled).
	RunningPct float64
}

// ParsePerfStat parses `perf stat -x ,` output (value,unit,event,run
// time,running %,…). Comment lines (#) and blank lines are skipped; a line
// that is neither is an error naming it.
func ParsePerfStat(out []byte) ([]Count, error) {
	var cs []Count
	for i, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Split(line, ",")
		if len(fs) < 3 || fs[2] == "" {
			return nil, fmt.Errorf("perf stat output line %d %q: want value,unit,event,… (was perf run with -x ,?)", i+1, line)
		}
		c := Count{Event: fs[2], Unit: fs[1]}
		v := strings.TrimSpace(fs[0])
		if strings.HasPrefix(v, "<") {
			c.Status = v
		} else {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("perf stat output line %d: value %q is not a number", i+1, v)
			}
			c.Value, c.Counted = f, true
		}
		if len(fs) > 4 {
			c.RunningPct, _ = strconv.ParseFloat(strings.TrimSpace(fs[4]), 64)
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// Lookup returns the counted value of event in cs.
func Lookup(cs []Count, event string) (float64, bool) {
	for _, c := range cs {
		if c.Event == event && c.Counted {
			return c.Value, true
		}
	}
	return 0, false
}

// Perf runs the perf tool.
type Perf struct {
	// Bin is the perf binary ("perf" on PATH when empty).
	Bin string
}

func (p Perf) bin() string {
	if p.Bin == "" {
		return "perf"
	}
	return p.Bin
}

// List returns the events `perf list` offers on this CPU.
func (p Perf) List(ctx context.Context) ([]PerfEvent, error) {
	out, err := exec.CommandContext(ctx, p.bin(), "list", "--no-desc").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("perf list: %v: %s", err, clip(out))
	}
	return ParsePerfList(out), nil
}

// Stat counts events on the running process pid for d.
func (p Perf) Stat(ctx context.Context, pid int, events []string, d time.Duration) ([]Count, error) {
	if len(events) == 0 {
		return nil, fmt.Errorf("perf stat: no events to count")
	}
	args := []string{"stat", "-x", ",", "-e", strings.Join(events, ","), "-p", strconv.Itoa(pid), "--", "sleep", strconv.FormatFloat(d.Seconds(), 'f', 3, 64)}
	cmd := exec.CommandContext(ctx, p.bin(), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("perf %s: %v: %s", strings.Join(args, " "), err, clip(stderr.Bytes()))
	}
	return ParsePerfStat(stderr.Bytes())
}

// HasCounters reports whether any hardware event is offered.
func HasCounters(evs []PerfEvent) bool {
	return slices.ContainsFunc(evs, PerfEvent.Hardware)
}

// clip shortens tool output for an error message.
func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}
