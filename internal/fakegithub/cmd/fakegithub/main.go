// Command fakegithub serves internal/fakegithub, the stand-in for GitHub's
// REST API, as a process, so an end-to-end test of the action can point
// GITHUB_API_URL at it. It prints its base URL on the first line of stdout
// and serves until interrupted. GET /_fake/state returns every comment and
// check run (with annotations) as JSON.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/engram/m18-gate/internal/fakegithub"
)

type tokens []string

func (t *tokens) String() string     { return strings.Join(*t, ",") }
func (t *tokens) Set(s string) error { *t = append(*t, s); return nil }

func main() {
	fs := flag.NewFlagSet("fakegithub", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen `address` (loopback; port 0 picks a free one)")
	prefix := fs.String("prefix", "", "serve the API under this path `prefix`, e.g. /api/v3 as GitHub Enterprise Server does")
	limit := fs.Int("rate-limit", 5000, "primary rate limit: requests per token per `n` hour")
	var toks, pulls tokens
	fs.Var(&pulls, "pull", "add a pull request: `OWNER/REPO#N=HEADOWNER:BRANCH@SHA` (repeatable); HEADOWNER other than\n"+
		"OWNER makes it a pull request from a fork")
	fs.Var(&toks, "token", "accept a token: `SECRET=LOGIN:PERM` or LOGIN:PERM (repeatable); PERM is read, write or\n"+
		"checks=write,pull-requests=read; a LOGIN ending in [bot] is an installation token like GITHUB_TOKEN")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `fakegithub: a local stand-in for GitHub's REST API (check runs, issue comments, pull requests, GET /user).

Usage:
  fakegithub [--addr 127.0.0.1:0] [--prefix /api/v3] --token SECRET=LOGIN:PERM ... [--pull O/R#N=FORK:BRANCH@SHA ...]

Flags:
`)
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), `
Output: the base URL on the first line of stdout; GET <base without prefix>/_fake/state dumps the state.

Exit codes: 0 after SIGINT/SIGTERM, 2 usage error, 1 cannot listen.

Example:
  fakegithub --token ghs_x=github-actions[bot]:write --token ro=github-actions[bot]:read
`)
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	opts := []fakegithub.Option{
		fakegithub.WithPathPrefix(*prefix),
		fakegithub.WithRateLimit(fakegithub.RateLimit{Limit: *limit, Window: time.Hour}),
	}
	for _, spec := range toks {
		secret, id, err := fakegithub.ParseToken(spec)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fakegithub:", err)
			os.Exit(2)
		}
		opts = append(opts, fakegithub.WithToken(secret, id))
	}
	var specs []fakegithub.PullSpec
	for _, spec := range pulls {
		p, err := fakegithub.ParsePull(spec)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fakegithub:", err)
			os.Exit(2)
		}
		specs = append(specs, p)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakegithub:", err)
		os.Exit(1)
	}
	s := fakegithub.NewHandler(opts...)
	s.URL = "http://" + ln.Addr().String() + strings.TrimSuffix(*prefix, "/")
	for _, p := range specs {
		s.AddPullRequest(p)
	}
	fmt.Println(s.URL)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "fakegithub:", err)
		os.Exit(1)
	}
}
