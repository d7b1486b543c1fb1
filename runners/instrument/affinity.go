package instrument

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Thread is one thread of a process: the CPUs it may run on
// (Cpus_allowed_list of its status) and the CPU it last ran on (field 39
// of its stat).
type Thread struct {
	TID     int
	Allowed []int
	LastCPU int
}

// Threads reads every thread of pid under procRoot (normally "/proc").
func Threads(procRoot string, pid int) ([]Thread, error) {
	dir := filepath.Join(procRoot, strconv.Itoa(pid), "task")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ts []Thread
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile(filepath.Join(dir, e.Name(), "status"))
		if err != nil {
			continue // the thread ended
		}
		t := Thread{TID: tid, LastCPU: -1}
		if t.Allowed, err = ParseAllowed(st); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, e.Name(), "status"), err)
		}
		if stat, err := os.ReadFile(filepath.Join(dir, e.Name(), "stat")); err == nil {
			t.LastCPU = ParseLastCPU(stat)
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// ParseAllowed returns the Cpus_allowed_list of a /proc status file.
func ParseAllowed(status []byte) ([]int, error) {
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return ParseCPUList(v)
		}
	}
	return nil, fmt.Errorf("no Cpus_allowed_list line")
}

// ParseLastCPU returns field 39 (processor) of a /proc stat line, -1 when
// absent. The command name (field 2) may hold spaces and parentheses, so
// fields are counted after its last ')'.
func ParseLastCPU(stat []byte) int {
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	fs := strings.Fields(s[i+1:])
	// fs[0] is field 3 (state): field 39 is fs[36].
	if len(fs) < 37 {
		return -1
	}
	n, err := strconv.Atoi(fs[36])
	if err != nil {
		return -1
	}
	return n
}

// Spread reports over how many of nodes the threads last ran, and on how
// many distinct CPUs.
func Spread(ts []Thread, nodes []Node) (nodesUsed, cpusUsed int) {
	ns, cs := map[int]bool{}, map[int]bool{}
	for _, t := range ts {
		if t.LastCPU < 0 {
			continue
		}
		cs[t.LastCPU] = true
		if n := NodeOfCPU(nodes, t.LastCPU); n >= 0 {
			ns[n] = true
		}
	}
	return len(ns), len(cs)
}
