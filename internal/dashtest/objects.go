package dashtest

import (
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// writeObjects stores a blob holding subject and a tree holding the blob.
func writeObjects(st storer.EncodedObjectStorer, subject string) (blob, tree plumbing.Hash) {
	b := st.NewEncodedObject()
	b.SetType(plumbing.BlobObject)
	w, err := b.Writer()
	if err != nil {
		return
	}
	_, _ = w.Write([]byte(subject + "\n"))
	_ = w.Close()
	blob, err = st.SetEncodedObject(b)
	if err != nil {
		return
	}
	t := &object.Tree{Entries: []object.TreeEntry{{Name: "CHANGES", Mode: filemode.Regular, Hash: blob}}}
	o := st.NewEncodedObject()
	if err := t.Encode(o); err != nil {
		return
	}
	tree, _ = st.SetEncodedObject(o)
	return
}

func hash(s string) plumbing.Hash { return plumbing.NewHash(s) }
