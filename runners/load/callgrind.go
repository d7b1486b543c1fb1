package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/engram/m18-gate/runners/procstat"
)

// InstructionsCallgrind counts the target's instructions with valgrind's
// callgrind: the target runs under
//
//	valgrind --tool=callgrind --instr-atstart=no TARGET…
//
// (a Go target with GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off, see
// instrument.GoUnderValgrind), and each measured phase switches
// instrumentation on, zeroes the counters at its start and dumps them at its
// end (callgrind_control), so the count is the measured phase's alone:
// start-up, preload and warm-up run uninstrumented.
const InstructionsCallgrind = "callgrind"

// callgrind drives callgrind_control for one target process.
type callgrind struct{ pid int }

func (c callgrind) control(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "callgrind_control", append(args, strconv.Itoa(c.pid))...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("callgrind_control %s %d: %w: %s", strings.Join(args, " "), c.pid, err, bytes.TrimSpace(out))
	}
	// callgrind_control exits 0 even when it found no such run.
	if bytes.Contains(out, []byte("No active callgrind runs")) || bytes.Contains(out, []byte("not detected")) || !bytes.Contains(out, []byte("OK")) {
		return fmt.Errorf("pid %d does not run under valgrind --tool=callgrind", c.pid)
	}
	return nil
}

// startCallgrind starts counting in the process of pid's tree that runs
// under callgrind: pid itself, or the first descendant that does when the
// target was started through a shell or a script (the action's
// target-command runs in a subshell). The error is the root's when none
// does.
func startCallgrind(pid int) (*callgrind, error) {
	var first error
	for _, p := range procstat.Tree(pid) {
		c := &callgrind{pid: p}
		err := c.start()
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
	}
	return &callgrind{pid: pid}, first
}

// start switches instrumentation on and zeroes the counters.
func (c callgrind) start() error {
	if err := c.control("--instr=on"); err != nil {
		return err
	}
	return c.control("--zero")
}

// stop dumps the counters and returns the instructions counted since start.
func (c callgrind) stop() (float64, error) {
	since := time.Now().Add(-time.Second)
	if err := c.control("--dump"); err != nil {
		return 0, err
	}
	base, err := c.outFile()
	if err != nil {
		return 0, err
	}
	// callgrind writes dump N of the run to BASE.N; take the newest.
	files, _ := filepath.Glob(base + ".*")
	slices.SortFunc(files, func(a, b string) int {
		sa, _ := os.Stat(a)
		sb, _ := os.Stat(b)
		if sa == nil || sb == nil {
			return 0
		}
		return sb.ModTime().Compare(sa.ModTime())
	})
	if len(files) == 0 {
		return 0, fmt.Errorf("callgrind wrote no dump beside %s", base)
	}
	if st, err := os.Stat(files[0]); err != nil || st.ModTime().Before(since) {
		return 0, fmt.Errorf("callgrind's newest dump %s is older than this phase", files[0])
	}
	return callgrindTotal(files[0])
}

// outFile is the target's --callgrind-out-file (with %p expanded), else
// callgrind.out.PID in its working directory.
func (c callgrind) outFile() (string, error) {
	proc := filepath.Join("/proc", strconv.Itoa(c.pid))
	cmdline, err := os.ReadFile(filepath.Join(proc, "cmdline"))
	if err != nil {
		return "", err
	}
	cwd, err := os.Readlink(filepath.Join(proc, "cwd"))
	if err != nil {
		return "", err
	}
	name := "callgrind.out.%p"
	for _, a := range bytes.Split(cmdline, []byte{0}) {
		if v, ok := strings.CutPrefix(string(a), "--callgrind-out-file="); ok {
			name = v
			break
		}
	}
	name = strings.ReplaceAll(name, "%p", strconv.Itoa(c.pid))
	if !filepath.IsAbs(name) {
		name = filepath.Join(cwd, name)
	}
	return name, nil
}

// callgrindTotal reads the "totals:" (else "summary:") line of a callgrind
// dump: the first event, instructions (Ir).
func callgrindTotal(path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var total string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "totals:"); ok {
			total = v
		} else if v, ok := strings.CutPrefix(line, "summary:"); ok && total == "" {
			total = v
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	fields := strings.Fields(total)
	if len(fields) == 0 {
		return 0, errors.New(path + `: no "totals:" or "summary:" line`)
	}
	return strconv.ParseFloat(fields[0], 64)
}
