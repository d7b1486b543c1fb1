package load

import (
	"strings"
	"time"

	"github.com/engram/m18-gate/runners/procstat"
	"github.com/engram/m18-gate/runners/result"
)

// costMeter measures the target process's CPU time (and, with callgrind,
// its instructions) over one phase.
type costMeter struct {
	pid    int
	before time.Duration
	err    error
	cg     *callgrind
	cgErr  error
}

// startCost reads the target's CPU time at the start of a phase and, with
// instructions "callgrind", starts counting its instructions; pid 0
// measures nothing.
func startCost(pid int, instructions string) *costMeter {
	if pid == 0 {
		return nil
	}
	m := &costMeter{pid: pid}
	if instructions == InstructionsCallgrind {
		m.cg, m.cgErr = startCallgrind(pid)
	}
	m.before, m.err = procstat.TreeCPU(pid)
	return m
}

// phaseCost is what stop measured: the CPU time, or why there is none.
type phaseCost struct {
	pid   int
	cpu   time.Duration
	note  string
	instr float64 // 0: not counted
	cgErr error
	cg    bool
}

func (m *costMeter) stop() *phaseCost {
	if m == nil {
		return nil
	}
	c := &phaseCost{pid: m.pid, cg: m.cg != nil, cgErr: m.cgErr}
	after, err := procstat.TreeCPU(m.pid)
	switch {
	case m.err != nil:
		c.note = "CPU time not measured: " + m.err.Error()
	case err != nil:
		c.note = "CPU time not measured: " + err.Error()
	default:
		c.cpu = after - m.before
	}
	if m.cg != nil && m.cgErr == nil {
		c.instr, c.cgErr = m.cg.stop()
	}
	return c
}

// perRequest is the cost of the phase per completed request, nil when
// nothing was measured or nothing completed.
func (c *phaseCost) perRequest(requests uint64) *result.TargetCost {
	if c == nil {
		return nil
	}
	t := &result.TargetCost{PID: c.pid, Source: "procfs", Requests: requests, Note: c.note}
	if c.note == "" && requests > 0 {
		t.CPUSeconds = c.cpu.Seconds()
		t.CPUPerOpMs = 1000 * t.CPUSeconds / float64(requests)
	}
	var notes []string
	if t.Note != "" {
		notes = append(notes, t.Note)
	}
	switch {
	case !c.cg:
		notes = append(notes, "instructions per request not measured: no instruction counter asked for (m18-run --instructions callgrind)")
	case c.cgErr != nil:
		notes = append(notes, "instructions per request not measured: "+c.cgErr.Error())
	case requests > 0:
		t.Source += " + callgrind"
		t.InstructionsPerOp = c.instr / float64(requests)
	}
	t.Note = strings.Join(notes, "; ")
	return t
}
