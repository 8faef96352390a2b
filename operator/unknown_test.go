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
