package load

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestCallgrindTotal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "callgrind.out.1.1")
	os.WriteFile(path, []byte("version: 1\nevents: Ir\nsummary: 999\nfn=main\n1 5\ntotals: 124792729\n"), 0o644)
	if n, err := callgrindTotal(path); err != nil || n != 124792729 {
		t.Fatalf("callgrindTotal = %v, %v; want 124792729", n, err)
	}
	os.WriteFile(path, []byte("events: Ir\n"), 0o644)
	if _, err := callgrindTotal(path); err == nil {
		t.Fatal("a dump without totals: want an error")
	}
}

// TestCallgrindPhase counts a real busy process's instructions between
// start and stop: a shell loop under callgrind, instrumentation off until
// the phase starts.
func TestCallgrindPhase(t *testing.T) {
	for _, tool := range []string{"valgrind", "callgrind_control", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (Debian: apt-get install valgrind)", tool)
		}
	}
	dir := t.TempDir()
	cmd := exec.Command("valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file="+filepath.Join(dir, "cg.%p"),
		"bash", "-c", "while :; do :; done")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	cg := callgrind{pid: cmd.Process.Pid}
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err = cg.start(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("callgrind_control never answered: %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	n, err := cg.stop()
	if err != nil {
		t.Fatal(err)
	}
	if n < 1e5 {
		t.Errorf("counted %v instructions of a busy loop in 0.5 s, want > 100 000", n)
	}
	if c := (callgrind{pid: os.Getpid()}); c.start() == nil {
		t.Error("start on a process not under callgrind: want an error")
	}
}
