package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// vcs is the commit of the code under test.
type vcs struct {
	commit, ref string
	time        time.Time
}

// gitInfo returns GITHUB_SHA/GITHUB_REF when set (Actions), else the HEAD
// of the repository holding dir, read with go-git (no git binary needed).
func gitInfo(dir string) (vcs, error) {
	if sha := os.Getenv("GITHUB_SHA"); sha != "" {
		v := vcs{commit: sha, ref: os.Getenv("GITHUB_REF")}
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
