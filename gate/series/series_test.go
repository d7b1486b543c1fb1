package series

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/gate/internal/gatetest"
	"github.com/engram/m18-gate/gate/stats"
	"github.com/engram/m18-gate/runners/result"
)

func TestChangePoints(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(9, 9))
	var files []string
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 40 {
		level := 0.20
		if i >= 25 {
			level = 0.26 // a 30 % step at index 25
		}
		d := gatetest.ResultDoc("nightly/soak", "f00000000000", start.Add(time.Duration(i)*24*time.Hour), gatetest.Lognormal(r, level, 0.02, 3), 0)
		path := filepath.Join(dir, strings.Replace(d.Run.Start.Format("20060102"), "/", "", -1)+".json")
		if err := result.WriteFile(path, d); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	// Given out of order: LoadSeries orders by Run.Start.
	files[0], files[39] = files[39], files[0]
	series, err := Load(files, "p50", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 1 || len(series[0].Points) != 40 || series[0].Operation != "overall" {
		t.Fatalf("series: %+v", series)
	}
	got := ChangePoints(series, statsOptions())
	if len(got[0].ChangePoints) != 1 || got[0].ChangePoints[0].Index != 25 || !got[0].ChangePoints[0].Time.Equal(start.Add(25*24*time.Hour)) {
		t.Errorf("change points: %+v", got[0].ChangePoints)
	}
	// The step at 25 of 40 points: new for a window of the newest 15, old
	// for the newest 7.
	if n := MarkRecent(got, 7); n != 0 || len(Recent(got)) != 0 {
		t.Errorf("MarkRecent(7) marked %d, want 0", n)
	}
	if n := MarkRecent(got, 15); n != 1 || len(Recent(got)) != 1 || !Recent(got)[0].ChangePoints[0].Recent {
		t.Errorf("MarkRecent(15) marked %d, want 1", n)
	}
	var buf strings.Builder
	if err := WriteText(&buf, got); err != nil || !strings.Contains(buf.String(), "2025-01-26") {
		t.Errorf("text: %v\n%s", err, buf.String())
	}
	t.Log("\n" + buf.String())
	if _, err := Load(files, "p42", ""); err == nil || !strings.Contains(err.Error(), "unknown metric") {
		t.Errorf("bad metric: %v", err)
	}
}

func statsOptions() stats.EDivisiveOptions { return stats.EDivisiveOptions{Seed: 1} }

func TestFromRuns(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	s := FromRuns("ci/fast", "overall", "p99", []Run{
		{Time: t0, Commit: "0123456789abcdef", Values: []float64{3, 1, 2}},
		{Time: t0.Add(time.Hour), RunID: "r2", Values: []float64{4, 1, 2, 3}},
		{Time: t0.Add(2 * time.Hour), RunID: "r3"}, // did not measure the operation
	})
	want := []Point{{Time: t0, Label: "0123456789ab", Value: 2}, {Time: t0.Add(time.Hour), Label: "r2", Value: 2.5}}
	if s.Unit != "ms" || len(s.Points) != 2 || s.Points[0] != want[0] || s.Points[1] != want[1] {
		t.Errorf("FromRuns = %+v, want unit ms and points %+v", s, want)
	}
	path := filepath.Join(t.TempDir(), "series.json")
	var buf strings.Builder
	if err := Encode(&buf, s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(buf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := Load([]string{path}, "", "")
	if err != nil || len(back) != 1 || len(back[0].Points) != 2 || back[0].Points[1].Value != 2.5 {
		t.Errorf("Load(Encode(s)) = %+v, %v", back, err)
	}
}
