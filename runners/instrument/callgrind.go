package instrument

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// CallgrindArgs returns the command line prefix that runs a program under
// callgrind with its cache simulation (the same simulated caches as
// cachegrind's), writing to outFile (%p = the pid), with collection on
// from the start. Its counters can be zeroed and dumped while the program
// runs (Callgrind), so that a workload is counted on its own inside one
// process, after the same start-up and preload, with no second run to
// subtract. The prefix sets GoUnderValgrind in the program's environment.
func CallgrindArgs(outFile string, d1, ll Geometry) []string {
	return valgrindArgs("callgrind", "--callgrind-out-file="+outFile, d1, ll)
}

// GoUnderValgrind is the environment a Go program needs to run under
// valgrind 3.19 (other programs ignore it): asyncpreemptoff=1, because
// callgrind stops on an assertion when the runtime's preemption signals
// arrive; cpu.rdtscp=off, because on a host whose CPU does not report
// RDTSCP (virtual machines) valgrind still reports it to the program but
// cannot run it, and Go's runtime, reading its clock with it, dies of
// SIGILL. Neither changes what the program computes: the runtime then
// preempts only at function calls and reads its clock with RDTSC after a
// fence.
const GoUnderValgrind = "GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off"

// valgrindArgs is the command line prefix of a valgrind tool with cache
// simulation, run through env with GoUnderValgrind set.
func valgrindArgs(tool, out string, d1, ll Geometry) []string {
	a := []string{"env", GoUnderValgrind, "valgrind", "--tool=" + tool, "--cache-sim=yes", out}
	if d1 != (Geometry{}) {
		a = append(a, "--D1="+d1.String())
	}
	if ll != (Geometry{}) {
		a = append(a, "--LL="+ll.String())
	}
	return a
}

// Callgrind is a process running under callgrind.
type Callgrind struct {
	PID int
	// Out is its output file; the n-th dump is Out.n.
	Out   string
	dumps int
}

// FindCallgrind finds the process that writes to pattern (an outFile given
// to CallgrindArgs, with %p): callgrind creates the file when it starts,
// so the pid is read off its name.
func FindCallgrind(pattern string) (*Callgrind, error) {
	before, after, ok := strings.Cut(pattern, "%p")
	if !ok {
		return nil, fmt.Errorf("callgrind output %q has no %%p: the pid cannot be found", pattern)
	}
	files, _ := filepath.Glob(before + "*" + after)
	var found []*Callgrind
	for _, f := range files {
		pid, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(f, before), after))
		if err == nil && pid > 0 {
			found = append(found, &Callgrind{PID: pid, Out: f})
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("want one running callgrind writing %s, found %d (%v): was {instrument} in front of the server's own command?", pattern, len(found), files)
	}
	return found[0], nil
}

// control runs callgrind_control with the command flag on the process.
func (c *Callgrind) control(ctx context.Context, flag string) error {
	cmd := exec.CommandContext(ctx, "callgrind_control", flag, strconv.Itoa(c.PID))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		return fmt.Errorf("callgrind_control %s %d: %v: %s", flag, c.PID, err, clip(out))
	}
	return nil
}

// Zero sets the counters to zero.
func (c *Callgrind) Zero(ctx context.Context) error { return c.control(ctx, "--zero") }

// Dump writes the counters since the last zero or dump and returns them.
func (c *Callgrind) Dump(ctx context.Context) (CacheSim, error) {
	if err := c.control(ctx, "--dump"); err != nil {
		return CacheSim{}, err
	}
	c.dumps++
	file := c.Out + "." + strconv.Itoa(c.dumps)
	// callgrind_control returns once the command is taken; wait for the
	// file's totals line.
	for {
		b, err := os.ReadFile(file)
		if err == nil {
			if sim, err := ParseCachegrind(b); err == nil {
				return sim, nil
			}
		}
		select {
		case <-ctx.Done():
			return CacheSim{}, fmt.Errorf("callgrind dump %s: %w (%v)", file, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
