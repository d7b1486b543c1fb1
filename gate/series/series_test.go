package series

import (
	"math/rand/v2"
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
