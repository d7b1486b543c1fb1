package procstat

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

func TestReadSelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		if _, err := Read(os.Getpid()); !errors.Is(err, ErrUnsupported) {
			t.Fatalf("Read on %s: err = %v, want ErrUnsupported", runtime.GOOS, err)
		}
		return
	}
	before, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if before.RSSBytes == 0 || before.VSZBytes < before.RSSBytes || before.Threads < 1 || before.FDs < 3 {
		t.Fatalf("implausible self stats: %+v", before)
	}
	// Touch 64 MiB and burn some CPU: both must show.
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	deadline := time.Now().Add(300 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	after, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(buf)
	if grew := int64(after.RSSBytes) - int64(before.RSSBytes); grew < 48<<20 {
		t.Errorf("RSS grew by %d bytes after touching 64 MiB, want ≥ 48 MiB", grew)
	}
	if after.CPUSeconds <= before.CPUSeconds {
		t.Errorf("CPU seconds did not increase: %v → %v (loop ran %d times)", before.CPUSeconds, after.CPUSeconds, x)
	}
}

func TestSamplerThinning(t *testing.T) {
	// A fake process whose RSS is the reading number, so the kept samples
	// say exactly which readings survived.
	n := uint64(0)
	fake := func(int) (Stats, error) {
		n++
		return Stats{RSSBytes: n - 1}, nil
	}
	s := NewSampler(1, time.Second, MaxSamples(8), withReader(fake))
	for i := 0; i < 40; i++ {
		s.sample()
	}
	got := s.Samples()
	// 8 readings fill it (stride 2: 0,2,4,6), 8 more kept at stride 2 up to
	// 14 → stride 4: 0,4,8,12; then 16,20,24,28 → stride 8: 0,8,16,24;
	// then 32 (36 is not a multiple of 8, 40 not reached).
	want := []uint64{0, 8, 16, 24, 32}
	if len(got) != len(want) {
		t.Fatalf("kept %d samples %v, want %v", len(got), rss(got), want)
	}
	for i := range want {
		if got[i].RSSBytes != want[i] {
			t.Fatalf("kept %v, want %v", rss(got), want)
		}
	}
}

func TestSamplerErrors(t *testing.T) {
	fail := errors.New("gone")
	s := NewSampler(1, time.Second, withReader(func(int) (Stats, error) { return Stats{}, fail }))
	s.sample()
	s.sample()
	if n, err := s.Failures(); n != 2 || !errors.Is(err, fail) {
		t.Fatalf("Failures() = %d, %v; want 2, gone", n, err)
	}
	if _, ok := s.Last(); ok {
		t.Fatal("Last() reported a sample after only failures")
	}
}

func TestSamplerRuns(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	// Wait (bounded) until three samples exist rather than for a fixed
	// time: a loaded machine may run the sampler late.
	s := NewSampler(os.Getpid(), 10*time.Millisecond)
	s.Start(context.Background())
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && len(s.Samples()) < 3; {
		time.Sleep(20 * time.Millisecond)
	}
	got := s.Stop()
	if len(got) < 3 {
		t.Fatalf("sampled %d times in 10 s at 10 ms, want ≥ 3", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].At.Before(got[i-1].At) {
			t.Fatalf("samples out of order at %d", i)
		}
	}
	if NewSampler(1, time.Second).Stop() != nil {
		t.Fatal("Stop on an unstarted sampler: want nil")
	}
}

func rss(ss []Stats) []uint64 {
	out := make([]uint64, len(ss))
	for i, s := range ss {
		out[i] = s.RSSBytes
	}
	return out
}

func TestTreeCPUCountsChildren(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	// A shell whose child burns CPU: the shell itself uses almost none, so
	// only counting the descendants can see the child's second of work.
	cmd := exec.Command("bash", "-c", `timeout 20 bash -c 'while :; do :; done' & sleep 20; wait`)
	if err := cmd.Start(); err != nil {
		t.Skip("no bash:", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	before, err := TreeCPU(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	// On a loaded machine the child may get little of a core: wait until
	// it has had 200 ms (bounded).
	var after time.Duration
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if after, err = TreeCPU(cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
		if after-before >= 200*time.Millisecond {
			break
		}
	}
	own, err := Read(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if got := after - before; got < 200*time.Millisecond {
		t.Errorf("tree CPU grew %v in 15 s of a busy child, want ≥ 200 ms", got)
	}
	if own.CPUSeconds > 0.1 {
		t.Errorf("the shell itself used %.2f s; the test wants its child to do the work", own.CPUSeconds)
	}
	if _, err := TreeCPU(1 << 30); err == nil {
		t.Error("TreeCPU of a pid that does not exist: want an error")
	}
}

func TestSummarize(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	samples := []Stats{
		{At: t0, RSSBytes: 100 << 20, CPUSeconds: 10},
		{At: t0.Add(2 * time.Second), RSSBytes: 200 << 20, CPUSeconds: 11},
		{At: t0.Add(4 * time.Second), RSSBytes: 300 << 20, CPUSeconds: 16},
	}
	got := Summarize(samples)
	// CPU: 6 s over 4 s = 1.5 cores; RSS mean (100+200+300)/3 MiB.
	want := Summary{Samples: 3, CPUCores: 1.5, RSSMiB: 200, RSSMaxMiB: 300}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	if got := Summarize(samples[:1]); got.CPUCores != 0 || got.RSSMiB != 100 {
		t.Errorf("one sample: %+v, want no CPU figure and RSS 100", got)
	}
	if got := Summarize(nil); got != (Summary{}) {
		t.Errorf("no samples: %+v", got)
	}
}
