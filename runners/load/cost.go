package load

import (
	"time"

	"github.com/engram/m18-gate/runners/procstat"
	"github.com/engram/m18-gate/runners/result"
)

// costMeter measures the target process's CPU time over one phase.
type costMeter struct {
	pid    int
	before time.Duration
	err    error
}

// startCost reads the target's CPU time at the start of a phase; pid 0
// measures nothing.
func startCost(pid int) *costMeter {
	if pid == 0 {
		return nil
	}
	m := &costMeter{pid: pid}
	m.before, m.err = procstat.TreeCPU(pid)
	return m
}

// phaseCost is what stop measured: the CPU time, or why there is none.
type phaseCost struct {
	pid  int
	cpu  time.Duration
	note string
}

func (m *costMeter) stop() *phaseCost {
	if m == nil {
		return nil
	}
	if m.err != nil {
		return &phaseCost{pid: m.pid, note: "CPU time not measured: " + m.err.Error()}
	}
	after, err := procstat.TreeCPU(m.pid)
	if err != nil {
		return &phaseCost{pid: m.pid, note: "CPU time not measured: " + err.Error()}
	}
	return &phaseCost{pid: m.pid, cpu: after - m.before}
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
		t.Note = "instructions per request not measured: this run reads no hardware counters"
	}
	return t
}
