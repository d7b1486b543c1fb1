package actiontest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram/m18-gate/internal/competitortest"
	"github.com/engram/m18-gate/internal/testenv"
)

// pinnedDownloadArtifact is the download-artifact pin of .github/ACTION.md's
// reporting workflow.
const pinnedDownloadArtifact = "actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093"

// forkReport is the privileged half, as .github/ACTION.md shows it: no
// checkout, the artifact as untrusted data, m18-report verifying the pull
// request before it comments. m18-report comes from $M18_E2E_BIN here
// (act runs offline) instead of go install.
const forkReport = `name: perf-report
on:
  workflow_run:
    workflows: [perf]
    types: [completed]
permissions:
  actions: read
  checks: write
  pull-requests: write
jobs:
  report:
    runs-on: ubuntu-latest
    if: github.event.workflow_run.event == 'pull_request'
    steps:
      - uses: ` + pinnedDownloadArtifact + ` # v4.3.0
        with:
          name: m18-gate
          run-id: ${{ github.event.workflow_run.id }}
          github-token: ${{ github.token }}
          path: m18
      - name: Report
        env:
          GITHUB_TOKEN: ${{ github.token }}
        run: |
          pr=$(tr -cd 0-9 < m18/pr 2>/dev/null || true)   # verified against the API before use
          "$M18_E2E_BIN/m18-report" --verdict m18/verdict.json ${pr:+--pr "$pr"}
`

// TestActionForkTwoWorkflows runs the two-workflow split for a pull request
// from a fork with act: the measure workflow runs without a token and
// uploads the artifact (with the pull request's number in it); the report
// workflow, on workflow_run, comments on that pull request after verifying
// it against the API, and refuses an artifact whose number was changed to
// another pull request's.
func TestActionForkTwoWorkflows(t *testing.T) {
	w := newE2E(t, "the two-workflow split", "ghs_reportToken42", "git", "bash", "curl")
	bin := filepath.Join(w.tmp, "reportbin")
	testenv.Build(t, bin+"/", "./cmd/m18-report")
	w.writeStubs()

	// The consumer: main, and the fork's branch feature (a docs change).
	port := competitortest.FreePort(t)
	w.repo = filepath.Join(w.tmp, "widgets")
	w.initRepo("acme/widgets")
	writeFile(t, filepath.Join(w.repo, "target.sh"), "#!/usr/bin/env bash\nexec m18-target --addr \"$M18_ADDR\" --seed 1\n")
	os.Chmod(filepath.Join(w.repo, "target.sh"), 0o755)
	writeFile(t, filepath.Join(w.repo, "perf", "tiny.toml"), fixture(t, "tiny.toml"))
	writeFile(t, filepath.Join(w.repo, ".github", "workflows", "perf.yml"), fmt.Sprintf(fixture(t, "fork-perf.yml"), port))
	writeFile(t, filepath.Join(w.repo, ".github", "workflows", "perf-report.yml"), forkReport)
	writeFile(t, filepath.Join(w.repo, "README.md"), "widgets\n")
	w.commit("main", "base")
	w.commits["base"] = w.commits["main"]
	w.git(w.repo, "checkout", "-q", "-b", "feature")
	writeFile(t, filepath.Join(w.repo, "README.md"), "widgets, from a fork\n")
	w.commit("feature", "docs from a fork")

	// GitHub knows pull request 7 (the fork's, at the measured commit) and
	// 8 (another one, at another commit).
	w.fakeArgs = []string{
		"--pull", "acme/widgets#7=mallory:feature@" + w.commits["feature"],
		"--pull", "acme/widgets#8=acme:other@" + w.commits["base"],
	}
	w.startFakeGitHub()

	// 1. Measure, unprivileged: a fork's pull_request event, no token.
	pr := w.prEvent(7, "feature")
	pull := pr["pull_request"].(map[string]any)
	pull["head"].(map[string]any)["repo"] = map[string]any{"full_name": "mallory/widgets", "fork": true}
	pull["base"].(map[string]any)["repo"] = map[string]any{"full_name": "acme/widgets", "fork": false}
	out, err := w.runActWith(t, "pull_request", pr, "perf.yml", "", []string{
		"--local-repository", pinnedSetupGo + "=" + filepath.Join(w.stubs, "setup-go"),
		"--local-repository", pinnedUploadArtifact + "=" + filepath.Join(w.stubs, "upload-artifact"),
	})
	if err != nil {
		t.Fatalf("the measure workflow failed: %v\n%s", err, tail(out, 60))
	}
	art := filepath.Join(w.artifacts, "m18-gate")
	if _, err := os.Stat(filepath.Join(art, "verdict.json")); err != nil {
		t.Fatalf("the measure workflow uploaded no verdict: %v\n%s", err, tail(out, 40))
	}
	if got, _ := os.ReadFile(filepath.Join(art, "pr")); strings.TrimSpace(string(got)) != "7" {
		t.Errorf("the artifact's pr file holds %q, want 7", got)
	}
	if st := w.state(t); len(st.Comments) != 0 || len(st.CheckRuns) != 0 {
		t.Fatalf("the unprivileged measure wrote to GitHub: %d comments, %d check runs", len(st.Comments), len(st.CheckRuns))
	}
	saved := filepath.Join(w.tmp, "artifact-copy")
	if err := os.CopyFS(saved, os.DirFS(art)); err != nil {
		t.Fatal(err)
	}

	// 2. Report, privileged, on workflow_run: GitHub lists no pull request
	// for a fork's run; the number comes from the artifact, verified.
	run := map[string]any{
		"workflow_run": map[string]any{
			"id": 4242, "event": "pull_request", "head_sha": w.commits["feature"], "head_branch": "feature",
			"head_repository": map[string]any{"full_name": "mallory/widgets", "owner": map[string]any{"login": "mallory"}},
			"repository":      map[string]any{"full_name": "acme/widgets"},
			"pull_requests":   []any{},
		},
		"repository": w.repository(),
	}
	report := func(t *testing.T) (string, error) {
		return w.runActWith(t, "workflow_run", run, "perf-report.yml", w.token, []string{
			"--local-repository", pinnedDownloadArtifact + "=" + filepath.Join(w.stubs, "download-artifact"),
			"--env", "M18_E2E_BIN=" + bin,
		})
	}
	t.Run("comments on the fork's pull request", func(t *testing.T) {
		out, err := report(t)
		if err != nil {
			t.Fatalf("the report workflow failed: %v\n%s", err, tail(out, 60))
		}
		if !strings.Contains(out, "m18-report: comment https://github.com/acme/widgets/pull/7#issuecomment-") {
			t.Errorf("m18-report did not say it commented on #7:\n%s", tail(out, 40))
		}
		c := w.comment(t, 7)
		if !strings.Contains(c, "perf/tiny.toml") || !strings.Contains(c, "m18-gate") {
			t.Errorf("the comment on #7 is not the verdict:\n%s", c)
		}
	})
	t.Run("refuses a tampered artifact", func(t *testing.T) {
		before := len(w.state(t).Comments)
		os.RemoveAll(art)
		if err := os.CopyFS(art, os.DirFS(saved)); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(art, "pr"), "8\n") // another pull request's number
		out, err := report(t)
		if err == nil {
			t.Fatalf("the report workflow passed with an artifact naming another pull request\n%s", tail(out, 40))
		}
		if !strings.Contains(out, "refused: pull request #8's head is") {
			t.Errorf("the log does not say m18-report refused pull request #8:\n%s", tail(out, 40))
		}
		st := w.state(t)
		if len(st.Comments) != before {
			t.Errorf("a tampered artifact led to %d new comments", len(st.Comments)-before)
		}
		for _, c := range st.Comments {
			if strings.HasSuffix(c.IssueURL, "/issues/8") {
				t.Errorf("pull request #8 got a comment from a tampered artifact")
			}
		}
	})
}
