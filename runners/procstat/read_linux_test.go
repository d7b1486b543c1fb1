//go:build linux

package procstat

import (
	"testing"
	"time"
)

func TestReadRoot(t *testing.T) {
	now := time.Unix(1700000000, 0)
	got, err := readRoot("testdata/proc", 4242, now)
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{
		At:         now,
		RSSBytes:   102400 * 1024,
		VSZBytes:   1024000 * 1024,
		Threads:    9,
		FDs:        4,
		CPUSeconds: (250 + 75) / 100.0,
	}
	if got != want {
		t.Fatalf("readRoot:\n got %+v\nwant %+v", got, want)
	}
	if _, err := readRoot("testdata/proc", 1, now); err == nil {
		t.Fatal("missing pid: want an error")
	}
}
