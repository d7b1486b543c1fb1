package history

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// edits maps a path on the branch to its new blob, or to nil to remove it.
type edits map[string]*plumbing.Hash

// writeBlob stores data as a blob and returns its hash.
func writeBlob(s storer.EncodedObjectStorer, data []byte) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(data)))
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}

// writeCommit stores the commit c and returns its hash.
func writeCommit(s storer.EncodedObjectStorer, c *object.Commit) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}

// editTree applies e to the tree base (the zero hash for an empty tree),
// writes every tree object that changed and returns the new root. Subtrees
// that no edit touches are shared, not rewritten; directories left empty
// disappear.
func editTree(s storer.EncodedObjectStorer, base plumbing.Hash, e edits) (plumbing.Hash, error) {
	h, _, err := editDir(s, base, e, "")
	return h, err
}

func editDir(s storer.EncodedObjectStorer, base plumbing.Hash, e edits, dir string) (plumbing.Hash, int, error) {
	entries := map[string]object.TreeEntry{}
	if !base.IsZero() {
		t, err := object.GetTree(s, base)
		if err != nil {
			return plumbing.ZeroHash, 0, fmt.Errorf("read tree %s%s: %w", dir, base, err)
		}
		for _, te := range t.Entries {
			entries[te.Name] = te
		}
	}
	// Group edits by their first component.
	sub := map[string]edits{}
	for p, h := range e {
		first, rest, deeper := strings.Cut(p, "/")
		if first == "" {
			return plumbing.ZeroHash, 0, fmt.Errorf("%w: empty path component in %q", ErrBadInput, dir+p)
		}
		if !deeper {
			if h == nil {
				delete(entries, first)
			} else {
				if old, ok := entries[first]; ok && old.Mode == filemode.Dir {
					return plumbing.ZeroHash, 0, fmt.Errorf("%w: %s%s is a directory on the branch", ErrBadInput, dir, first)
				}
				entries[first] = object.TreeEntry{Name: first, Mode: filemode.Regular, Hash: *h}
			}
			continue
		}
		if sub[first] == nil {
			sub[first] = edits{}
		}
		sub[first][rest] = h
	}
	for name, se := range sub {
		var subBase plumbing.Hash
		if old, ok := entries[name]; ok {
			if old.Mode != filemode.Dir {
				return plumbing.ZeroHash, 0, fmt.Errorf("%w: %s%s is a file on the branch", ErrBadInput, dir, name)
			}
			subBase = old.Hash
		}
		h, n, err := editDir(s, subBase, se, dir+name+"/")
		if err != nil {
			return plumbing.ZeroHash, 0, err
		}
		if n == 0 {
			delete(entries, name)
			continue
		}
		entries[name] = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h}
	}
	t := &object.Tree{}
	for _, te := range entries {
		t.Entries = append(t.Entries, te)
	}
	sort.Slice(t.Entries, func(i, j int) bool { return treeName(t.Entries[i]) < treeName(t.Entries[j]) })
	obj := s.NewEncodedObject()
	if err := t.Encode(obj); err != nil {
		return plumbing.ZeroHash, 0, err
	}
	h, err := s.SetEncodedObject(obj)
	return h, len(t.Entries), err
}

// treeName is the key git sorts tree entries by: directories as if their
// name ended in '/'.
func treeName(te object.TreeEntry) string {
	if te.Mode == filemode.Dir {
		return te.Name + "/"
	}
	return te.Name
}
