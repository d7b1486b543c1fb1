package history

import (
	"context"
	"errors"
	"testing"
)

// TestPublish replaces a branch's files whole in new commits, keeps what
// was there in history, writes nothing when nothing changed, and refuses
// paths that would escape the tree.
func TestPublish(t *testing.T) {
	dir := bare(t)
	r := remote(dir)
	r.Branch = "gh-pages"
	ctx := context.Background()
	first := map[string][]byte{"index.html": []byte("v1"), "charts/a/b.svg": []byte("<svg/>"), "old.html": []byte("x")}
	p1, err := r.Publish(ctx, first, "dashboard: first")
	if err != nil {
		t.Fatal(err)
	}
	if p1.Parent != "" || len(p1.Added) != 3 {
		t.Fatalf("first publish: %+v", p1)
	}
	second := map[string][]byte{"index.html": []byte("v2"), "charts/a/b.svg": []byte("<svg/>")}
	p2, err := r.Publish(ctx, second, "dashboard: second")
	if err != nil {
		t.Fatal(err)
	}
	if p2.Parent != p1.Commit || len(p2.Added) != 1 || p2.Added[0] != "index.html" || len(p2.Removed) != 1 || p2.Removed[0] != "old.html" {
		t.Fatalf("second publish: %+v", p2)
	}
	p3, err := r.Publish(ctx, second, "dashboard: again")
	if err != nil {
		t.Fatal(err)
	}
	if !p3.Unchanged || p3.Commit != p2.Commit {
		t.Errorf("republishing the same files: %+v", p3)
	}
	snap, err := r.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := snap.Show("index.html"); err != nil || string(b) != "v2" {
		t.Errorf("index.html = %q, %v", b, err)
	}
	if _, err := snap.Show("old.html"); err == nil {
		t.Errorf("old.html survived the second publish")
	}
	if n := linear(t, dir, "gh-pages"); n != 2 {
		t.Errorf("%d commits on gh-pages, want 2", n)
	}
	for _, bad := range []string{"../x", "/abs", "a//b", ".git/config", "a/./b"} {
		if _, err := r.Publish(ctx, map[string][]byte{bad: nil}, "x"); !errors.Is(err, ErrBadInput) {
			t.Errorf("publishing %q: %v, want ErrBadInput", bad, err)
		}
	}
}
