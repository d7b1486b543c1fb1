package tasks

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/engram/m18-gate/runners/target"
)

// childTargetEnv names the environment variable that turns this test
// binary into a reference target: its value is the target.Options as JSON.
const childTargetEnv = "M18_TASKS_TEST_CHILD_TARGET"

// childAddrEnv, with childTargetEnv, makes the child serve on this
// address until SIGTERM (the shape of a --target-command server).
const childAddrEnv = "M18_TASKS_TEST_CHILD_ADDR"

// childWorkersEnv, when set, overrides the child's Options.Workers (a
// --target-command's {threads}).
const childWorkersEnv = "M18_TASKS_TEST_CHILD_WORKERS"

func TestMain(m *testing.M) {
	if spec, ok := os.LookupEnv(childTargetEnv); ok {
		if addr, ok := os.LookupEnv(childAddrEnv); ok {
			os.Exit(serveChildTarget(spec, addr))
		}
		os.Exit(runChildTarget(spec))
	}
	os.Exit(m.Run())
}

// runChildTarget serves the reference target with the options in spec,
// prints its URL on stdout and serves until stdin closes (the parent test
// ended, or died).
func runChildTarget(spec string) int {
	var o target.Options
	if err := json.Unmarshal([]byte(spec), &o); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", childTargetEnv, err)
		return 2
	}
	inst, err := target.Start(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println(inst.URL())
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := inst.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// serveChildTarget serves the reference target with the options in spec
// on addr until SIGTERM.
func serveChildTarget(spec, addr string) int {
	var o target.Options
	if err := json.Unmarshal([]byte(spec), &o); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", childTargetEnv, err)
		return 2
	}
	if w, ok := os.LookupEnv(childWorkersEnv); ok {
		if _, err := fmt.Sscanf(w, "%d", &o.Workers); err != nil {
			fmt.Fprintf(os.Stderr, "%s=%q: %v\n", childWorkersEnv, w, err)
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := target.ListenAndServe(ctx, addr, o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// childCommand is a --target-command that serves the reference target
// with options o from this test binary on {addr}.
func childCommand(t *testing.T, o target.Options) string {
	t.Helper()
	spec, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s='%s' %s={addr} exec %s -test.run='^$'", childTargetEnv, spec, childAddrEnv, os.Args[0])
}

// startChildTarget starts the reference target with options o in a child
// process (this test binary, re-executed) and returns its URL and pid. A
// soak samples that process alone: no load generator, no garbage of other
// tests in its RSS. The child ends with the test.
func startChildTarget(t *testing.T, o target.Options) (url string, pid int) {
	t.Helper()
	o.Logger = nil
	spec, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childTargetEnv+"="+string(spec))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the child target: %v", err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		stdin.Close()
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("child target %d: %v", cmd.Process.Pid, err)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("child target %d did not stop within 15 s of its stdin closing; killed", cmd.Process.Pid)
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	select {
	case l, ok := <-lines:
		if !ok || !strings.HasPrefix(l, "http://127.0.0.1:") {
			t.Fatalf("child target printed %q, want its URL", l)
		}
		return l, cmd.Process.Pid
	case <-time.After(20 * time.Second):
		t.Fatal("child target printed no URL within 20 s")
	}
	return "", 0
}
