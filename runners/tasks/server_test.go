package tasks

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/target"
)

func TestExpandCommand(t *testing.T) {
	vals := map[string]string{"port": "7432", "threads": "4", "addr": "127.0.0.1:7432"}
	for _, tc := range []struct {
		tmpl, want, errHas string
	}{
		{tmpl: "engram start --port {port} --threads {threads}", want: "engram start --port 7432 --threads 4"},
		{tmpl: "srv --listen {addr} {addr}", want: "srv --listen 127.0.0.1:7432 127.0.0.1:7432"},
		{tmpl: "literal {Braces} and {} stay", want: "literal {Braces} and {} stay"},
		{tmpl: "srv --nodes {nodes}", errHas: "no value for {nodes}"},
	} {
		got, err := ExpandCommand(tc.tmpl, vals)
		switch {
		case tc.errHas != "":
			if err == nil || !strings.Contains(err.Error(), tc.errHas) || !errors.Is(err, load.ErrConfig) {
				t.Errorf("ExpandCommand(%q) error = %v, want one containing %q", tc.tmpl, err, tc.errHas)
			}
		case err != nil || got != tc.want:
			t.Errorf("ExpandCommand(%q) = %q, %v; want %q", tc.tmpl, got, err, tc.want)
		}
	}
}

// TestServerCommand starts a real server process from a command line with
// placeholders, pinned to CPU 0, and stops it.
func TestServerCommand(t *testing.T) {
	env := Env{Seed: 1, Dir: t.TempDir(), TargetCommand: childCommand(t, target.Options{})}
	ctx := context.Background()
	srv, err := StartServer(ctx, env, ServerParams{CPUs: []int{0}})
	if err != nil {
		t.Fatal(err)
	}
	if srv.Kind != "command" || srv.PID <= 0 || srv.PID == os.Getpid() || !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("server = %+v, want a command-started process on loopback", srv)
	}
	if strings.Contains(srv.Command, "{addr}") {
		t.Errorf("command %q still holds a placeholder", srv.Command)
	}
	status, err := os.ReadFile("/proc/" + strconv.Itoa(srv.PID) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(status), "Cpus_allowed_list:\t0\n") {
		t.Errorf("the started target is not pinned to CPU 0:\n%s", status)
	}
	sc, err := taskScenario("tasks/005_breaking_point")
	if err != nil {
		t.Fatal(err)
	}
	r, err := newRig(ctx, env, srv, sc, 50, 64)
	if err != nil {
		t.Fatal(err)
	}
	if r.preload == nil || r.preload.Errors != 0 || r.preload.Nodes != 50 {
		t.Errorf("preload into the command's target = %+v, want 50 nodes without errors", r.preload)
	}
	pid := srv.PID
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	// The process is gone (reaped): signal 0 fails.
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("target process %d still runs after Close", pid)
	}
}

func TestServerCommandFailsFast(t *testing.T) {
	env := Env{TargetCommand: "echo no such server >&2; exit 3 # {port}"}
	start := time.Now()
	_, err := StartServer(context.Background(), env, ServerParams{})
	if err == nil || !errors.Is(err, load.ErrUnreachable) || !strings.Contains(err.Error(), "no such server") {
		t.Fatalf("err = %v, want unreachable naming the command's stderr", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("a command that exits took %v to be reported; want it noticed at once", time.Since(start))
	}
	if _, err := StartServer(context.Background(), Env{TargetCommand: "srv --threads 2"}, ServerParams{}); err == nil || !strings.Contains(err.Error(), "{port}") {
		t.Errorf("a command without {port} or --endpoint: err = %v, want one naming {port}", err)
	}
}

// TestTargetEnded: a command target that ends on its own while a
// catalogue task runs makes the task's error say so — how it ended and the
// two ends of its stderr — with the task's outcome kept, whether the task
// closes the target long after the crash or right after a request failed
// on it (before the process is reaped); a target stopped by the task, or a
// built-in one, adds nothing.
func TestTargetEnded(t *testing.T) {
	tests := []struct {
		name    string
		command bool
		crash   bool
		request bool // a request right after the crash, Close at once
		ended   bool
	}{
		{name: "crashed, closed later", command: true, crash: true, ended: true},
		{name: "crashed, a request failed, closed at once", command: true, crash: true, request: true, ended: true},
		{name: "stopped by the task", command: true},
		{name: "built-in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := Env{Seed: 1, Dir: t.TempDir()}
			if tt.command {
				env.TargetCommand = childCommand(t, target.Options{})
			}
			task := budgeted(func(ctx context.Context, env Env, _ struct{}) (*Outcome, error) {
				srv, err := StartServer(ctx, env, ServerParams{})
				if err != nil {
					return nil, err
				}
				defer srv.Close()
				if !tt.crash {
					return &Outcome{Skipped: []string{"measured"}}, nil
				}
				// A Go program sent SIGSEGV prints the signal and its
				// goroutines and exits with status 2.
				if err := syscall.Kill(srv.PID, syscall.SIGSEGV); err != nil {
					t.Fatal(err)
				}
				if !tt.request {
					<-srv.done
					return &Outcome{Skipped: []string{"measured"}}, nil
				}
				c := newHWClient(srv.URL, hwData(1, 10))
				defer c.close()
				return &Outcome{Skipped: []string{"measured"}}, c.store(ctx, "m18-ended", 0, 100)
			}, func(Budget) struct{} { return struct{}{} })
			o, err := task(context.Background(), env)
			if o == nil || len(o.Skipped) != 1 {
				t.Errorf("outcome %+v not kept", o)
			}
			if got := errors.Is(err, ErrTargetEnded); got != tt.ended {
				t.Fatalf("error %v: ended %v, want %v", err, got, tt.ended)
			}
			// The runtime's first line names the signal; the dump follows.
			if tt.ended && (!strings.Contains(err.Error(), "(exit status 2); its stderr: SIGSEGV") || !strings.Contains(err.Error(), "goroutine") ||
				strings.Count(err.Error(), "its stderr: ") != 1) {
				t.Errorf("error %v: want the exit status and the target's stderr from its first line, once", err)
			}
			if tt.request && !strings.Contains(err.Error(), "store m18-node-") {
				t.Errorf("error %v: want the failed request's error too", err)
			}
		})
	}
}
