// Command m18-target runs the reference target: an HTTP server speaking the
// Engram API subset the workloads use, with knobs that change its
// performance on purpose. See package runners/target.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/engram/m18-gate/internal/cli"
	"github.com/engram/m18-gate/runners/target"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1             // the server failed while running
	exitUsage = cli.ExitUsage // bad flags, non-loopback address, cannot listen
)

const usage = `m18-target runs the Engram-compatible reference target.

Usage:
  m18-target [flags]

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
  m18-target --addr 127.0.0.1:7432
  m18-target --slowdown 50 --stall-every 10s --stall-for 500ms --seed 42
  m18-target --slowdown 10        # every request costs the process 10 % more CPU
  m18-target --capacity 800 --fail-rate 0.01 --leak 5
  m18-target --work 5ms --workers 4 --shared-workers --serial 0.5
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	return cli.Finish("m18-target", serve(args, stdout, stderr), stderr, exitCode)
}

// errFailed marks a failure of the running server, as opposed to bad
// flags or an address it cannot listen on.
var errFailed = errors.New("server failed")

// exitCode maps the error of serve to the exit code.
func exitCode(err error) int {
	if errors.Is(err, errFailed) {
		return exitError
	}
	return exitUsage
}

func serve(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("m18-target", stderr)
	var o target.Options
	addr := fs.String("addr", "127.0.0.1:7432", "listen address host:port (loopback only unless --allow-remote)")
	allowRemote := fs.Bool("allow-remote", false, "allow a non-loopback --addr")
	target.KnobFlags(fs, "", &o)
	fs.Uint64Var(&o.Seed, "seed", 0, "seed `N` for injected failures and generated memory ids")
	verbose := fs.Bool("v", false, "log start and shutdown to stderr")
	showVersion := cli.VersionFlag(fs)
	fs.Usage = cli.Usage(fs, usage, usageTail)
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stdout, "http://%s\n", ln.Addr())
	if err := target.Serve(ctx, ln, o); err != nil {
		return fmt.Errorf("%w: %w", errFailed, err)
	}
	return nil
}
