package hw

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"github.com/engram/m18-gate/runners/result"
)

// TierEligibility says whether a machine can run one seed tier of the M18
// hardware configurations, and why not.
type TierEligibility struct {
	// Tier is 1, 2 or 3.
	Tier int `json:"tier"`
	// Name is the tier's title in MILESTONE.md ("Minimum Required", …).
	Name string `json:"name"`
	// Label is the runner label the tier implies ("tier1", …).
	Label    string `json:"label"`
	Eligible bool   `json:"eligible"`
	// Reasons holds one sentence per requirement the machine does not meet,
	// e.g. "Tier 1 needs 8 cores, this machine has 2". Empty when eligible.
	Reasons []string `json:"reasons,omitempty"`
}

// Tier requirements, from the M18 milestone's Hardware Configurations.
// Memory is in decimal GB as the milestone writes it, compared with the
// kernel's MemTotal (slightly below the installed RAM, so a "16 GB" box
// qualifies). Cores are logical cores, or the cgroup quota when smaller.
// Storage type is not checked.
const (
	tier1Cores, tier1MemGB = 8, 16
	tier2Cores, tier2MemGB = 16, 64
	tier3NUMA, tier3MemGB  = 2, 128
)

// Tiers reports, for Tier 1, 2 and 3, whether f's machine is eligible. Tier 3
// also needs numactl on this process's PATH.
func Tiers(f result.Fingerprint) []TierEligibility {
	_, err := exec.LookPath("numactl")
	return tiers(f, err == nil)
}

func tiers(f result.Fingerprint, numactl bool) []TierEligibility {
	t1 := TierEligibility{Tier: 1, Name: "Minimum Required"}
	t1.need(coresReason(1, f, tier1Cores))
	t1.need(memReason(1, f, tier1MemGB))
	t1.need(osReason(1, f, true))

	t2 := TierEligibility{Tier: 2, Name: "Production Representative"}
	t2.need(coresReason(2, f, tier2Cores))
	t2.need(memReason(2, f, tier2MemGB))

	t3 := TierEligibility{Tier: 3, Name: "NUMA Systems"}
	if f.NUMANodes < tier3NUMA {
		t3.need(fmt.Sprintf("Tier 3 needs %d NUMA nodes, this machine has %s (%s)",
			tier3NUMA, countOrUnknown(f.NUMANodes), plural(f.Sockets, "socket")))
	}
	t3.need(memReason(3, f, tier3MemGB))
	t3.need(osReason(3, f, false))
	if !numactl {
		t3.need("Tier 3 needs numactl on PATH, it is not installed (apt-get install numactl)")
	}

	out := []TierEligibility{t1, t2, t3}
	for i := range out {
		out[i].Label = "tier" + strconv.Itoa(out[i].Tier)
		out[i].Eligible = len(out[i].Reasons) == 0
	}
	return out
}

func (t *TierEligibility) need(reason string) {
	if reason != "" {
		t.Reasons = append(t.Reasons, reason)
	}
}

// EffectiveCores is the CPU capacity a benchmark gets: the logical cores, or
// the cgroup CPU quota when it is smaller.
func EffectiveCores(f result.Fingerprint) float64 {
	c := float64(f.LogicalCores)
	if f.CgroupCPUQuota > 0 && (c == 0 || f.CgroupCPUQuota < c) {
		return f.CgroupCPUQuota
	}
	return c
}

func coresReason(tier int, f result.Fingerprint, want int) string {
	have := EffectiveCores(f)
	if have >= float64(want) {
		return ""
	}
	if have == 0 {
		return fmt.Sprintf("Tier %d needs %d cores, this machine's core count is unknown", tier, want)
	}
	s := fmt.Sprintf("Tier %d needs %d cores, this machine has %s", tier, want, strconv.FormatFloat(have, 'g', -1, 64))
	if have < float64(f.LogicalCores) {
		s += fmt.Sprintf(" (cgroup CPU quota of %d logical cores)", f.LogicalCores)
	}
	return s
}

func memReason(tier int, f result.Fingerprint, wantGB int) string {
	have := float64(f.MemoryBytes) / 1e9
	if have >= float64(wantGB) {
		return ""
	}
	if f.MemoryBytes == 0 {
		return fmt.Sprintf("Tier %d needs %d GB of memory, this machine's memory is unknown", tier, wantGB)
	}
	return fmt.Sprintf("Tier %d needs %d GB of memory, this machine has %.1f GB", tier, wantGB, have)
}

// osReason checks "Linux 5.10+" (and, when macOK, "macOS 12+", which is
// Darwin 21).
func osReason(tier int, f result.Fingerprint, macOK bool) string {
	want := "Linux 5.10+"
	if macOK {
		want += " or macOS 12+"
	}
	switch f.OS {
	case "linux":
		if versionAtLeast(f.Kernel, 5, 10) {
			return ""
		}
		return fmt.Sprintf("Tier %d needs %s, this machine runs Linux %s", tier, want, orUnknown(f.Kernel))
	case "darwin":
		if macOK && versionAtLeast(f.Kernel, 21, 0) {
			return ""
		}
		return fmt.Sprintf("Tier %d needs %s, this machine runs Darwin %s", tier, want, orUnknown(f.Kernel))
	}
	return fmt.Sprintf("Tier %d needs %s, this machine runs %s", tier, want, orUnknown(f.OS))
}

// versionAtLeast reports whether a kernel release ("5.15.0-91-generic")
// is at least major.minor.
func versionAtLeast(release string, major, minor int) bool {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(leadingDigits(parts[1]))
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown version"
	}
	return s
}

func countOrUnknown(n int) string {
	if n == 0 {
		return "an unknown number"
	}
	return strconv.Itoa(n)
}

func plural(n int, word string) string {
	switch n {
	case 0:
		return "unknown " + word + "s"
	case 1:
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
