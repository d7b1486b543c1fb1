//go:build linux

package procstat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It is
// 100 on every Linux architecture Go supports (the kernel fixes the ABI value
// independently of CONFIG_HZ).
const clockTicks = 100

// Read returns the current resource use of process pid.
func Read(pid int) (Stats, error) {
	return readRoot("/proc", pid, time.Now())
}

// readRoot reads from a /proc-like tree rooted at root; tests point it at
// testdata.
func readRoot(root string, pid int, now time.Time) (Stats, error) {
	dir := filepath.Join(root, strconv.Itoa(pid))
	st := Stats{At: now}
	if err := readStatus(filepath.Join(dir, "status"), &st); err != nil {
		return Stats{}, err
	}
	if err := readStat(filepath.Join(dir, "stat"), &st); err != nil {
		return Stats{}, err
	}
	ents, err := os.ReadDir(filepath.Join(dir, "fd"))
	if err != nil {
		return Stats{}, fmt.Errorf("procstat: pid %d: counting open files: %w", pid, err)
	}
	st.FDs = len(ents)
	return st, nil
}

// readStatus takes VmRSS, VmSize and Threads from /proc/PID/status.
func readStatus(path string, st *Stats) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("procstat: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) == 0 {
			continue
		}
		switch key {
		case "VmRSS", "VmSize":
			kb, err := strconv.ParseUint(fields[0], 10, 64)
			if err != nil {
				return fmt.Errorf("procstat: %s: %s: %w", path, key, err)
			}
			if key == "VmRSS" {
				st.RSSBytes = kb * 1024
			} else {
				st.VSZBytes = kb * 1024
			}
		case "Threads":
			n, err := strconv.Atoi(fields[0])
			if err != nil {
				return fmt.Errorf("procstat: %s: Threads: %w", path, err)
			}
			st.Threads = n
		}
	}
	return nil
}

// readStat takes utime and stime (fields 14 and 15) from /proc/PID/stat. The
// command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
func readStat(path string, st *Stats) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("procstat: %w", err)
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return fmt.Errorf("procstat: %s: no ')' after the command name", path)
	}
	// After ")" come fields 3 (state) onward; utime is field 14 → index 11.
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return fmt.Errorf("procstat: %s: %d fields after the command name, want at least 13", path, len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	stt, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("procstat: %s: utime/stime %q %q are not integers", path, f[11], f[12])
	}
	st.CPUSeconds = float64(ut+stt) / clockTicks
	return nil
}
