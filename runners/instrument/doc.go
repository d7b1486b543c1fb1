// Package instrument measures a running process with the machine's own
// instruments: perf counters (perf list, perf stat -p), cache-line
// contention (perf c2c), page placement (numa_maps, numastat -p), thread
// affinity (/proc/PID/task/*/status) and, where the machine exposes no
// hardware counters, valgrind's cachegrind cache simulation.
//
// Its opinion: a figure is worth only as much as its source, so every figure
// carries the instrument that produced it, and what could not be measured is
// said in words ("not measured: no hardware counters on this runner") rather
// than reported as zero.
package instrument
