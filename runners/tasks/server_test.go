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
	srv, err := startServer(ctx, env, ServerParams{CPUs: []int{0}})
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
	_, err := startServer(context.Background(), env, ServerParams{})
	if err == nil || !errors.Is(err, load.ErrUnreachable) || !strings.Contains(err.Error(), "no such server") {
		t.Fatalf("err = %v, want unreachable naming the command's stderr", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("a command that exits took %v to be reported; want it noticed at once", time.Since(start))
	}
	if _, err := startServer(context.Background(), Env{TargetCommand: "srv --threads 2"}, ServerParams{}); err == nil || !strings.Contains(err.Error(), "{port}") {
		t.Errorf("a command without {port} or --endpoint: err = %v, want one naming {port}", err)
	}
}

// TestServerExplain: a request's failure is explained by the target's end
// when the target crashed (its status and stderr), and left as it is while
// the target runs.
func TestServerExplain(t *testing.T) {
	env := Env{Seed: 1, Dir: t.TempDir(), TargetCommand: childCommand(t, target.Options{})}
	srv, err := startServer(context.Background(), env, ServerParams{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	failed := errors.New("store m18-node-1: connection reset by peer")
	if got := srv.explain(failed); got != failed {
		t.Errorf("explain on a running target = %v, want the error as it is", got)
	}
	if got := srv.explain(nil); got != nil {
		t.Errorf("explain(nil) = %v, want nil", got)
	}
	// A Go program sent SIGSEGV prints the signal and its goroutines and
	// exits with status 2: a crash.
	if err := syscall.Kill(srv.PID, syscall.SIGSEGV); err != nil {
		t.Fatal(err)
	}
	got := srv.explain(failed)
	if !errors.Is(got, failed) || !strings.Contains(got.Error(), "had exited: ") || !strings.Contains(got.Error(), "(exit status 2); its stderr: ") || !strings.Contains(got.Error(), "goroutine") {
		t.Errorf("explain after a crash = %v, want the failure, the exit status and the end of the target's stderr", got)
	}
	// The hardware tasks' client says so of its own failed requests.
	c := newHWClient(srv, hwData(1, 10))
	defer c.close()
	if err := c.store(context.Background(), "m18-explain", 0, 1); err == nil || !strings.Contains(err.Error(), "(exit status 2); its stderr: ") {
		t.Errorf("a store to the crashed target: err = %v, want one naming how the target ended", err)
	}
	if got := (&Server{Kind: "external"}).explain(failed); got != failed {
		t.Errorf("explain on an external target = %v, want the error as it is", got)
	}
}

// TestTargetEnded: a command target that ends on its own while a
// catalogue task runs makes the task's error say so — how it ended and the
// two ends of its stderr — with the task's outcome kept; a target stopped by
// the task, a built-in one, or a crash a request's error already explained
// add nothing.
func TestTargetEnded(t *testing.T) {
	tests := []struct {
		name    string
		command bool
		crash   bool
		explain bool // a request's failure was explained by the crash
		ended   bool
	}{
		{name: "crashed", command: true, crash: true, ended: true},
		{name: "stopped by the task", command: true},
		{name: "crash already explained", command: true, crash: true, explain: true},
		{name: "built-in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := Env{Seed: 1, Dir: t.TempDir()}
			if tt.command {
				env.TargetCommand = childCommand(t, target.Options{})
			}
			task := budgeted(func(ctx context.Context, env Env, _ struct{}) (*Outcome, error) {
				srv, err := startServer(ctx, env, ServerParams{})
				if err != nil {
					return nil, err
				}
				defer srv.Close()
				var runErr error
				if tt.crash {
					// A Go program sent SIGSEGV prints its goroutines and
					// exits with status 2.
					if err := syscall.Kill(srv.PID, syscall.SIGSEGV); err != nil {
						t.Fatal(err)
					}
					<-srv.done
					if tt.explain {
						runErr = srv.explain(errors.New("store: connection refused"))
					}
				}
				return &Outcome{Skipped: []string{"measured"}}, runErr
			}, func(Budget) struct{} { return struct{}{} })
			o, err := task(context.Background(), env)
			if o == nil || len(o.Skipped) != 1 {
				t.Errorf("outcome %+v not kept", o)
			}
			if got := errors.Is(err, ErrTargetEnded); got != tt.ended {
				t.Fatalf("error %v: ended %v, want %v", err, got, tt.ended)
			}
			// The runtime's first line names the signal; the dump follows.
			if tt.ended && (!strings.Contains(err.Error(), "(exit status 2); its stderr: SIGSEGV") || !strings.Contains(err.Error(), "goroutine")) {
				t.Errorf("error %v: want the exit status and the target's stderr, from its first line", err)
			}
			if tt.explain && (err == nil || strings.Count(err.Error(), "its stderr: ") != 1) {
				t.Errorf("error %v: want the request's explained failure, once", err)
			}
		})
	}
}
