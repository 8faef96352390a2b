package operator

import (
	"context"
	"fmt"
	"sort"

	nomadapi "github.com/hashicorp/nomad/api"
)

// CountChoice is the count deploy submits for one group, when the file's
// count and the running count differ.
type CountChoice struct {
	Group string
	// Source is where File comes from: "kantree.hcl" for deploy, "version
	// N" for the version a rollback returns to.
	Source           string
	File, Running    int
	Submitted        int
	KeptFromScaling  bool // the running count was kept: it came from `nomad job scale`
	ScaledFromOrigin int  // the count the scaling started from
	// NoScheduler: the scheduler group runs with count 0 while the source
	// says more; it is restored, never kept (see chooseCounts).
	NoScheduler bool
}

// String says what was decided, for the output.
func (c CountChoice) String() string {
	if c.NoScheduler {
		return fmt.Sprintf("%s: count 0 -> %d from %s: the scheduler group was scaled to 0 behind kantree.hcl's back, so no scheduler ran; restoring it",
			c.Group, c.File, c.Source)
	}
	if c.KeptFromScaling {
		return fmt.Sprintf("%s: keeping count %d set by nomad job scale (%s says %d, the count the scaling started from; change it in kantree.hcl to set another)",
			c.Group, c.Running, c.Source, c.File)
	}
	return fmt.Sprintf("%s: count %d -> %d from %s", c.Group, c.Running, c.File, c.Source)
}

// chooseCounts decides each group's count in job (a copy of the rendered
// service job, or of the version a rollback returns to, changed in place)
// against the running job; source names where job's counts come from.
//
// The rule: a group keeps its running count when that count was reached
// by scaling actions (`nomad job scale`, an autoscaler: Nomad records
// each as a scaling event) that started from the count kantree.hcl still
// says. Then the operator's scaling is newer than the file's value, and
// the file did not change. When kantree.hcl's count differs from where
// the scaling started, the file changed since, and the file wins. A group
// without scaling events takes the file's count. No state is stored: the
// chain of scaling events (newest first, each PreviousCount equal to the
// Count of the one before) is the record of where the count came from.
// A rollback applies the same rule with the old version in the file's
// place (rollback.go).
//
// One exception: the scheduler group is never kept at 0 when the source
// says more. Its count is derived (kantree.hcl has no count for it to
// change), and Kantree without a scheduler silently stops its periodic
// work: a `nomad job scale` to 0 is drift that plan and status show and
// that deploy undoes.
func chooseCounts(job, running *nomadapi.Job, scale *nomadapi.JobScaleStatusResponse, source string) []CountChoice {
	if running == nil {
		return nil
	}
	var out []CountChoice
	for _, g := range job.TaskGroups {
		cur := findGroup(running, str(g.Name))
		if cur == nil || num(cur.Count) == num(g.Count) {
			continue
		}
		choice := CountChoice{Group: str(g.Name), Source: source, File: num(g.Count), Running: num(cur.Count), Submitted: num(g.Count)}
		choice.NoScheduler = choice.Group == schedulerGroup && choice.Running == 0 && choice.File > 0
		if scale != nil && !choice.NoScheduler {
			if origin, ok := scalingOrigin(scale.TaskGroups[choice.Group].Events, choice.Running); ok && origin == choice.File {
				choice.KeptFromScaling, choice.ScaledFromOrigin, choice.Submitted = true, origin, choice.Running
				g.Count = new(choice.Running)
			}
		}
		out = append(out, choice)
	}
	return out
}

// scalingOrigin follows the chain of scaling events that ends at count
// and returns the count the chain started from.
func scalingOrigin(events []nomadapi.ScalingEvent, count int) (int, bool) {
	evs := append([]nomadapi.ScalingEvent(nil), events...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time > evs[j].Time })
	origin, found := 0, false
	want := int64(count)
	for _, e := range evs {
		if e.Count == nil || e.Error {
			continue // a message or an error, not a change of count
		}
		if *e.Count != want {
			break
		}
		origin, found = int(e.PreviousCount), true
		want = e.PreviousCount
	}
	return origin, found
}

// schedulerGroup is the service job's group that runs the scheduler.
const schedulerGroup = "scheduler"

// findGroup returns the named group of job, or nil.
func findGroup(job *nomadapi.Job, name string) *nomadapi.TaskGroup {
	for _, g := range job.TaskGroups {
		if str(g.Name) == name {
			return g
		}
	}
	return nil
}

// scaleStatus reads the job's scaling events; nil when the job is new.
func (c *Cluster) scaleStatus(ctx context.Context, r *Release, id string) (*nomadapi.JobScaleStatusResponse, error) {
	s, _, err := c.Nomad.Jobs().ScaleStatus(id, r.query(ctx))
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, nomadError("read the scaling events of "+id, err)
	}
	return s, nil
}
