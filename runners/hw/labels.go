package hw

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"github.com/engram/m18-gate/runners/result"
)

// Labels returns the runner labels f implies, in a fixed order: OS, arch
// ("x64", "arm64"), "cores-N", "cgroup-cpus-Q" when a quota limits the
// cores, "mem-Ng", "sockets-N", "numa-N", "smt-on" or "smt-off", each SIMD
// feature in lower case, "perf-counters" when they work, and "tierN" for
// each eligible tier. Unknown fields give no label.
func Labels(f result.Fingerprint) []string {
	var l []string
	add := func(ok bool, s string) {
		if ok {
			l = append(l, s)
		}
	}
	add(f.OS != "", strings.ToLower(f.OS))
	add(f.Arch != "", archLabel(f.Arch))
	add(f.LogicalCores > 0, "cores-"+strconv.Itoa(f.LogicalCores))
	add(f.CgroupCPUQuota > 0 && f.CgroupCPUQuota < float64(f.LogicalCores),
		"cgroup-cpus-"+strconv.FormatFloat(f.CgroupCPUQuota, 'g', -1, 64))
	add(f.MemoryBytes > 0, fmt.Sprintf("mem-%dg", memGiB(f.MemoryBytes)))
	add(f.Sockets > 0, "sockets-"+strconv.Itoa(f.Sockets))
	add(f.NUMANodes > 0, "numa-"+strconv.Itoa(f.NUMANodes))
	add(f.SMT == "on" || f.SMT == "off", "smt-"+f.SMT)
	for _, s := range f.SIMD {
		l = append(l, strings.ToLower(s))
	}
	add(f.PerfCounters, "perf-counters")
	for _, t := range Tiers(f) {
		add(t.Eligible, t.Label)
	}
	return l
}

// archLabel names an architecture as GitHub runner labels do.
func archLabel(arch string) string {
	switch arch {
	case "x86_64", "amd64":
		return "x64"
	case "aarch64", "arm64":
		return "arm64"
	}
	return strings.ToLower(arch)
}

// Describe returns f on one line:
// "Intel Xeon … · x86_64 · 2 cores · 24 GiB · 1 NUMA node".
func Describe(f result.Fingerprint) string {
	parts := []string{cmp.Or(f.CPUModel, "unknown CPU"), cmp.Or(f.Arch, "unknown arch")}
	cores := plural(f.LogicalCores, "core")
	if f.PhysicalCores > 0 && f.PhysicalCores != f.LogicalCores {
		cores = fmt.Sprintf("%s (%d physical)", cores, f.PhysicalCores)
	}
	if f.CgroupCPUQuota > 0 {
		cores += fmt.Sprintf(", cgroup quota %s", strconv.FormatFloat(f.CgroupCPUQuota, 'g', -1, 64))
	}
	parts = append(parts, cores)
	if f.MemoryBytes > 0 {
		parts = append(parts, fmt.Sprintf("%d GiB", memGiB(f.MemoryBytes)))
	} else {
		parts = append(parts, "unknown memory")
	}
	if f.Sockets > 1 {
		parts = append(parts, plural(f.Sockets, "socket"))
	}
	parts = append(parts, plural(f.NUMANodes, "NUMA node"))
	return strings.Join(parts, " · ")
}
