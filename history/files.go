package history

import (
	"fmt"
	"os"
	"path"
	"path/filepath"

	git "github.com/go-git/go-git/v5"
)

// OpenSource opens the repository under test at dir (a work tree or a git
// directory; parents are searched for .git) for Query.Source.
func OpenSource(dir string) (*git.Repository, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return nil, fmt.Errorf("%w: --source-repo %s: %v (pass the checkout of the repository under test)", ErrBadInput, dir, err)
	}
	return repo, nil
}

// WriteRuns writes each run's stored bytes into dir (created if needed)
// under its file name on the branch, and returns the files written.
func WriteRuns(dir string, runs []*Stored) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: --out %s: %v", ErrBadInput, dir, err)
	}
	var files []string
	for _, st := range runs {
		f := filepath.Join(dir, path.Base(st.Path))
		if err := os.WriteFile(f, st.Data, 0o644); err != nil {
			return files, err
		}
		files = append(files, f)
	}
	return files, nil
}
