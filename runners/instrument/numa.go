package instrument

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Node is one NUMA node of /sys/devices/system/node: its id and CPUs.
type Node struct {
	ID   int
	CPUs []int
}

// ReadNodes reads the NUMA nodes under root (a sysfs node directory such as
// /sys/devices/system/node): each nodeN/cpulist. A machine without the
// directory has one node holding every CPU, reported as none (nil).
func ReadNodes(dir string) ([]Node, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var nodes []Node
	for _, e := range ents {
		id, ok := strings.CutPrefix(e.Name(), "node")
		n, err := strconv.Atoi(id)
		if !ok || err != nil || !e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "cpulist"))
		if err != nil {
			return nil, err
		}
		cpus, err := ParseCPUList(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, e.Name(), "cpulist"), err)
		}
		nodes = append(nodes, Node{ID: n, CPUs: cpus})
	}
	slices.SortFunc(nodes, func(a, b Node) int { return a.ID - b.ID })
	return nodes, nil
}

// NodeOfCPU returns the node holding cpu, or -1.
func NodeOfCPU(nodes []Node, cpu int) int {
	for _, n := range nodes {
		if slices.Contains(n.CPUs, cpu) {
			return n.ID
		}
	}
	return -1
}

// ParseCPUList parses a kernel CPU list ("0-3,8,10-11"; "" is empty).
func ParseCPUList(s string) ([]int, error) {
	var out []int
	if s = strings.TrimSpace(s); s == "" {
		return nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("CPU list %q: %q is not a CPU number", s, lo)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("CPU list %q: bad range %q", s, part)
			}
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}

// Placement is where a process's pages are: bytes per NUMA node, from
// /proc/PID/numa_maps.
type Placement struct {
	BytesByNode map[int]int64
}

// Total is the placed bytes over all nodes.
func (p Placement) Total() int64 {
	var t int64
	for _, b := range p.BytesByNode {
		t += b
	}
	return t
}

// ShareOn returns the share of the placed bytes on the given nodes.
func (p Placement) ShareOn(nodes []int) (float64, bool) {
	t := p.Total()
	if t == 0 {
		return 0, false
	}
	var on int64
	for _, n := range nodes {
		on += p.BytesByNode[n]
	}
	return float64(on) / float64(t), true
}

// ParseNumaMaps sums the pages of each node (the N<node>=<pages> fields)
// of /proc/PID/numa_maps, in bytes by each mapping's kernelpagesize_kB
// (4 KiB when absent).
func ParseNumaMaps(b []byte) (Placement, error) {
	p := Placement{BytesByNode: map[int]int64{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	line := 0
	for sc.Scan() {
		line++
		fs := strings.Fields(sc.Text())
		if len(fs) < 2 {
			continue
		}
		pageKB := int64(4)
		pages := map[int]int64{}
		for _, f := range fs[2:] {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				continue
			}
			switch {
			case k == "kernelpagesize_kB":
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return Placement{}, fmt.Errorf("numa_maps line %d: kernelpagesize_kB=%q", line, v)
				}
				pageKB = n
			case len(k) > 1 && k[0] == 'N' && k[1] >= '0' && k[1] <= '9':
				node, err1 := strconv.Atoi(k[1:])
				n, err2 := strconv.ParseInt(v, 10, 64)
				if err1 != nil || err2 != nil {
					return Placement{}, fmt.Errorf("numa_maps line %d: bad node field %q", line, f)
				}
				pages[node] += n
			}
		}
		for node, n := range pages {
			p.BytesByNode[node] += n * pageKB << 10
		}
	}
	return p, sc.Err()
}

// ParseNumastat reads the "Total" row of `numastat -p PID`: MiB per node,
// in the order of the header's "Node N" columns.
func ParseNumastat(b []byte) (map[int]float64, error) {
	var nodes []int
	out := map[int]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		fs := strings.Fields(line)
		switch {
		case len(fs) >= 2 && fs[0] == "Node":
			for i := 0; i+1 < len(fs); i += 2 {
				if fs[i] != "Node" {
					break
				}
				n, err := strconv.Atoi(fs[i+1])
				if err != nil {
					return nil, fmt.Errorf("numastat header %q: %q is not a node", line, fs[i+1])
				}
				nodes = append(nodes, n)
			}
		case len(fs) > 0 && fs[0] == "Total" && nodes != nil:
			if len(fs) < len(nodes)+1 {
				return nil, fmt.Errorf("numastat Total row %q has %d values for %d nodes", line, len(fs)-1, len(nodes))
			}
			for i, n := range nodes {
				v, err := strconv.ParseFloat(fs[i+1], 64)
				if err != nil {
					return nil, fmt.Errorf("numastat Total row: %q is not a number", fs[i+1])
				}
				out[n] = v
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("numastat -p output has no \"Node N\" header and Total row")
}

// Numastat runs `numastat -p PID` and returns MiB per node.
func Numastat(ctx context.Context, pid int) (map[int]float64, error) {
	out, err := exec.CommandContext(ctx, "numastat", "-p", strconv.Itoa(pid)).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("numastat -p %d: %v: %s", pid, err, clip(out))
	}
	return ParseNumastat(out)
}
