package load

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/engram/m18-gate/internal/testenv"
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
	testenv.Tools(t, "valgrind", "callgrind_control", "bash")
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

// TestStartCallgrindInTree finds the process under callgrind below the pid
// it is given: a target started through a shell, as the action's
// target-command is (the shell forks valgrind: it has more to run after).
func TestStartCallgrindInTree(t *testing.T) {
	testenv.Tools(t, "valgrind", "callgrind_control", "bash")
	dir := t.TempDir()
	cmd := exec.Command("bash", "-c", `valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$1/cg.%p" bash -c 'while :; do :; done'; echo done`, "sh", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		exec.Command("pkill", "-KILL", "-P", strconv.Itoa(cmd.Process.Pid)).Run()
		cmd.Process.Kill()
		cmd.Wait()
	}()
	var (
		cg  *callgrind
		err error
	)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if cg, err = startCallgrind(cmd.Process.Pid); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("startCallgrind(%d) found no callgrind run in the tree: %v", cmd.Process.Pid, err)
	}
	if cg.pid == cmd.Process.Pid {
		t.Fatalf("startCallgrind picked the shell (%d), not valgrind below it", cg.pid)
	}
	time.Sleep(300 * time.Millisecond)
	if n, err := cg.stop(); err != nil || n < 1e5 {
		t.Errorf("stop = %v, %v; want > 100 000 instructions of a busy loop", n, err)
	}
	plain := exec.Command("sleep", "30")
	if err := plain.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { plain.Process.Kill(); plain.Wait() }()
	if _, err := startCallgrind(plain.Process.Pid); err == nil {
		t.Error("a tree with no callgrind run: want an error")
	}
}
