package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestTaskListAndBadInput(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"task", "list"}, &out, &errb); code != exitOK {
		t.Fatalf("task list exited %d: %s", code, errb.String())
	}
	for _, id := range []string{"001", "003", "005", "007", "008", "009"} {
		if !strings.Contains(out.String(), id+"  ") {
			t.Errorf("task list lacks %s:\n%s", id, out.String())
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"task"}, "give a task id"},
		{[]string{"task", "999"}, `no task "999"`},
		{[]string{"task", "001", "--budget", "weekly"}, `unknown budget "weekly"`},
		{[]string{"task", "003", "--endpoint", "http://127.0.0.1:1", "--target-capacity", "5"}, "cannot apply to --endpoint"},
		{[]string{"task", "005", "--target-fail-rate", "2"}, "FailRate"},
		{[]string{"task", "007", "--affinity"}, "--affinity pins a target started by --target-command"},
		{[]string{"task", "007", "--target-command", "sleep 100"}, "no {threads} placeholder and --affinity is off"},
		{[]string{"task", "007", "--endpoint", "http://127.0.0.1:1"}, "cannot do to a server it did not start"},
		{[]string{"task", "008", "--target-key-lock"}, "KeyLock"},
		{[]string{"task", "007", "--target-workers", "4"}, "leave --target-workers"},
	} {
		out.Reset()
		errb.Reset()
		if code := run(tc.args, &out, &errb); code != exitInput || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errb.String(), exitInput, tc.want)
		}
	}
	errb.Reset()
	if code := run([]string{"task", "--help"}, &out, &errb); code != exitOK || !strings.Contains(errb.String(), "Exit codes") {
		t.Errorf("task --help: exit %d, %q", code, errb.String())
	}
}
