package operator

import (
	"fmt"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

func groupsJob(names ...string) *nomadapi.Job {
	j := &nomadapi.Job{}
	for _, n := range names {
		j.TaskGroups = append(j.TaskGroups, &nomadapi.TaskGroup{Name: new(n)})
	}
	return j
}

func TestRotationPhases(t *testing.T) {
	tests := []struct {
		groups []string
		want   string
	}{
		{[]string{"web", "push", "worker", "scheduler"}, "[[web] [push worker scheduler]]"},
		{[]string{"worker", "web"}, "[[web] [worker]]"},
		{[]string{"web"}, "[[web]]"},
		{[]string{"worker", "scheduler"}, "[[worker scheduler]]"},
	}
	for _, tc := range tests {
		if got := fmt.Sprint(rotationPhases(groupsJob(tc.groups...))); got != tc.want {
			t.Errorf("rotationPhases(%v) = %s, want %s", tc.groups, got, tc.want)
		}
	}
}

// deploy keeps a rotation's marker, per group, so that a release does
// not roll a group only because a rotation marked it.
func TestKeepRotation(t *testing.T) {
	running := groupsJob("web", "worker")
	running.TaskGroups[0].Meta = map[string]string{RotationMeta: "t1"}
	job := groupsJob("web", "worker", "push")
	keepRotation(job, running)
	for i, want := range []string{"t1", "", ""} {
		if got := job.TaskGroups[i].Meta[RotationMeta]; got != want {
			t.Errorf("group %s: %q, want %q", *job.TaskGroups[i].Name, got, want)
		}
	}
	keepRotation(job, nil) // a new job: nothing to keep
}

// run's job: the release's upgrade-db job with the command, taken
// literally, in place of the migration, and never run twice by Nomad.
func TestRunJob(t *testing.T) {
	r := exampleRelease(t)
	job, err := runJob(r, []string{"./platform", "x", "${NOMAD_ALLOC_ID}", "%{ if }"}, time.UnixMilli(1234))
	if err != nil {
		t.Fatal(err)
	}
	task := job.TaskGroups[0].Tasks[0]
	args := strings.Join(stringList(task.Config["args"]), " ")
	if *job.ID != r.Dep.Job+"-run-1234" || !strings.HasPrefix(args, "launch -root ") || !strings.HasSuffix(args, "-- ./platform x $${NOMAD_ALLOC_ID} %%{ if }") || strings.Contains(args, "upgrade_db") {
		t.Errorf("run job %s: args %q", *job.ID, args)
	}
	g := job.TaskGroups[0]
	if *g.RestartPolicy.Attempts != 0 || *g.ReschedulePolicy.Attempts != 0 || *g.ReschedulePolicy.Unlimited {
		t.Errorf("run job restarts or reschedules: %+v %+v", g.RestartPolicy, g.ReschedulePolicy)
	}
	if len(r.Bundle.UpgradeDB.TaskGroups[0].Volumes) == 0 || len(g.Volumes) != 0 || len(task.VolumeMounts) != 0 {
		t.Errorf("run job: the backup volume of the upgrade-db job should be left out (upgrade-db has %d volumes; run has %d, %d mounts)",
			len(r.Bundle.UpgradeDB.TaskGroups[0].Volumes), len(g.Volumes), len(task.VolumeMounts))
	}
	if len(task.Templates) == 0 {
		t.Errorf("run job has no templates: it would lack config-prod.yml, license and secrets")
	}
}

// exampleRelease is the basic example rendered, with nothing running.
func exampleRelease(t *testing.T) *Release {
	t.Helper()
	dep, _, diags := jobspec.Load("../examples/basic/kantree.hcl", jobspec.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	r, err := NewRelease(dep)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
