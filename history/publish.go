package history

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/object"
)

// Publish makes the branch hold exactly files (path → content), in one new
// commit on top of its tip — a static site on a Pages branch, say. It
// fetches, commits and pushes as Append does, retrying when another writer
// moved the tip, and never rewrites what is there: the previous contents
// stay in the branch's history. When the branch already holds exactly
// files, nothing is written (Pushed.Unchanged).
func (r Remote) Publish(ctx context.Context, files map[string][]byte, message string) (*Pushed, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: nothing to publish", ErrBadInput)
	}
	for p := range files {
		if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") ||
			p == ".git" || strings.HasPrefix(p, ".git/") {
			return nil, fmt.Errorf("%w: cannot publish a file at %q", ErrBadInput, p)
		}
		for _, part := range strings.Split(p, "/") {
			if part == "." || part == ".." {
				return nil, fmt.Errorf("%w: cannot publish a file at %q", ErrBadInput, p)
			}
		}
	}
	p, _, err := r.update(ctx, func(s *Snapshot) (edits, string, error) {
		e := edits{}
		if s.root != nil {
			err := s.root.Files().ForEach(func(f *object.File) error {
				if _, keep := files[f.Name]; !keep {
					e[f.Name] = nil
				}
				return nil
			})
			if err != nil && err != io.EOF {
				return nil, "", fmt.Errorf("list %s: %w", s.Branch, err)
			}
		}
		paths := make([]string, 0, len(files))
		for p := range files {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			h, err := writeBlob(s.s, files[p])
			if err != nil {
				return nil, "", err
			}
			if old, ok := s.blobHash(p); ok && old == h {
				continue
			}
			e[p] = &h
		}
		return e, message, nil
	})
	return p, err
}
