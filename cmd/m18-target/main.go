// Command m18-target runs the reference target: an HTTP server speaking the
// Engram API subset the workloads use, with knobs that change its
// performance on purpose. See package runners/target; its command line is
// package internal/targetcmd.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/engram/m18-gate/internal/cli"
	"github.com/engram/m18-gate/internal/targetcmd"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cli.Finish("m18-target", targetcmd.Serve(ctx, "m18-target", args, stdout, stderr), stderr, targetcmd.ExitCode)
}
