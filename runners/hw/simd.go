package hw

import (
	"sort"
	"strings"

	"github.com/klauspost/cpuid/v2"
)

// simdFeature is one SIMD extension that changes the speed of vector code
// (embedding similarity, hashing): its name in the fingerprint, its CPUID
// feature and its proc/cpuinfo flag.
type simdFeature struct {
	name string
	id   cpuid.FeatureID
	flag string
}

// simdFeatures lists the SIMD extensions the fingerprint reports. Others
// (SSE2, which every x86-64 has, or crypto extensions) are left out on
// purpose: they do not separate machines that matter here.
var simdFeatures = []simdFeature{
	{"SSE42", cpuid.SSE42, "sse4_2"},
	{"AVX", cpuid.AVX, "avx"},
	{"AVX2", cpuid.AVX2, "avx2"},
	{"FMA3", cpuid.FMA3, "fma"},
	{"AVX512F", cpuid.AVX512F, "avx512f"},
	{"AVX512BW", cpuid.AVX512BW, "avx512bw"},
	{"AVX512VL", cpuid.AVX512VL, "avx512vl"},
	{"AVX512VNNI", cpuid.AVX512VNNI, "avx512_vnni"},
	{"AVXVNNI", cpuid.AVXVNNI, "avx_vnni"},
	{"AMXTILE", cpuid.AMXTILE, "amx_tile"},
	{"NEON", cpuid.ASIMD, "asimd"},
	{"ASIMDDP", cpuid.ASIMDDP, "asimddp"},
	{"SVE", cpuid.SVE, "sve"},
	{"SVE2", cpuid.SVE2, "sve2"},
}

// simd returns the sorted SIMD feature names: from CPUID on the running
// machine, from the proc/cpuinfo flags for another root.
func (p *prober) simd(ci cpuinfo) []string {
	var out []string
	if p.live {
		for _, s := range simdFeatures {
			if cpuid.CPU.Supports(s.id) {
				out = append(out, s.name)
			}
		}
	} else {
		flags := map[string]bool{}
		for _, f := range strings.Fields(ci.first("flags", "Features")) {
			flags[f] = true
		}
		for _, s := range simdFeatures {
			if flags[s.flag] {
				out = append(out, s.name)
			}
		}
	}
	sort.Strings(out)
	return out
}
