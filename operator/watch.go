package operator

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// Watch follows a deployment of the service job until it ends, printing
// each group's progress (desired, placed, healthy, canaries) as it
// changes. It returns nil when the deployment succeeds. When it fails (or
// is cancelled), it prints the unhealthy allocations' events, checks and
// stderr and, when Nomad reverted the job, follows the revert's own
// deployment; the error wraps ErrFailed. When ctx ends it returns an
// error wrapping ErrInterrupted: the deployment goes on.
func (c *Cluster) Watch(ctx context.Context, r *Release, deploymentID string) error {
	dep, err := c.follow(ctx, r, deploymentID)
	if err != nil {
		return err
	}
	if dep.Status == nomadapi.DeploymentStatusSuccessful {
		return nil
	}
	c.inspectDeployment(ctx, r, dep)
	reverted := revertedTo(dep.StatusDescription)
	if reverted < 0 {
		return rules.WithHint(fmt.Errorf("deployment %s of job %s %s: %s: %w", short(dep.ID), r.Dep.Job, dep.Status, dep.StatusDescription, ErrFailed),
			"The cause is shown above. 'kantree-nomad status' shows what runs now; fix the cause and run deploy again.")
	}
	c.printf("==> Nomad reverted job %s to version %d; following that deployment", r.Dep.Job, reverted)
	outcome := c.followRevert(ctx, r, dep)
	return rules.WithHint(fmt.Errorf("deployment %s of job %s failed and Nomad reverted to version %d (%s): %w", short(dep.ID), r.Dep.Job, reverted, outcome, ErrFailed),
		"The previous version runs again. The cause is shown above; fix it and run deploy again.")
}

// follow polls the deployment until it is no longer active and returns it.
func (c *Cluster) follow(ctx context.Context, r *Release, id string) (*nomadapi.Deployment, error) {
	start := c.Now()
	printed := map[string]string{}
	desc := ""
	resume := "nomad deployment status -monitor " + id
	out := c.newOutage(fmt.Sprintf("deployment %s of job %s", short(id), r.Dep.Job), resume)
	for {
		dep, _, err := c.Nomad.Deployments().Info(id, r.query(ctx))
		wait, err := out.check(ctx, "read deployment "+short(id), err)
		if err != nil {
			return nil, err
		}
		if wait > 0 {
			if c.pause(ctx, wait) != nil {
				return nil, c.interrupted(resume)
			}
			continue
		}
		if len(printed) == 0 {
			c.printf("==> Deployment %s of job %s version %d", short(id), r.Dep.Job, dep.JobVersion)
		}
		c.printProgress(dep, printed)
		if dep.StatusDescription != desc {
			desc = dep.StatusDescription
			c.printf("    %7s  %s: %s", c.since(start), dep.Status, desc)
		}
		if !active(dep.Status) {
			c.printf("==> Deployment %s %s after %s", short(id), dep.Status, c.Now().Sub(start).Round(time.Second))
			return dep, nil
		}
		if err := c.sleep(ctx); err != nil {
			return nil, c.interrupted(resume)
		}
	}
}

// active reports whether a deployment in this status may still change.
func active(status string) bool {
	switch status {
	case nomadapi.DeploymentStatusSuccessful, nomadapi.DeploymentStatusFailed, nomadapi.DeploymentStatusCancelled:
		return false
	}
	return true
}

// printProgress prints the line of each group whose numbers changed.
func (c *Cluster) printProgress(dep *nomadapi.Deployment, printed map[string]string) {
	groups := make([]string, 0, len(dep.TaskGroups))
	for g := range dep.TaskGroups {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		line := progressText(dep.TaskGroups[g])
		if printed[g] != line {
			printed[g] = line
			c.printf("    %-12s %s", g, line)
		}
	}
}

func progressText(s *nomadapi.DeploymentState) string {
	line := fmt.Sprintf("desired %d  placed %d  healthy %d  unhealthy %d", s.DesiredTotal, s.PlacedAllocs, s.HealthyAllocs, s.UnhealthyAllocs)
	if s.DesiredCanaries > 0 {
		line += fmt.Sprintf("  canaries %d/%d", len(s.PlacedCanaries), s.DesiredCanaries)
		if s.Promoted {
			line += " (promoted)"
		}
	}
	return line
}

// since is the time since start, for progress lines.
func (c *Cluster) since(start time.Time) string {
	return fmt.Sprintf("+%.0fs", c.Now().Sub(start).Seconds())
}

var revertRE = regexp.MustCompile(`rolling back to job version (\d+)`)

// revertedTo returns the job version Nomad rolled back to, as its
// deployment description says, or -1.
func revertedTo(desc string) int {
	m := revertRE.FindStringSubmatch(desc)
	if m == nil {
		return -1
	}
	var v int
	fmt.Sscan(m[1], &v)
	return v
}

// inspectDeployment prints the unhealthy or failed allocations of a
// deployment (at most three).
func (c *Cluster) inspectDeployment(ctx context.Context, r *Release, dep *nomadapi.Deployment) {
	allocs, _, err := c.Nomad.Deployments().Allocations(dep.ID, r.query(ctx))
	if err != nil {
		c.printf("    (could not list the deployment's allocations: %v)", err)
		return
	}
	shown := 0
	for _, a := range allocs {
		unhealthy := a.DeploymentStatus != nil && a.DeploymentStatus.Healthy != nil && !*a.DeploymentStatus.Healthy
		if (unhealthy || a.ClientStatus == nomadapi.AllocClientStatusFailed) && shown < 3 {
			c.inspectAlloc(ctx, r, a.ID)
			shown++
		}
	}
	if shown == 0 {
		c.printf("    no allocation of the deployment is marked unhealthy or failed")
	}
}

// followRevert waits for the deployment Nomad started when it reverted
// the job after failed, follows it, and describes its outcome.
func (c *Cluster) followRevert(ctx context.Context, r *Release, failed *nomadapi.Deployment) string {
	deadline := c.Now().Add(time.Minute)
	for c.Now().Before(deadline) {
		dep, _, err := c.Nomad.Jobs().LatestDeployment(r.Dep.Job, r.query(ctx))
		if err == nil && dep != nil && dep.ID != failed.ID && dep.JobVersion > failed.JobVersion {
			if dep, err = c.follow(ctx, r, dep.ID); err != nil {
				return "could not follow the revert: " + err.Error()
			}
			return "the revert's deployment " + short(dep.ID) + " " + dep.Status
		}
		if err := c.sleep(ctx); err != nil {
			return "stopped watching the revert"
		}
	}
	return "no deployment for the revert: the reverted version placed nothing new"
}
