//go:build linux

package procstat

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// TreeCPU returns the CPU time (user + system) that process pid and all its
// descendants have used so far: a target started through a shell (bash -c
// 'exec …' or not) or one that forks workers is measured whole. Each live
// thread's time comes from /proc/PID/task/TID/schedstat (nanoseconds) when
// the kernel keeps it, else from the process's utime+stime (10 ms ticks);
// time of threads and children that already exited is not seen, so measure
// differences over a phase in which the target's processes live on.
func TreeCPU(pid int) (time.Duration, error) {
	return treeCPU("/proc", pid)
}

func treeCPU(root string, pid int) (time.Duration, error) {
	if _, err := os.Stat(filepath.Join(root, strconv.Itoa(pid))); err != nil {
		return 0, fmt.Errorf("procstat: pid %d: %w", pid, err)
	}
	var total time.Duration
	for _, p := range tree(root, pid) {
		d, err := processCPU(root, p)
		if err != nil {
			if p == pid {
				return 0, err
			}
			continue // a descendant that exited meanwhile
		}
		total += d
	}
	return total, nil
}

// processCPU is the CPU time of one process: the sum of its threads'
// schedstat run times, else its stat utime+stime.
func processCPU(root string, pid int) (time.Duration, error) {
	dir := filepath.Join(root, strconv.Itoa(pid))
	tasks, err := os.ReadDir(filepath.Join(dir, "task"))
	if err == nil {
		var sum time.Duration
		ok := true
		for _, t := range tasks {
			b, err := os.ReadFile(filepath.Join(dir, "task", t.Name(), "schedstat"))
			if err != nil {
				ok = false
				break
			}
			f := strings.Fields(string(b))
			if len(f) < 1 {
				ok = false
				break
			}
			ns, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				ok = false
				break
			}
			sum += time.Duration(ns)
		}
		if ok && len(tasks) > 0 {
			return sum, nil
		}
	}
	var st Stats
	if err := readStat(filepath.Join(dir, "stat"), &st); err != nil {
		return 0, err
	}
	return time.Duration(st.CPUSeconds * float64(time.Second)), nil
}

// Tree returns pid and its descendants, pid first and then by generation:
// the processes of a target started through a shell or a script.
func Tree(pid int) []int {
	return tree("/proc", pid)
}

// tree returns pid and its descendants, found by the parent pid field of
// every /proc/N/stat.
func tree(root string, pid int) []int {
	ents, err := os.ReadDir(root)
	if err != nil {
		return []int{pid}
	}
	children := map[int][]int{}
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil || n == pid {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, e.Name(), "stat"))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		if pp, err := strconv.Atoi(f[1]); err == nil {
			children[pp] = append(children[pp], n)
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}
