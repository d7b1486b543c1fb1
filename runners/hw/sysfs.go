package hw

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path"
	"runtime"
	"strconv"
	"strings"

	"github.com/klauspost/cpuid/v2"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// readTrim returns the trimmed content of a file under the root, or "" when
// it cannot be read.
func (p *prober) readTrim(rel string) string {
	b, err := os.ReadFile(p.path(rel))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// cpuinfo is /proc/cpuinfo split into its blank-line separated blocks
// (one per processor, plus trailing machine-wide lines on some ARM kernels).
type cpuinfo []map[string]string

func (p *prober) cpuinfo() cpuinfo {
	b, err := os.ReadFile(p.path("proc/cpuinfo"))
	if err != nil {
		p.warn("proc/cpuinfo: %v", err)
		return nil
	}
	var ci cpuinfo
	cur := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				ci = append(ci, cur)
				cur = map[string]string{}
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		cur[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if len(cur) > 0 {
		ci = append(ci, cur)
	}
	return ci
}

// first returns the first non-empty value of any of keys.
func (ci cpuinfo) first(keys ...string) string {
	for _, k := range keys {
		for _, b := range ci {
			if v := b[k]; v != "" {
				return v
			}
		}
	}
	return ""
}

// processors returns the blocks that describe one logical CPU.
func (ci cpuinfo) processors() []map[string]string {
	var out []map[string]string
	for _, b := range ci {
		if _, ok := b["processor"]; ok {
			out = append(out, b)
		}
	}
	return out
}

func (p *prober) cpuModel(ci cpuinfo) string {
	m := ci.first("model name", "Model Name", "Hardware", "Processor", "cpu model")
	if m == "" {
		if impl := ci.first("CPU implementer"); impl != "" {
			m = "ARM implementer " + impl + " part " + ci.first("CPU part")
		}
	}
	if m == "" && p.live {
		m = cpuid.CPU.BrandName
	}
	m = strings.Join(strings.Fields(m), " ")
	if m == "" {
		p.warn("cpu model: not in proc/cpuinfo and CPUID gave none")
	}
	return m
}

// arch returns the machine name as uname reports it (x86_64, aarch64).
func (p *prober) arch(ci cpuinfo) string {
	if p.live {
		if m := unameMachine(); m != "" {
			return m
		}
		return goarchMachine(runtime.GOARCH)
	}
	switch {
	case ci.first("vendor_id") != "":
		return "x86_64"
	case ci.first("CPU implementer") != "":
		return "aarch64"
	}
	p.warn("arch: cannot tell from proc/cpuinfo under %s", p.root)
	return ""
}

func goarchMachine(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "386":
		return "i686"
	}
	return goarch
}

// topology fills logical and physical cores, sockets and NUMA nodes from
// sys/devices/system, falling back to proc/cpuinfo.
func (p *prober) topology(ci cpuinfo) {
	f := &p.f
	cpus, err := parseCPUList(p.readTrim("sys/devices/system/cpu/online"))
	if err != nil || len(cpus) == 0 {
		if procs := ci.processors(); len(procs) > 0 {
			f.LogicalCores = len(procs)
		} else if p.live {
			f.LogicalCores = runtime.NumCPU()
		} else {
			p.warn("logical cores: neither sys/devices/system/cpu/online nor proc/cpuinfo is readable")
		}
	} else {
		f.LogicalCores = len(cpus)
	}

	// Physical cores are the distinct sibling sets; sockets the distinct
	// package ids.
	cores, pkgs := map[string]bool{}, map[string]bool{}
	for _, c := range cpus {
		dir := sprintf("sys/devices/system/cpu/cpu%d/topology/", c)
		sib := p.readTrim(dir + "thread_siblings_list")
		if sib == "" {
			sib = p.readTrim(dir + "core_cpus_list")
		}
		pkg := p.readTrim(dir + "physical_package_id")
		if sib == "" || pkg == "" {
			cores, pkgs = nil, nil
			break
		}
		cores[sib] = true
		pkgs[pkg] = true
	}
	if len(cores) == 0 {
		// proc/cpuinfo: "physical id" and "core id" (x86 only).
		cores, pkgs = map[string]bool{}, map[string]bool{}
		for _, b := range ci.processors() {
			pid, cid := b["physical id"], b["core id"]
			if pid == "" || cid == "" {
				cores, pkgs = nil, nil
				break
			}
			cores[pid+"/"+cid] = true
			pkgs[pid] = true
		}
	}
	if len(cores) > 0 {
		f.PhysicalCores = len(cores)
		f.Sockets = len(pkgs)
	} else {
		p.warn("physical cores, sockets: no topology in sys/devices/system/cpu/cpu*/topology or proc/cpuinfo")
	}

	if nodes, err := parseCPUList(p.readTrim("sys/devices/system/node/online")); err == nil && len(nodes) > 0 {
		f.NUMANodes = len(nodes)
	} else if ents, err := os.ReadDir(p.path("sys/devices/system/node")); err == nil {
		for _, e := range ents {
			if n, ok := strings.CutPrefix(e.Name(), "node"); ok && isDigits(n) {
				f.NUMANodes++
			}
		}
	}
	if f.NUMANodes == 0 {
		p.warn("numa nodes: sys/devices/system/node is not readable")
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// parseCPUList parses the kernel's list format ("0-3,8,10-11").
func parseCPUList(s string) ([]int, error) {
	if s == "" {
		return nil, fmt.Errorf("empty list")
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("bad cpu list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad cpu list %q", s)
			}
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}

func (p *prober) memory() {
	b, err := os.ReadFile(p.path("proc/meminfo"))
	if err != nil {
		p.warn("memory: %v", err)
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "MemTotal:")
		if !ok {
			continue
		}
		fs := strings.Fields(rest)
		if len(fs) >= 1 {
			if kb, err := strconv.ParseUint(fs[0], 10, 64); err == nil {
				p.f.MemoryBytes = kb * 1024
				return
			}
		}
	}
	p.warn("memory: no MemTotal line in proc/meminfo")
}

func (p *prober) kernel() string {
	if k := p.readTrim("proc/sys/kernel/osrelease"); k != "" {
		return k
	}
	if p.live {
		if k := unameRelease(); k != "" {
			return k
		}
	}
	p.warn("kernel: proc/sys/kernel/osrelease is not readable")
	return ""
}

func (p *prober) os() string {
	if p.live {
		return runtime.GOOS
	}
	if p.exists("proc") || p.exists("sys") {
		return "linux"
	}
	p.warn("os: no proc or sys tree under %s", p.root)
	return ""
}

// smt reports sys/devices/system/cpu/smt/control ("on", "off", "forceoff",
// "notsupported", "notimplemented"); without it, "on" or "off" from the
// topology, or "" when unknown.
func (p *prober) smt() string {
	if c := p.readTrim("sys/devices/system/cpu/smt/control"); c != "" {
		return c
	}
	f := p.f
	switch {
	case f.PhysicalCores == 0 || f.LogicalCores == 0:
		return ""
	case f.LogicalCores > f.PhysicalCores:
		return "on"
	}
	return "off"
}

// cgroupQuota returns the CPU limit in cores of this process's cgroup and
// its ancestors (the smallest), 0 when unlimited or unknown. It reads cgroup
// v2 cpu.max, else v1 cpu.cfs_quota_us / cpu.cfs_period_us.
func (p *prober) cgroupQuota() float64 {
	v2, v1 := "/", "/"
	if b, err := os.ReadFile(p.path("proc/self/cgroup")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 {
				continue
			}
			if parts[0] == "0" && parts[1] == "" {
				v2 = parts[2]
			}
			for _, c := range strings.Split(parts[1], ",") {
				if c == "cpu" {
					v1 = parts[2]
				}
			}
		}
	}
	found := false
	best := 0.0
	consider := func(q float64) {
		found = true
		if q > 0 && (best == 0 || q < best) {
			best = q
		}
	}
	for _, mount := range []string{"sys/fs/cgroup", "sys/fs/cgroup/unified"} {
		for _, dir := range ancestors(v2) {
			s := p.readTrim(path.Join(mount, dir, "cpu.max"))
			if s == "" {
				continue
			}
			fs := strings.Fields(s)
			if len(fs) == 2 && fs[0] == "max" {
				consider(0)
				continue
			}
			if len(fs) == 2 {
				q, err1 := strconv.ParseFloat(fs[0], 64)
				per, err2 := strconv.ParseFloat(fs[1], 64)
				if err1 == nil && err2 == nil && per > 0 {
					consider(q / per)
					continue
				}
			}
			found = true
			p.warn("cgroup: %s: cannot parse %q (want \"QUOTA PERIOD\" or \"max PERIOD\")", path.Join(mount, dir, "cpu.max"), s)
		}
	}
	for _, mount := range []string{"sys/fs/cgroup/cpu,cpuacct", "sys/fs/cgroup/cpu", "sys/fs/cgroup/cpuacct,cpu"} {
		for _, dir := range ancestors(v1) {
			qs := p.readTrim(path.Join(mount, dir, "cpu.cfs_quota_us"))
			ps := p.readTrim(path.Join(mount, dir, "cpu.cfs_period_us"))
			if qs == "" || ps == "" {
				continue
			}
			q, err1 := strconv.ParseFloat(qs, 64)
			per, err2 := strconv.ParseFloat(ps, 64)
			if err1 != nil || err2 != nil || per <= 0 {
				found = true
				p.warn("cgroup: %s: cannot parse quota %q period %q", path.Join(mount, dir), qs, ps)
				continue
			}
			if q < 0 {
				consider(0)
			} else {
				consider(q / per)
			}
		}
	}
	if !found && p.f.OS == "linux" {
		p.warn("cgroup CPU quota: no cpu.max or cpu.cfs_quota_us under sys/fs/cgroup; assuming no limit")
	}
	return best
}

// ancestors returns dir and each of its parents up to "/", deepest first.
func ancestors(dir string) []string {
	dir = path.Clean("/" + dir)
	out := []string{dir}
	for dir != "/" {
		dir = path.Dir(dir)
		out = append(out, dir)
	}
	return out
}
