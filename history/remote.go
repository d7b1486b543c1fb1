package history

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Errors that say what kind of failure happened; test with errors.Is.
var (
	// ErrUnreachable: the remote could not be read or written (wrong URL or
	// path, no repository there, missing or insufficient token, network).
	ErrUnreachable = errors.New("results remote unreachable")
	// ErrBadInput: a result, flag or marker is malformed.
	ErrBadInput = errors.New("bad input")
	// ErrRejected: the remote refused the push for a reason retrying cannot
	// fix (a hook, branch protection), or every try lost the race.
	ErrRejected = errors.New("push rejected")
)

// Retry defaults: how often and how long Append and the other writers try
// to push before giving up.
const (
	DefaultTries      = 10
	DefaultRetryBound = 2 * time.Minute
	DefaultBaseDelay  = 200 * time.Millisecond
	DefaultMaxDelay   = 10 * time.Second
	// DefaultNetTimeout bounds one fetch or push of the results branch
	// (it holds one commit's tree: seconds, even for a large history).
	DefaultNetTimeout = 2 * time.Minute
)

// Remote names a results branch on a git remote and how to write to it.
// The zero values of its optional fields select the defaults.
type Remote struct {
	// URL is a local path to a git repository (bare or not), a file:// URL,
	// or an https:// URL (GitHub: https://github.com/OWNER/REPO.git).
	URL string
	// Branch is the results branch; DefaultBranch when empty.
	Branch string
	// Token authenticates https remotes as GitHub expects
	// (basic auth, user "x-access-token"). It never appears in output or
	// errors. Credentials embedded in URL are used the same way. It is sent
	// only over https and only to URL's host: a plain http URL with a token
	// is refused before connecting, and a redirect to another origin (or
	// from https to http) drops it (go-git's redirect policy).
	Token string
	// CABundle holds extra PEM certificates to trust for https remotes (a
	// GitHub Enterprise Server with a private CA).
	CABundle []byte
	// Timeout bounds each fetch and each push (DefaultNetTimeout), so a
	// remote that stops answering fails the command instead of hanging it.
	Timeout time.Duration

	// Tries bounds push attempts (DefaultTries); RetryBound bounds the
	// total time spent (DefaultRetryBound). Between tries a writer sleeps a
	// random time in [0, min(MaxDelay, BaseDelay·2^try)) ("full jitter").
	Tries      int
	RetryBound time.Duration
	BaseDelay  time.Duration
	MaxDelay   time.Duration

	// Author names the commits' author and committer; "m18-history" and
	// "m18-history@users.noreply.github.com" when empty.
	Author, Email string
	// Now returns the current time (time.Now when nil); tests set it.
	Now func() time.Time
	// Logf, when set, receives one line per try (never the token).
	Logf func(format string, args ...any)
}

func (r Remote) branch() string {
	if r.Branch == "" {
		return DefaultBranch
	}
	return r.Branch
}

func (r Remote) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r Remote) logf(format string, args ...any) {
	if r.Logf != nil {
		r.Logf(format, args...)
	}
}

func (r Remote) timeout() time.Duration {
	if r.Timeout <= 0 {
		return DefaultNetTimeout
	}
	return r.Timeout
}

// withTimeout bounds one network operation, op, by r's timeout; the error
// it returns says so when the bound, not the caller, stopped it.
func (r Remote) withTimeout(ctx context.Context, op string, f func(context.Context) error) error {
	tctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	err := f(tctx)
	if err != nil && ctx.Err() == nil && errors.Is(tctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s timed out after %v (the remote stopped answering; raise Remote.Timeout for a slow link): %w", op, r.timeout(), err)
	}
	return err
}

func (r Remote) branchRef() plumbing.ReferenceName {
	return plumbing.NewBranchReferenceName(r.branch())
}

func (r Remote) trackingRef() plumbing.ReferenceName {
	return plumbing.NewRemoteReferenceName("origin", r.branch())
}

// endpoint returns the URL go-git should use, the auth for it, and the
// secrets to scrub from any message.
func (r Remote) endpoint() (string, transport.AuthMethod, []string, error) {
	raw := strings.TrimSpace(r.URL)
	if raw == "" {
		return "", nil, nil, fmt.Errorf("%w: no results repository given (--repo PATH, file:///PATH or https://github.com/OWNER/REPO.git)", ErrBadInput)
	}
	if !plumbing.NewBranchReferenceName(r.branch()).IsBranch() || strings.ContainsAny(r.branch(), " ~^:?*[\\") || strings.Contains(r.branch(), "..") {
		return "", nil, nil, fmt.Errorf("%w: branch name %q is not a valid git branch name", ErrBadInput, r.branch())
	}
	secrets := []string{}
	if r.Token != "" {
		secrets = append(secrets, r.Token)
	}
	if !strings.Contains(raw, "://") && !strings.Contains(raw, "@") {
		abs, err := filepath.Abs(raw)
		if err != nil {
			return "", nil, secrets, fmt.Errorf("%w: repository path %q: %v", ErrBadInput, raw, err)
		}
		if _, err := os.Stat(abs); err != nil {
			return "", nil, secrets, fmt.Errorf("%w: repository path %s does not exist (create it with `git init --bare %s`, or pass file:// or https:// URL)", ErrUnreachable, abs, abs)
		}
		return abs, nil, secrets, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		// scp-like ssh address (git@github.com:o/r.git): go-git handles it.
		return raw, nil, secrets, nil
	}
	var auth transport.AuthMethod
	token := r.Token
	if u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			secrets = append(secrets, p)
			if token == "" {
				token = p
			}
		}
		u.User = nil
	}
	switch u.Scheme {
	case "http", "https":
		if token != "" && u.Scheme == "http" {
			return "", nil, secrets, fmt.Errorf("%w: refusing to send the token over plain http to %s: use https://%s%s", ErrBadInput, u.Host, u.Host, u.Path)
		}
		if token != "" {
			auth = &githttp.BasicAuth{Username: "x-access-token", Password: token}
		}
	case "file":
		if _, err := os.Stat(u.Path); err != nil {
			return "", nil, secrets, fmt.Errorf("%w: repository path %s does not exist (create it with `git init --bare %s`)", ErrUnreachable, u.Path, u.Path)
		}
	}
	return u.String(), auth, secrets, nil
}

// scrubbed is an error whose message had secrets removed; it keeps the
// kind (ErrUnreachable, …) for errors.Is but not the original chain, which
// may hold the secret.
type scrubbed struct {
	msg  string
	kind error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.kind }

// scrub returns err with every secret and every URL's user information
// removed from its message, marked as kind (which may be nil).
func scrub(err error, kind error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "***")
		}
	}
	msg = scrubUserinfo(msg)
	if kind == nil {
		for _, k := range []error{ErrUnreachable, ErrBadInput, ErrRejected, ErrNoBaseline} {
			if errors.Is(err, k) {
				kind = k
				break
			}
		}
	}
	return &scrubbed{msg: msg, kind: kind}
}

// scrubUserinfo removes "user:password@" after every "://" in s.
func scrubUserinfo(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+3])
		s = s[i+3:]
		end := strings.IndexAny(s, "/ \t\n\"'")
		if end < 0 {
			end = len(s)
		}
		if at := strings.LastIndexByte(s[:end], '@'); at >= 0 {
			b.WriteString("***@")
			s = s[at+1:]
		}
	}
}

// clone is an in-memory repository holding the tip of the results branch.
type clone struct {
	r       Remote
	repo    *git.Repository
	url     string
	auth    transport.AuthMethod
	secrets []string
}

// newClone prepares an empty in-memory repository with the remote "origin".
func (r Remote) newClone() (*clone, error) {
	u, auth, secrets, err := r.endpoint()
	if err != nil {
		return nil, scrub(err, nil, secrets)
	}
	repo, err := git.Init(memory.NewStorage(), nil)
	if err != nil {
		return nil, err
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{u}}); err != nil {
		return nil, err
	}
	return &clone{r: r, repo: repo, url: u, auth: auth, secrets: secrets}, nil
}

// fetch brings the branch tip (depth 1) into the clone and returns it, or
// the zero hash when the branch (or the whole repository) is empty.
func (c *clone) fetch(ctx context.Context) (plumbing.Hash, error) {
	spec := config.RefSpec(fmt.Sprintf("+%s:%s", c.r.branchRef(), c.r.trackingRef()))
	err := c.r.withTimeout(ctx, "fetch", func(ctx context.Context) error {
		return c.repo.FetchContext(ctx, &git.FetchOptions{
			RemoteName: "origin",
			RefSpecs:   []config.RefSpec{spec},
			Depth:      1,
			Auth:       c.auth,
			Tags:       git.NoTags,
			CABundle:   c.r.CABundle,
		})
	})
	var noMatch git.NoMatchingRefSpecError
	switch {
	case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
	case errors.As(err, &noMatch), errors.Is(err, transport.ErrEmptyRemoteRepository):
		_ = c.repo.Storer.RemoveReference(c.r.trackingRef())
		return plumbing.ZeroHash, nil
	default:
		return plumbing.ZeroHash, c.unreachable("fetch", err)
	}
	ref, err := c.repo.Reference(c.r.trackingRef(), true)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("fetched %s but found no tip: %w", c.r.branch(), err)
	}
	return ref.Hash(), nil
}

// unreachable wraps a transport error with the fix, scrubbed of secrets.
func (c *clone) unreachable(op string, err error) error {
	fix := "check --repo (a path to a git repository, file:///PATH, or https://github.com/OWNER/REPO.git)"
	switch {
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed), errors.Is(err, transport.ErrInvalidAuthMethod):
		fix = "set GITHUB_TOKEN to a token with `contents: write` on the results repository"
	case errors.Is(err, transport.ErrRepositoryNotFound):
		fix = "the repository does not exist or the token cannot see it; check --repo and GITHUB_TOKEN"
	}
	return scrub(fmt.Errorf("%s %s (branch %s): %v; %s", op, c.url, c.r.branch(), err, fix), ErrUnreachable, c.secrets)
}

// retryable reports whether a push error means "the tip moved": fetch and
// try again.
func retryable(err error) bool {
	if errors.Is(err, git.ErrForceNeeded) {
		return true
	}
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"non-fast-forward", "fetch first", "cannot lock ref", "failed to lock", "failed to update ref", "stale info", "but expected", "reference already exists", "incorrect old value"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// transportFailure reports whether a push error is about reaching the
// remote rather than the remote refusing the update.
func transportFailure(err error) bool {
	return errors.Is(err, transport.ErrAuthenticationRequired) || errors.Is(err, transport.ErrAuthorizationFailed) ||
		errors.Is(err, transport.ErrRepositoryNotFound) || errors.Is(err, transport.ErrInvalidAuthMethod)
}
