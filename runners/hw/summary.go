package hw

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/engram/m18-gate/runners/result"
)

// Summary is what m18-probe reports: a fingerprint with the runner labels and
// tier eligibility it implies, and the warnings met while probing.
type Summary struct {
	Fingerprint result.Fingerprint `json:"fingerprint"`
	Labels      []string           `json:"labels"`
	Tiers       []TierEligibility  `json:"tiers"`
	Warnings    []string           `json:"warnings,omitempty"`
}

// Summarize derives the labels and tiers of r.
func Summarize(r Report) Summary {
	return Summary{
		Fingerprint: r.Fingerprint,
		Labels:      Labels(r.Fingerprint),
		Tiers:       Tiers(r.Fingerprint),
		Warnings:    r.Warnings,
	}
}

// WriteText writes s for a reader: the one-line description, each field, the
// labels, then each tier with the reasons it is not met.
func (s Summary) WriteText(w io.Writer) error {
	f := s.Fingerprint
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", Describe(f))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "  %s\t%s\n", k, cmp.Or(v, "unknown")) }
	num := func(n int) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	row("hash", f.Hash)
	row("cpu", f.CPUModel)
	row("arch", f.Arch)
	row("logical cores", num(f.LogicalCores))
	row("physical cores", num(f.PhysicalCores))
	row("sockets", num(f.Sockets))
	row("numa nodes", num(f.NUMANodes))
	mem := ""
	if f.MemoryBytes > 0 {
		mem = fmt.Sprintf("%.1f GiB (%d bytes)", float64(f.MemoryBytes)/(1<<30), f.MemoryBytes)
	}
	row("memory", mem)
	row("os", f.OS)
	row("kernel", f.Kernel)
	row("simd", strings.Join(f.SIMD, " "))
	quota := "none"
	if f.CgroupCPUQuota > 0 {
		quota = strconv.FormatFloat(f.CgroupCPUQuota, 'g', -1, 64) + " cores"
	}
	row("cgroup cpu quota", quota)
	row("governor", f.Governor)
	row("smt", f.SMT)
	row("perf counters", strconv.FormatBool(f.PerfCounters))
	row("go", f.GoVersion)
	row("tool", f.ToolVersion)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\nlabels: %s\n\ntiers:\n", strings.Join(s.Labels, ","))
	for _, t := range s.Tiers {
		mark := "no "
		if t.Eligible {
			mark = "yes"
		}
		fmt.Fprintf(&b, "  %s  Tier %d (%s)\n", mark, t.Tier, t.Name)
		for _, r := range t.Reasons {
			fmt.Fprintf(&b, "         - %s\n", r)
		}
	}
	if len(s.Warnings) > 0 {
		fmt.Fprintf(&b, "\nwarnings (fields left unknown):\n")
		for _, wn := range s.Warnings {
			fmt.Fprintf(&b, "  - %s\n", wn)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes s as indented JSON.
func (s Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// Output is one GitHub Actions step output.
type Output struct{ Name, Value string }

// Outputs returns the step outputs m18-probe sets: fingerprint (the hash),
// fingerprint_json (the whole fingerprint, one line), labels (comma
// separated) and tiers (the eligible tiers' labels, comma separated, empty
// when none).
func (s Summary) Outputs() ([]Output, error) {
	fj, err := json.Marshal(s.Fingerprint)
	if err != nil {
		return nil, err
	}
	var tiers []string
	for _, t := range s.Tiers {
		if t.Eligible {
			tiers = append(tiers, t.Label)
		}
	}
	return []Output{
		{"fingerprint", s.Fingerprint.Hash},
		{"fingerprint_json", string(fj)},
		{"labels", strings.Join(s.Labels, ",")},
		{"tiers", strings.Join(tiers, ",")},
	}, nil
}
