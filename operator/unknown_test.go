package operator

import (
	"slices"
	"strings"
	"testing"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// TestUpgradeJobCarriesTheDecision: deploy -unknown rerun -unknown-attempt
// N submits the upgrade job with both flags in migrate's own part of the
// command line (before "--", which starts upgrade_db's); without a
// decision the job is the rendered one; a decision without its attempt is
// refused.
func TestUpgradeJobCarriesTheDecision(t *testing.T) {
	r := exampleRelease(t)
	plain, err := upgradeJob(r)
	if err != nil {
		t.Fatal(err)
	}
	rendered := stringList(plain.TaskGroups[0].Tasks[0].Config["args"])
	if slices.Contains(rendered, "-unknown") {
		t.Fatalf("no decision, but the job says -unknown: %v", rendered)
	}
	r.Unknown, r.UnknownAttempt = rules.UnknownRerun, 3
	job, err := upgradeJob(r)
	if err != nil {
		t.Fatal(err)
	}
	args := stringList(job.TaskGroups[0].Tasks[0].Config["args"])
	dash := slices.Index(args, "--")
	want := "-unknown rerun -unknown-attempt 3 --"
	if got := strings.Join(args[dash-4:dash+1], " "); got != want || len(args) != len(rendered)+4 || args[0] != "migrate" {
		t.Errorf("args %v, want %q just before migrate's \"--\"", args, want)
	}
	if got := stringList(r.Bundle.UpgradeDB.TaskGroups[0].Tasks[0].Config["args"]); slices.Contains(got, "-unknown") {
		t.Errorf("the bundle's job was changed: %v", got)
	}
	r.UnknownAttempt = 0
	if _, err := upgradeJob(r); err == nil {
		t.Errorf("-unknown without the attempt was accepted")
	}
}

// TestKeptDecision: a plain deploy compares the rendered upgrade job with
// the running one's decision flags carried over; a decision given now, a
// running job without one, or flags it cannot read leave the release as
// it is.
func TestKeptDecision(t *testing.T) {
	r := exampleRelease(t)
	decided := *r
	decided.Unknown, decided.UnknownAttempt = rules.UnknownSucceeded, 2
	running, err := upgradeJob(&decided)
	if err != nil {
		t.Fatal(err)
	}
	if k := keptDecision(r, running); k == r || k.Unknown != rules.UnknownSucceeded || k.UnknownAttempt != 2 || r.Unknown != "" {
		t.Errorf("plain deploy against a job with -unknown succeeded -unknown-attempt 2: kept %q %d (release %q)", k.Unknown, k.UnknownAttempt, r.Unknown)
	}
	if k := keptDecision(&decided, running); k != &decided {
		t.Errorf("a decision given now was replaced")
	}
	plain, _ := upgradeJob(r)
	if k := keptDecision(r, plain); k != r {
		t.Errorf("a running job without a decision changed the release: %q %d", k.Unknown, k.UnknownAttempt)
	}
	if k := keptDecision(r, nil); k != r {
		t.Errorf("no running job changed the release")
	}
	task := running.TaskGroups[0].Tasks[0]
	args := stringList(task.Config["args"])
	args[indexOf(args, "-unknown-attempt")+1] = "two"
	task.Config["args"] = args
	if k := keptDecision(r, running); k != r {
		t.Errorf("an unreadable attempt was kept: %q %d", k.Unknown, k.UnknownAttempt)
	}
}
