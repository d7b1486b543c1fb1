// Package hw fingerprints the machine a benchmark runs on: CPU, cores,
// sockets, NUMA nodes, memory, kernel, SIMD, cgroup quota, governor, SMT and
// whether hardware performance counters work.
//
// Its opinion: a result is only comparable with results from an equivalent
// machine, so the fingerprint carries a short hash of the fields that change
// performance (and only those), and the package says plainly which seed tiers
// (Tier 1/2/3 of the M18 milestone) a machine can honestly run. Probing never
// fails on a missing file: what cannot be read stays zero and is reported as a
// warning.
package hw
