package actiontest

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/internal/competitortest"
	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/result"
)

// TestShardedWorkflow runs the action's scripts as the documented sharded
// workflow runs them: two shard jobs (measure.sh with shards: 2, shard: 0
// and 1) against one target, their documents gathered as the artifact
// download leaves them, then the merge job (shard: merge): the first night
// has no baseline and records the merged result on the history branch; the
// next finds it as its baseline and gates. A merge job with a shard missing
// fails. The scripts run outside act, with the real binaries.
func TestShardedWorkflow(t *testing.T) {
	needEndToEnd(t, "runs two shards and the merge for about 20 s", "git", "bash", "curl")
	root, tmp := testenv.ModuleRoot(t), t.TempDir()
	bin := filepath.Join(tmp, "bin")
	testenv.Build(t, bin+"/", "./cmd/...")
	w := &e2e{t: t, tmp: tmp}
	w.repo = filepath.Join(tmp, "widgets")
	w.git(tmp, "init", "-q", "-b", "main", w.repo)
	w.git(w.repo, "-c", "user.email=dev@example.com", "-c", "user.name=dev", "-c", "commit.gpgsign=false", "commit", "-q", "--allow-empty", "-m", "the code under test")
	sha := strings.TrimSpace(w.git(w.repo, "rev-parse", "HEAD"))
	bare := filepath.Join(tmp, "history.git")
	w.git(tmp, "init", "-q", "--bare", bare)

	port := competitortest.FreePort(t)
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	tgt := exec.Command(filepath.Join(bin, "m18-target"), "--addr", fmt.Sprintf("127.0.0.1:%d", port))
	if err := tgt.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tgt.Process.Kill(); _ = tgt.Wait() }()
	for i := 0; ; i++ {
		if resp, err := http.Get(endpoint + "/health"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 100 {
			t.Fatal("m18-target did not answer /health")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// job runs one script of the action for one job, as its step would.
	job := func(name, script string, env ...string) (string, map[string]string, error) {
		work := filepath.Join(tmp, "jobs", name)
		out := filepath.Join(work, "github_output")
		os.MkdirAll(filepath.Join(work, "out"), 0o755)
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "action", script))
		cmd.Dir = w.repo
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "M18_BIN="+bin, "M18_WORK="+work,
			"GITHUB_WORKSPACE="+w.repo, "GITHUB_SHA="+sha, "GITHUB_REF=refs/heads/main", "GITHUB_OUTPUT="+out,
			"M18_MODE=history", "M18_SCENARIOS=ci/smoke", "M18_REPETITIONS=5", "M18_DURATION=400ms",
			"M18_WARMUP=0s", "M18_HISTORY_REPO="+bare, "M18_SHARDS=2")
		cmd.Env = append(cmd.Env, env...)
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		err := cmd.Run()
		outputs := map[string]string{}
		data, _ := os.ReadFile(out)
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				outputs[k] = v
			}
		}
		return log.String(), outputs, err
	}

	startAt := time.Now().Add(4 * time.Second).UTC().Format(time.RFC3339Nano)
	type shardJob struct {
		log     string
		outputs map[string]string
		err     error
	}
	done := make(chan int, 2)
	jobs := make([]shardJob, 2)
	for i := range jobs {
		go func() {
			jobs[i].log, jobs[i].outputs, jobs[i].err = job(fmt.Sprint("shard-", i), "measure.sh",
				fmt.Sprint("M18_SHARD=", i), "M18_START_AT="+startAt, "M18_ENDPOINT="+endpoint)
			done <- i
		}()
	}
	<-done
	<-done
	artifacts := filepath.Join(w.repo, "m18-shards")
	for i, j := range jobs {
		if j.err != nil || j.outputs["verdict"] != "shard" {
			t.Fatalf("shard job %d: %v, outputs %v\n%s", i, j.err, j.outputs, j.log)
		}
		// download-artifact with merge-multiple: each job's out/ lands here.
		docs, _ := filepath.Glob(filepath.Join(tmp, "jobs", fmt.Sprint("shard-", i), "out", "shard", "*.json"))
		if len(docs) != 1 {
			t.Fatalf("shard job %d left %v, want one document in out/shard", i, docs)
		}
		data, _ := os.ReadFile(docs[0])
		writeFile(t, filepath.Join(artifacts, "shard", filepath.Base(docs[0])), string(data))
	}

	log, outputs, err := job("merge-1", "measure.sh", "M18_SHARD=merge")
	if err == nil {
		log, outputs, err = job("merge-1", "baseline.sh") // the action's next step
	}
	if err != nil || outputs["verdict"] != "no-baseline" {
		t.Fatalf("first merge job: %v, outputs %v, want verdict no-baseline\n%s", err, outputs, log)
	}
	merged := filepath.Join(tmp, "jobs", "merge-1", "out", "head-nobaseline", "ci_smoke-merged.json")
	d, err := result.ReadFile(merged)
	if err != nil {
		t.Fatalf("the merge job left no merged result: %v\n%s", err, log)
	}
	if len(d.Run.Sharding.Shards) != 2 || len(d.Repetitions) != 5 || d.Run.Commit != sha {
		t.Errorf("merged result: %d shards, %d repetitions, commit %q; want 2, 5, %s", len(d.Run.Sharding.Shards), len(d.Repetitions), d.Run.Commit, sha)
	}
	if log, _, err := job("merge-1", "push.sh"); err != nil {
		t.Fatalf("recording the merged result: %v\n%s", err, log)
	}
	stored := w.git(tmp, "--git-dir", bare, "ls-tree", "-r", "--name-only", "m18-results")
	if files := strings.Fields(stored); len(files) != 1 || !strings.Contains(files[0], "_merged-") {
		t.Fatalf("the history branch holds %v, want the one merged result %s", files, d.Run.RunID)
	}

	// The next night: the merged result of the first is its baseline.
	log, outputs, err = job("merge-2", "measure.sh", "M18_SHARD=merge")
	if err == nil {
		log, outputs, err = job("merge-2", "baseline.sh")
	}
	if err != nil || outputs["verdict"] != "" {
		t.Fatalf("second merge job: %v, outputs %v, want a baseline\n%s", err, outputs, log)
	}
	log, outputs, err = job("merge-2", "gate.sh")
	// One merged run against one stored: no regression, decided or not.
	if v := outputs["verdict"]; err != nil || outputs["exit-code"] != "0" || (v != "pass" && v != "inconclusive") {
		t.Errorf("gate of the merged result against the stored one: %v, outputs %v, want pass or inconclusive, exit 0\n%s", err, outputs, log)
	}

	// A merge job missing a shard fails and gates nothing.
	os.Remove(filepath.Join(artifacts, "shard", "ci_smoke-shard-1.json"))
	log, _, err = job("merge-3", "measure.sh", "M18_SHARD=merge")
	if err == nil || !strings.Contains(log, "shard 1/2 missing") {
		t.Errorf("merge job with shard 1 missing: %v, want a failure naming it\n%s", err, log)
	}
	if _, err := os.Stat(filepath.Join(tmp, "jobs", "merge-3", "out", "head", "ci_smoke-merged.json")); err == nil {
		t.Errorf("a partial merge was left where the gate and the history step read")
	}
}
