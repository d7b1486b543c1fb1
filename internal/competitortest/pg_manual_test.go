package competitortest

import (
	"os"
	"os/exec"
	"testing"
)

func TestManualPG(t *testing.T) {
	if os.Getenv("M18_MANUAL") == "" {
		t.Skip()
	}
	u := Postgres(t)
	out, err := exec.Command("/tmp/m18-run", "--scenario", "ci/competitive", "--competitor", "postgres", "--competitor-url", u, "--repetitions", "3", "--quiet", "--output", "/tmp/pg.json").CombinedOutput()
	t.Logf("%s %v", out, err)
}
