package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/sethvargo/go-githubactions"
)

// vcs is the commit of the code under test.
type vcs struct {
	commit, ref string
	time        time.Time
}

// gitInfo returns the GitHub Actions context's commit and ref when set
// (GITHUB_SHA, GITHUB_REF), else the HEAD of the repository holding dir,
// read with go-git (no git binary needed).
func gitInfo(dir string) (vcs, error) {
	// Context's error is about fields other than SHA and Ref (a malformed
	// GITHUB_RUN_ID, say): those two are read regardless.
	gc, _ := githubactions.New(githubactions.WithGetenv(os.Getenv)).Context()
	if gc != nil && gc.SHA != "" {
		v := vcs{commit: gc.SHA, ref: gc.Ref}
		sha := gc.SHA
		if r, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true}); err == nil {
			if c, err := r.CommitObject(plumbing.NewHash(sha)); err == nil {
				v.time = c.Committer.When.UTC()
			}
		}
		return v, nil
	}
	r, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return vcs{}, fmt.Errorf("not inside a git repository (%v)", err)
	}
	head, err := r.Head()
	if err != nil {
		return vcs{}, fmt.Errorf("repository has no HEAD commit (%v)", err)
	}
	v := vcs{commit: head.Hash().String()}
	if name := head.Name(); strings.HasPrefix(name.String(), "refs/") {
		v.ref = name.String()
	}
	if c, err := r.CommitObject(head.Hash()); err == nil {
		v.time = c.Committer.When.UTC()
	}
	return v, nil
}
