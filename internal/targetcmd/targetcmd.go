// Package targetcmd is the reference target's command line: the flags,
// usage and exit codes of m18-target, which m18-run also serves as
// `m18-run target` (m18-run ab starts one for each side of a pair, so that
// a side's CPU time per request is its target's alone). The server itself
// is package runners/target.
package targetcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"

	"github.com/engram/m18-gate/internal/cli"
	"github.com/engram/m18-gate/runners/target"
)

// ErrFailed marks a failure of the running server, as opposed to bad
// flags or an address it cannot listen on.
var ErrFailed = errors.New("server failed")

// ExitCode maps the error of Serve to the exit code: 1 for a server that
// failed while running, 3 (cli.ExitUsage) for anything else.
func ExitCode(err error) int {
	if errors.Is(err, ErrFailed) {
		return cli.ExitFail
	}
	return cli.ExitUsage
}

const usage = `NAME runs the Engram-compatible reference target.

Usage:
  NAME [flags]

It serves GET /health, /health/alive, POST /api/v1/memories/remember,
POST /api/v1/memories, GET /api/v1/memories/recall, /api/v1/memories/search,
/api/v1/memories/{id}, /api/v1/memories?id=…&id=… (many by id), POST /api/v1/complete, POST+GET /api/v1/spaces and
GET /metrics/prometheus, prints its URL on stdout, and shuts down gracefully
on SIGINT or SIGTERM. Every knob is off by default.

Flags:
`

const usageTail = `
Exit codes:
  0  stopped by a signal after a clean shutdown
  1  the server failed while running
  3  bad flags, a non-loopback address without --allow-remote, or cannot listen

Examples:
  NAME --addr 127.0.0.1:7432
  NAME --slowdown 50 --stall-every 10s --stall-for 500ms --seed 42
  NAME --slowdown 10        # every request costs the process 10 % more CPU
  NAME --capacity 800 --fail-rate 0.01 --leak 5
  NAME --work 5ms --workers 4 --shared-workers --serial 0.5
`

// Serve is the command name ("m18-target", "m18-run target") run with
// args: it listens, prints the target's URL on stdout and serves until ctx
// ends, then shuts down gracefully. Its error maps to the exit code by
// ExitCode.
func Serve(ctx context.Context, name string, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet(name, stderr)
	var o target.Options
	addr := fs.String("addr", "127.0.0.1:7432", "listen address host:port (loopback only unless --allow-remote; port 0: any free port)")
	allowRemote := fs.Bool("allow-remote", false, "allow a non-loopback --addr")
	target.KnobFlags(fs, "", &o)
	fs.Uint64Var(&o.Seed, "seed", 0, "seed `N` for injected failures and generated memory ids")
	verbose := fs.Bool("v", false, "log start and shutdown to stderr")
	showVersion := cli.VersionFlag(fs)
	fs.Usage = cli.Usage(fs, strings.ReplaceAll(usage, "NAME", name), strings.ReplaceAll(usageTail, "NAME", name))
	if err := cli.ParseFlagsOnly(fs, args, showVersion, stdout); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return err
	}
	if !*allowRemote {
		if err := target.CheckLoopback(*addr); err != nil {
			return err
		}
	}
	if *verbose {
		o.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", *addr, err)
	}
	fmt.Fprintf(stdout, "http://%s\n", ln.Addr())
	if err := target.Serve(ctx, ln, o); err != nil {
		return fmt.Errorf("%w: %w", ErrFailed, err)
	}
	return nil
}
