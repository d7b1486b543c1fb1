package history

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/engram/m18-gate/internal/sizecap"
	"github.com/engram/m18-gate/runners/result"
)

// Result is one document to store: its bytes exactly as they will be
// stored, and their decoded form.
type Result struct {
	// Name says where the document came from (a file name) in errors.
	Name string
	Data []byte
	Doc  *result.Document
}

// ParseResult validates a document for storage: it must decode as
// m18.result/v1 and name its scenario, hardware fingerprint hash, run id
// and start time, which its path is made of.
func ParseResult(name string, data []byte) (Result, error) {
	if len(data) > MaxResultBytes {
		return Result{}, fmt.Errorf("%w: %w", ErrBadInput, &sizecap.Error{What: "result", Path: name, Size: int64(len(data)), Limit: MaxResultBytes})
	}
	doc, err := result.Unmarshal(data)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %s: %v", ErrBadInput, name, err)
	}
	r := doc.Run
	var missing []string
	if r.Scenario == "" {
		missing = append(missing, "run.scenario")
	}
	if r.Hardware.Hash == "" {
		missing = append(missing, "run.hardware.hash (run m18-probe or m18-run on the runner)")
	}
	if r.RunID == "" {
		missing = append(missing, "run.run_id")
	}
	if r.Start.IsZero() {
		missing = append(missing, "run.start")
	}
	if len(missing) > 0 {
		return Result{}, fmt.Errorf("%w: %s: cannot store a result without %s", ErrBadInput, name, strings.Join(missing, ", "))
	}
	if !validCommit(r.Commit) {
		return Result{}, fmt.Errorf("%w: %s: run.commit %q is not a git commit (want 7-40 hex digits, or leave it empty)", ErrBadInput, name, r.Commit)
	}
	return Result{Name: name, Data: data, Doc: doc}, nil
}

// MaxResultBytes bounds a result file: m18-run's are tens of kilobytes, so a
// larger file is not a result, and reading it whole could exhaust memory.
const MaxResultBytes = 32 << 20

// ReadResult reads and validates a result file for storage; a file over
// MaxResultBytes is refused with an error naming its size and the limit.
func ReadResult(file string) (Result, error) {
	data, err := sizecap.ReadFile(file, MaxResultBytes, "result")
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	return ParseResult(file, data)
}

// Path returns where r is stored on the branch.
func (r Result) Path() string {
	run := r.Doc.Run
	return ResultPath(Key{Scenario: run.SeriesName(), Fingerprint: run.Hardware.Hash, Start: run.Start, Commit: run.Commit, RunID: run.RunID})
}

// Pushed reports one write to the results branch.
type Pushed struct {
	// Branch and Commit name the new tip; Parent the tip it was added to
	// (empty for the branch's first commit).
	Branch, Commit, Parent string
	// Message is the commit message.
	Message string
	// Added and Removed list the paths the commit wrote and deleted.
	Added, Removed []string
	// Unchanged is true when the branch already held everything (a retry
	// of a push that had in fact succeeded): no commit was made.
	Unchanged bool
	// Tries is how many push attempts it took (1 = no race lost).
	Tries   int
	Elapsed time.Duration
}

// change computes what to write on top of the tip snapshot: the edits and
// the commit message. No edits means nothing to do.
type change func(*Snapshot) (edits, string, error)

// Append stores results on the branch in one commit: it fetches the tip,
// adds one new file per result on top of it, commits and pushes; when
// another writer moved the tip first, it fetches again and retries with
// jittered exponential backoff, up to Tries times within RetryBound. A
// failed push leaves the remote as it was (git updates the branch only
// after it has received the whole commit). Storing a result again is a
// no-op; a different document at the same path is an error (run ids must
// be unique).
func (r Remote) Append(ctx context.Context, results ...Result) (*Pushed, error) {
	if len(results) == 0 {
		return nil, fmt.Errorf("%w: no results to store", ErrBadInput)
	}
	seen := map[string]string{}
	for _, res := range results {
		if res.Doc == nil {
			return nil, fmt.Errorf("%w: %s: not parsed (use ParseResult or ReadResult)", ErrBadInput, res.Name)
		}
		p := res.Path()
		if other, dup := seen[p]; dup {
			return nil, fmt.Errorf("%w: %s and %s are the same run (%s); give each run its own run_id", ErrBadInput, other, res.Name, p)
		}
		seen[p] = res.Name
	}
	p, _, err := r.update(ctx, func(s *Snapshot) (edits, string, error) {
		e := edits{}
		for _, res := range results {
			p := res.Path()
			h, err := writeBlob(s.s, res.Data)
			if err != nil {
				return nil, "", err
			}
			if old, ok := s.blobHash(p); ok {
				if old == h {
					continue
				}
				return nil, "", fmt.Errorf("%w: %s: a different document is already stored at %s on %s; run ids must be unique (re-run m18-run for a new run_id)", ErrBadInput, res.Name, p, s.Branch)
			}
			e[p] = &h
		}
		return e, appendMessage(results), nil
	})
	return p, err
}

// appendMessage says what a commit of results holds: scenario, commit and
// runner of each.
func appendMessage(results []Result) string {
	var b strings.Builder
	first := results[0].Doc.Run
	if len(results) == 1 {
		fmt.Fprintf(&b, "results: %s @ %s on %s\n\n", first.Scenario, shortCommit(first.Commit), runner(first))
	} else {
		fmt.Fprintf(&b, "results: %d runs (%s @ %s on %s, …)\n\n", len(results), first.Scenario, shortCommit(first.Commit), runner(first))
	}
	for _, res := range results {
		run := res.Doc.Run
		fmt.Fprintf(&b, "scenario: %s\ncommit: %s\nref: %s\nrunner: %s\nfingerprint: %s\nrun: %s\ntool: %s\n\n",
			run.Scenario, orNone(run.Commit), orNone(run.Ref), runner(run), run.Hardware.Hash, run.RunID, orNone(run.ToolVersion))
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func runner(run result.Run) string {
	if len(run.Labels) > 0 {
		return strings.Join(run.Labels, ",")
	}
	if run.Hardware.CPUModel != "" {
		return run.Hardware.CPUModel
	}
	return run.Hardware.Hash
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// update runs the fetch, change, commit, push loop with retries. It returns
// what was pushed and a Snapshot of the new tip.
func (r Remote) update(ctx context.Context, ch change) (*Pushed, *Snapshot, error) {
	start := time.Now()
	c, err := r.newClone()
	if err != nil {
		return nil, nil, err
	}
	tries := r.Tries
	if tries <= 0 {
		tries = DefaultTries
	}
	bound := r.RetryBound
	if bound <= 0 {
		bound = DefaultRetryBound
	}
	var lastErr error
	for try := 1; ; try++ {
		attempt := time.Now()
		tip, err := c.fetch(ctx)
		if err != nil {
			return nil, nil, err
		}
		snap, err := newSnapshot(c.repo.Storer, r.branch(), tip)
		if err != nil {
			return nil, nil, err
		}
		e, msg, err := ch(snap)
		if err != nil {
			return nil, nil, scrub(err, nil, c.secrets)
		}
		p := &Pushed{Branch: r.branch(), Message: msg, Tries: try}
		if !tip.IsZero() {
			p.Parent = tip.String()
		}
		for path, h := range e {
			if h == nil {
				p.Removed = append(p.Removed, path)
			} else {
				p.Added = append(p.Added, path)
			}
		}
		sort.Strings(p.Added)
		sort.Strings(p.Removed)
		if len(e) == 0 {
			p.Unchanged, p.Commit, p.Elapsed = true, p.Parent, time.Since(start)
			return p, snap, nil
		}
		commit, err := r.commit(c, snap, e, msg)
		if err != nil {
			return nil, nil, err
		}
		err = r.push(ctx, c, tip)
		if err == nil {
			p.Commit, p.Elapsed = commit.String(), time.Since(start)
			r.logf("%s: pushed %s on top of %s (try %d)", r.branch(), short(p.Commit), short(p.Parent), try)
			after, err := newSnapshot(c.repo.Storer, r.branch(), commit)
			return p, after, err
		}
		if ctx.Err() != nil {
			return nil, nil, scrub(fmt.Errorf("push to %s (branch %s) interrupted after %d tries: %v; the branch is either unchanged or holds the whole commit %s, never part of it", c.url, r.branch(), try, ctx.Err(), short(commit.String())), ErrUnreachable, c.secrets)
		}
		if transportFailure(err) {
			return nil, nil, c.unreachable("push to", err)
		}
		if !retryable(err) {
			return nil, nil, scrub(fmt.Errorf("%w: %s (branch %s) refused the push: %v; nothing was written (check branch protection and hooks on the results branch)", ErrRejected, c.url, r.branch(), err), ErrRejected, c.secrets)
		}
		lastErr = err
		delay := backoff(r, try, time.Since(attempt))
		if try >= tries || time.Since(start)+delay > bound {
			return nil, nil, scrub(fmt.Errorf("%w: %s (branch %s) kept moving: gave up after %d tries in %s (last: %v); nothing was written by this writer, run it again", ErrRejected, c.url, r.branch(), try, time.Since(start).Round(time.Millisecond), lastErr), ErrRejected, c.secrets)
		}
		r.logf("%s: tip moved (try %d: %v); retrying in %s", r.branch(), try, scrub(err, nil, c.secrets), delay.Round(time.Millisecond))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, scrub(fmt.Errorf("push to %s (branch %s) interrupted after %d tries: %v; nothing was written by this writer", c.url, r.branch(), try, ctx.Err()), ErrUnreachable, c.secrets)
		case <-t.C:
		}
	}
}

// backoff returns the full-jitter delay after a lost race on try. The
// delay scales with window, how long the lost attempt took (fetch to
// push): on a slow link or a loaded machine each attempt holds the race
// open longer, so writers must spread out more.
func backoff(r Remote, try int, window time.Duration) time.Duration {
	base, ceiling := r.BaseDelay, r.MaxDelay
	if base <= 0 {
		base = DefaultBaseDelay
	}
	base = max(base, window)
	if ceiling <= 0 {
		ceiling = DefaultMaxDelay
	}
	d := base << min(try-1, 20)
	if d > ceiling || d <= 0 {
		d = ceiling
	}
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

// commit writes the edited tree and a commit on top of the tip, and points
// the local branch at it.
func (r Remote) commit(c *clone, snap *Snapshot, e edits, msg string) (plumbing.Hash, error) {
	var base plumbing.Hash
	if snap.root != nil {
		base = snap.root.Hash
	}
	tree, err := editTree(c.repo.Storer, base, e)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	name, email := r.Author, r.Email
	if name == "" {
		name = "m18-history"
	}
	if email == "" {
		email = "m18-history@users.noreply.github.com"
	}
	sig := object.Signature{Name: name, Email: email, When: r.now().Truncate(time.Second)}
	cm := &object.Commit{Author: sig, Committer: sig, Message: msg, TreeHash: tree}
	if !snap.Tip.IsZero() {
		cm.ParentHashes = []plumbing.Hash{snap.Tip}
	}
	h, err := writeCommit(c.repo.Storer, cm)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if err := c.repo.Storer.SetReference(plumbing.NewHashReference(r.branchRef(), h)); err != nil {
		return plumbing.ZeroHash, err
	}
	return h, nil
}

// push sends the local branch to the remote, updating it only if it still
// points at tip (the lease): otherwise the remote refuses and the caller
// retries on the new tip.
func (r Remote) push(ctx context.Context, c *clone, tip plumbing.Hash) error {
	ref := r.branchRef()
	o := &git.PushOptions{RemoteName: "origin", Auth: c.auth, CABundle: r.CABundle}
	if tip.IsZero() {
		// Creating the branch: refused (non-fast-forward) if it exists.
		o.RefSpecs = []config.RefSpec{config.RefSpec(fmt.Sprintf("%s:%s", ref, ref))}
	} else {
		// The update is a fast-forward by construction; the lease makes
		// the remote check that the tip has not moved since the fetch.
		o.RefSpecs = []config.RefSpec{config.RefSpec(fmt.Sprintf("+%s:%s", ref, ref))}
		o.ForceWithLease = &git.ForceWithLease{RefName: ref, Hash: tip}
	}
	err := r.withTimeout(ctx, "push", func(ctx context.Context) error { return c.repo.PushContext(ctx, o) })
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return err
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	if h == "" {
		return "(new branch)"
	}
	return h
}
