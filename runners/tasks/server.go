package tasks

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/engram/m18-gate/internal/tailbuf"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/target"
)

// Server is the target a task measures: the built-in reference target
// started in this process, an external one named by Env.Endpoint, or a
// process started from Env.TargetCommand.
type Server struct {
	URL string
	// PID is the process whose resources are sampled; 0 = none.
	PID int
	// Kind is "builtin", "external" or "command", as result.Run.Target
	// records it.
	Kind string
	// Command is the expanded command line of a started target.
	Command string
	// CPUs is the CPU affinity the started target was given (nil = none).
	CPUs []int

	inst *target.Instance
	cmd  *exec.Cmd
	done chan struct{}
	errs *tailbuf.Buffer
	// ended, once the command answered, hears from Close that it had
	// ended on its own (nil: nobody listens).
	ended *endedTargets
}

// ErrTargetEnded says a command target ended on its own — crashed or
// exited — while a task was running it.
var ErrTargetEnded = errors.New("the target command ended before it was stopped")

// endedTargets collects, for one task run, how its command targets ended
// on their own.
type endedTargets struct {
	mu   sync.Mutex
	errs []error
}

func (e *endedTargets) add(err error) {
	if e == nil || err == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errs = append(e.errs, err)
}

// err is every end collected, joined; nil for none.
func (e *endedTargets) err() error {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return errors.Join(e.errs...)
}

// ServerParams are a step's parameters: the placeholders of the target
// command ({threads}, {nodes}, {seed}, …) and how the target is limited.
type ServerParams struct {
	// Values fill the command's {name} placeholders; {port} and {addr} are
	// filled with a free loopback port unless given.
	Values map[string]string
	// CPUs, when set, pins a started target (command) to these CPUs: the
	// process is forked from a thread with this affinity, so it and every
	// thread it starts inherit it.
	CPUs []int
	// Options are the built-in target's options (the default:
	// Env.TargetOptions).
	Options *target.Options
	// StartTimeout is how long a started target has to answer (zero:
	// DefaultStartTimeout); a target under valgrind starts tens of times
	// slower.
	StartTimeout time.Duration
}

// DefaultStartTimeout is how long a started target has to answer
// /health/alive.
const DefaultStartTimeout = 30 * time.Second

var placeholder = regexp.MustCompile(`\{([a-z_]+)\}`)

// ExpandCommand fills the {name} placeholders of a target command from
// values; a placeholder without a value is an error naming it.
func ExpandCommand(tmpl string, values map[string]string) (string, error) {
	var missing []string
	out := placeholder.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[1 : len(m)-1]
		v, ok := values[name]
		if !ok {
			missing = append(missing, m)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		keys := make([]string, 0, len(values))
		for k := range values {
			keys = append(keys, "{"+k+"}")
		}
		slices.Sort(keys)
		return "", fmt.Errorf("%w: --target-command %q: no value for %s at this step (known here: %s)",
			load.ErrConfig, tmpl, strings.Join(missing, ", "), strings.Join(keys, " "))
	}
	return out, nil
}

// StartServer starts (or names) the target of env: the built-in reference
// target with p.Options (default env.TargetOptions), env.TargetCommand
// expanded with p (through sh -c, in a process group of its own, ready once
// it answers /health/alive), or env.Endpoint as it is. Close or Stop it.
func StartServer(ctx context.Context, env Env, p ServerParams) (*Server, error) {
	switch {
	case env.TargetCommand != "":
		return startCommand(ctx, env, p)
	case env.Endpoint != "":
		return &Server{URL: env.Endpoint, PID: env.TargetPID, Kind: "external"}, nil
	}
	o := env.TargetOptions
	if p.Options != nil {
		o = *p.Options
	}
	if o.Seed == 0 {
		o.Seed = env.Seed
	}
	inst, err := target.Start(o)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", load.ErrConfig, err)
	}
	pid := env.TargetPID
	if pid == 0 {
		pid = os.Getpid()
	}
	return &Server{URL: inst.URL(), PID: pid, Kind: "builtin", inst: inst}, nil
}

// startCommand runs env.TargetCommand through sh -c with its placeholders
// filled, and waits until it answers /health/alive.
func startCommand(ctx context.Context, env Env, p ServerParams) (*Server, error) {
	values := map[string]string{"seed": strconv.FormatUint(env.Seed, 10)}
	for k, v := range p.Values {
		values[k] = v
	}
	if _, ok := values["port"]; !ok {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		values["port"] = strconv.Itoa(port)
	}
	if _, ok := values["addr"]; !ok {
		values["addr"] = "127.0.0.1:" + values["port"]
	}
	if _, ok := values["dir"]; !ok {
		d, err := outputDir(env)
		if err != nil {
			return nil, err
		}
		values["dir"] = d
	}
	line, err := ExpandCommand(env.TargetCommand, values)
	if err != nil {
		return nil, err
	}
	url := env.Endpoint
	if url == "" {
		if !strings.Contains(env.TargetCommand, "{port}") && !strings.Contains(env.TargetCommand, "{addr}") {
			return nil, fmt.Errorf("%w: --target-command %q has neither {port} nor {addr}: put one where the server takes its listen port, or give --endpoint with the URL it listens on", load.ErrConfig, env.TargetCommand)
		}
		url = "http://" + values["addr"]
	}
	s := &Server{URL: url, Kind: "command", Command: line, CPUs: p.CPUs, done: make(chan struct{}), errs: tailbuf.New(4096)}
	cmd := exec.Command("sh", "-c", line)
	cmd.Stdout = io.Discard
	cmd.Stderr = s.errs
	// Its own process group, so that Close stops what sh started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := startPinned(cmd, p.CPUs); err != nil {
		return nil, fmt.Errorf("%w: --target-command %q: %v", load.ErrConfig, line, err)
	}
	s.cmd, s.PID = cmd, cmd.Process.Pid
	if env.TargetPID != 0 {
		s.PID = env.TargetPID
	}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.waitAlive(ctx, cmp.Or(p.StartTimeout, DefaultStartTimeout)); err != nil {
		s.Close()
		return nil, err
	}
	s.ended = env.ended
	return s, nil
}

// startPinned starts cmd; with cpus, from a thread pinned to them, so that
// the child and all its threads inherit the affinity from the fork.
func startPinned(cmd *exec.Cmd, cpus []int) error {
	if len(cpus) == 0 {
		return cmd.Start()
	}
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	errc := make(chan error, 1)
	go func() {
		// A fresh goroutine on a fresh locked thread: it ends locked, so the
		// runtime discards the thread and its mask with it.
		runtime.LockOSThread()
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			errc <- fmt.Errorf("sched_setaffinity %v: %w", cpus, err)
			return
		}
		errc <- cmd.Start()
	}()
	return <-errc
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitAlive polls /health/alive until it answers 2xx, the process exits,
// or timeout passes.
func (s *Server) waitAlive(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	if _, err := url.Parse(s.URL); err != nil {
		return fmt.Errorf("%w: %v", load.ErrConfig, err)
	}
	c := &http.Client{Timeout: time.Second}
	for {
		if s.alive(ctx, c) {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("%w: the target command %q exited before answering %s/health/alive; its stderr: %s", load.ErrUnreachable, s.Command, s.URL, s.stderr())
		case <-ctx.Done():
			return fmt.Errorf("%w while waiting for the target command to start", load.ErrInterrupted)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: the target command %q did not answer %s/health/alive within %v; its stderr: %s", load.ErrUnreachable, s.Command, s.URL, timeout, s.stderr())
		}
	}
}

// Close stops a target started here (a built-in one, whose memory is
// returned to the OS so that the next RSS reading does not count it; or a
// command, sent SIGTERM and after 10 s SIGKILL) and does nothing for an
// external one. A command that had ended on its own is recorded for the
// task's error (ErrTargetEnded).
func (s *Server) Close() error {
	ended, err := s.stop()
	s.ended.add(ended)
	return err
}

// Stop is Close for a caller outside a task: a command that had ended on
// its own before Stop is its error, ErrTargetEnded with how it ended
// (joined to a failure to stop it, if any).
func (s *Server) Stop() error {
	ended, err := s.stop()
	return errors.Join(ended, err)
}

// stop stops the target as Close says and returns, apart, how a command
// that had ended on its own ended (ErrTargetEnded; nil otherwise).
func (s *Server) stop() (ended, err error) {
	if s.inst != nil {
		err = s.inst.Close()
		s.inst = nil
		releaseMemory()
	}
	if s.cmd != nil {
		own := s.endedOnItsOwn()
		pg := -s.cmd.Process.Pid
		_ = syscall.Kill(pg, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(pg, syscall.SIGKILL)
			<-s.done
			err = errors.New("the target command did not stop within 10 s of SIGTERM; killed")
		}
		if own {
			ended = fmt.Errorf("%w: %s", ErrTargetEnded, s.ending())
		}
		s.cmd = nil
	}
	return ended, err
}

// alive reports whether the target answers GET /health/alive with 2xx.
func (s *Server) alive(ctx context.Context, c *http.Client) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(s.URL, "/")+"/health/alive", nil)
	if err != nil {
		return false
	}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode/100 == 2
}

// endedOnItsOwn reports whether the command had ended before Close stops
// it. A target that crashed a moment ago may still be exiting — its
// sockets close, failing the task's requests, before the process can be
// waited for — so one that does not answer its health check is given a
// second to finish.
func (s *Server) endedOnItsOwn() bool {
	select {
	case <-s.done:
		return true
	default:
	}
	if s.alive(context.Background(), &http.Client{Timeout: time.Second}) {
		return false
	}
	select {
	case <-s.done:
		return true
	case <-time.After(time.Second):
		return false
	}
}

// ending says how the command, which has exited, ended: its command line,
// exit status and what its stderr began and ended with.
func (s *Server) ending() string {
	return fmt.Sprintf("%q (%v); its stderr: %s", s.Command, s.cmd.ProcessState, s.stderr())
}

// stderr is what the command's stderr began and ended with, or
// "(nothing)".
func (s *Server) stderr() string { return cmp.Or(s.errs.String(), "(nothing)") }

// releaseMemory runs the garbage collector and returns freed memory to the
// OS, so that RSS shows live memory rather than garbage awaiting collection.
func releaseMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}
