// Command m18-target runs the reference target: an HTTP server speaking the
// Engram API subset the workloads use, with knobs that change its
// performance on purpose. See package runners/target.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/engram/m18-gate/internal/cli"
	"github.com/engram/m18-gate/internal/version"
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
/api/v1/memories/{id}, POST /api/v1/complete, POST+GET /api/v1/spaces and
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
  m18-target --capacity 800 --fail-rate 0.01 --leak 5
  m18-target --work 5ms --workers 4 --shared-workers --serial 0.5
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("m18-target", stderr)
	var o target.Options
	addr := fs.String("addr", "127.0.0.1:7432", "listen address host:port (loopback only unless --allow-remote)")
	allowRemote := fs.Bool("allow-remote", false, "allow a non-loopback --addr")
	fs.Float64Var(&o.Slowdown, "slowdown", 0, "add CPU work equal to `PCT` percent of each API request's handling time (50 = ~1.5x slower)")
	fs.DurationVar(&o.StallEvery, "stall-every", 0, "pause the whole server every `DUR` (with --stall-for)")
	fs.DurationVar(&o.StallFor, "stall-for", 0, "length `DUR` of each pause (shorter than --stall-every)")
	fs.Float64Var(&o.FailRate, "fail-rate", 0, "answer fraction `F` in [0,1] of API requests with 500, chosen by --seed")
	fs.Float64Var(&o.Capacity, "capacity", 0, "admit at most `OPS` API requests per second; the rest queue (0 = unlimited)")
	fs.Float64Var(&o.LeakMBPerMin, "leak", 0, "retain `MB_PER_MIN` MiB of memory per minute on purpose")
	fs.Uint64Var(&o.Seed, "seed", 0, "seed `N` for injected failures and generated memory ids")
	// Concurrency knobs (tasks 007–009).
	fs.DurationVar(&o.Work, "work", 0, "every API request waits `DUR` on its worker (simulated I/O: no CPU, scales past the cores)")
	fs.IntVar(&o.Workers, "workers", 0, "at most `N` API requests handled at once per memory space (0 = unlimited)")
	fs.BoolVar(&o.SharedWorkers, "shared-workers", false, "one pool of --workers for all memory spaces (a busy space delays the others)")
	fs.Float64Var(&o.Serial, "serial", 0, "do fraction `F` in [0,1] of --work under one global lock (serialises requests)")
	fs.BoolVar(&o.KeyLock, "key-lock", false, "requests of one memory space do their --work one at a time (a popular space is a hot spot)")
	// End of the concurrency knobs.
	verbose := fs.Bool("v", false, "log start and shutdown to stderr")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = cli.Usage(fs, usage, usageTail)
	if code, done := cli.Parse(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "m18-target: unexpected argument %q; it takes flags only (see --help)\n", fs.Arg(0))
		return exitUsage
	}
	if *showVersion {
		fmt.Fprintln(stdout, "m18-target", version.String())
		return exitOK
	}
	if err := o.Validate(); err != nil {
		fmt.Fprintln(stderr, "m18-target:", err)
		return exitUsage
	}
	if !*allowRemote {
		if err := target.CheckLoopback(*addr); err != nil {
			fmt.Fprintln(stderr, "m18-target:", err)
			return exitUsage
		}
	}
	if *verbose {
		o.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "m18-target: cannot listen on %s: %v\n", *addr, err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stdout, "http://%s\n", ln.Addr())
	if err := target.Serve(ctx, ln, o); err != nil {
		fmt.Fprintln(stderr, "m18-target:", err)
		return exitError
	}
	return exitOK
}
