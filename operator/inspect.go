package operator

import (
	"context"
	"fmt"
	"strings"
	"time"

	consulapi "github.com/hashicorp/consul/api"
	nomadapi "github.com/hashicorp/nomad/api"
)

// stderrLines is how many lines of a task's stderr a failure report shows.
const stderrLines = 15

// inspectAlloc prints why an allocation failed: each task's state and last
// events, the checks of its services that do not pass, and the last lines
// of the stderr of each task that failed (or, when none did, of every task
// that ran).
func (c *Cluster) inspectAlloc(ctx context.Context, r *Release, allocID string) {
	a, _, err := c.Nomad.Allocations().Info(allocID, r.query(ctx))
	if err != nil {
		c.printf("    (could not read allocation %s: %v)", short(allocID), err)
		return
	}
	c.printf("    allocation %s (group %s, node %s): %s", short(a.ID), a.TaskGroup, a.NodeName, allocStatus(a))
	for _, task := range sortedTasks(a.TaskStates) {
		ts := a.TaskStates[task]
		c.printf("    task %s: %s%s, %d restarts", task, ts.State, failedText(ts.Failed), ts.Restarts)
		evs := ts.Events
		for _, e := range evs[max(0, len(evs)-6):] {
			c.printf("      %s  %s", time.Unix(0, e.Time).UTC().Format("15:04:05"), eventText(e))
		}
	}
	c.printChecks(ctx, a)
	for _, task := range tasksToShow(a) {
		c.printStderr(ctx, a, task)
	}
}

func allocStatus(a *nomadapi.Allocation) string {
	s := a.ClientStatus
	if a.DeploymentStatus != nil && a.DeploymentStatus.Healthy != nil {
		s += map[bool]string{true: ", healthy", false: ", unhealthy"}[*a.DeploymentStatus.Healthy]
	}
	if a.ClientDescription != "" {
		s += " (" + a.ClientDescription + ")"
	}
	return s
}

func failedText(failed bool) string {
	if failed {
		return " (failed)"
	}
	return ""
}

// tasksToShow are the tasks whose stderr explains a failure: those that
// failed or restarted, else every task that started. A task that never
// started has no log (its events say why).
func tasksToShow(a *nomadapi.Allocation) []string {
	var bad, started []string
	for _, task := range sortedTasks(a.TaskStates) {
		ts := a.TaskStates[task]
		if ts.StartedAt.IsZero() {
			continue
		}
		if ts.Failed || ts.Restarts > 0 {
			bad = append(bad, task)
		}
		started = append(started, task)
	}
	if len(bad) > 0 {
		return bad
	}
	return started
}

// printStderr prints the last lines of a task's stderr.
func (c *Cluster) printStderr(ctx context.Context, a *nomadapi.Allocation, task string) {
	text, err := c.readLog(ctx, a, task, "stderr")
	if err != nil {
		c.printf("    (could not read the stderr of task %s: %v)", task, err)
		return
	}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > stderrLines {
		lines = lines[len(lines)-stderrLines:]
	}
	c.printf("    last lines of task %s's stderr:", task)
	for _, ln := range lines {
		c.printf("      | %s", ln)
	}
}

// readLog reads the end of a task's log (at most 16 KiB).
func (c *Cluster) readLog(ctx context.Context, a *nomadapi.Allocation, task, kind string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	frames, errs := c.Nomad.AllocFS().Logs(a, false, task, kind, nomadapi.OriginEnd, 16<<10, ctx.Done(), (&nomadapi.QueryOptions{}).WithContext(ctx))
	var b strings.Builder
	for {
		select {
		case f, ok := <-frames:
			if !ok {
				return b.String(), nil
			}
			b.Write(f.Data)
		case err, ok := <-errs:
			if !ok {
				errs = nil
			} else if err != nil {
				return b.String(), err
			}
		case <-ctx.Done():
			return b.String(), ctx.Err()
		}
	}
}

// printChecks prints the Consul checks of the allocation's services that
// are not passing, with their output: why a deployment found it unhealthy.
func (c *Cluster) printChecks(ctx context.Context, a *nomadapi.Allocation) {
	if c.Consul == nil {
		return
	}
	checks, _, err := c.Consul.Health().State("any", (&consulapi.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return
	}
	for _, ck := range checks {
		if ck.Status == "passing" || !strings.Contains(ck.ServiceID, a.ID) {
			continue
		}
		out := strings.TrimSpace(ck.Output)
		if len(out) > 200 {
			out = out[:200] + "..."
		}
		c.printf("    check %q (service %s): %s: %s", ck.Name, ck.ServiceName, ck.Status, out)
	}
}

// interrupted is the error when the context ends while watching; resume
// says how to watch again.
func (c *Cluster) interrupted(resume string) error {
	c.printf("==> Stopped watching; Nomad goes on. To watch again: %s", resume)
	return fmt.Errorf("%w (Nomad goes on): to watch again, run %s", ErrInterrupted, resume)
}
