package operator

import (
	"context"
	"errors"
	"fmt"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// RotationMeta is the group meta key `rotate` sets to a new value to make
// Nomad replace the group's allocations. Meta is part of a task's
// environment (NOMAD_META_*), so a change is destructive: Nomad rolls the
// group by its update block, as for a release. Deploy keeps the running
// value (keepRotation), so a later release does not roll for it again.
const RotationMeta = "kantree_secrets_rotation"

// Rotate brings the secrets as they are now in Nomad Variables or Vault
// to every instance without an outage. The secret templates do nothing
// when a value changes (change_mode "noop"); Rotate makes Nomad roll the
// running job, as a release would, by setting RotationMeta on its
// groups, in two deployments:
//
//  1. web alone: its canary starts with the new values and must pass its
//     health check (which needs the database) before any old instance
//     stops. A bad value (a wrong database password) fails the canary;
//     Nomad reverts web (auto_revert); every other group was never
//     touched, so the whole cluster keeps serving with the old values
//     already loaded.
//  2. every other group (push, workers, scheduler), by their update
//     blocks: one at a time, workers stopped with their kill_timeout as
//     on any stop, the scheduler handing its Consul lock over.
//
// Without a web group, one deployment rolls everything. The running job
// is what is rolled (not what kantree.hcl renders now): each submission
// carries the job's modify index, so a concurrent change is refused, and
// a deployment in progress makes Rotate refuse to start.
func (c *Cluster) Rotate(ctx context.Context, r *Release) error {
	job, err := c.rotatable(ctx, r)
	if err != nil {
		return err
	}
	stamp := c.Now().UTC().Format(time.RFC3339Nano)
	c.printf("==> Secrets rotation %s of job %s (version %d)", stamp, r.Dep.Job, version(job))
	phases := rotationPhases(job)
	for i, groups := range phases {
		if i > 0 {
			if job, err = c.jobInfo(ctx, r, r.Dep.Job); err != nil {
				return err
			}
		}
		c.printf("==> Step %d of %d: restart %s with the current secrets", i+1, len(phases), joinNames(groups))
		if err := c.rotateGroups(ctx, r, job, groups, stamp); err != nil {
			return c.rotationFailed(r, i, phases, err)
		}
	}
	c.printf("==> Every instance of job %s restarted with the secrets as of %s", r.Dep.Job, stamp)
	return nil
}

// rotatable reads the running job and refuses to roll it while a
// deployment of it is active, or when it does not run.
func (c *Cluster) rotatable(ctx context.Context, r *Release) (*nomadapi.Job, error) {
	id := r.Dep.Job
	job, err := c.jobInfo(ctx, r, id)
	if err != nil {
		return nil, err
	}
	if job == nil || str(job.Status) == "dead" || (job.Stop != nil && *job.Stop) {
		return nil, rules.WithHint(fmt.Errorf("rotate: job %s is not running", id),
			"New values reach instances when they start: deploy the job with kantree-nomad deploy.")
	}
	dep, _, err := c.Nomad.Jobs().LatestDeployment(id, r.query(ctx))
	if err != nil {
		return nil, nomadError("read latest deployment of "+id, err)
	}
	if dep != nil && (dep.Status == nomadapi.DeploymentStatusRunning || dep.Status == nomadapi.DeploymentStatusPaused ||
		dep.Status == nomadapi.DeploymentStatusPending || dep.Status == nomadapi.DeploymentStatusBlocked) {
		return nil, rules.WithHint(fmt.Errorf("rotate: deployment %s of job %s is %s", short(dep.ID), id, dep.Status),
			"Wait for it to end (nomad deployment status "+dep.ID+"); its new instances already read the current secrets. Then rotate again if some instances started before the change.")
	}
	return job, nil
}

// rotationPhases is web alone, then the other groups; one phase when the
// job has no web group (or nothing else).
func rotationPhases(job *nomadapi.Job) [][]string {
	var web, rest []string
	for _, g := range job.TaskGroups {
		if str(g.Name) == "web" {
			web = append(web, "web")
		} else {
			rest = append(rest, str(g.Name))
		}
	}
	if len(web) == 0 || len(rest) == 0 {
		return [][]string{append(web, rest...)}
	}
	return [][]string{web, rest}
}

// rotateGroups submits job with RotationMeta set to stamp on groups and
// watches the deployment Nomad makes of it.
func (c *Cluster) rotateGroups(ctx context.Context, r *Release, job *nomadapi.Job, groups []string, stamp string) error {
	next := copyJob(job)
	for _, name := range groups {
		g := findGroup(next, name)
		if g.Meta == nil {
			g.Meta = map[string]string{}
		}
		g.Meta[RotationMeta] = stamp
	}
	evalID, err := c.register(ctx, r, next, *job.JobModifyIndex)
	if err != nil {
		return err
	}
	c.printf("    job %s version %d -> %d", r.Dep.Job, version(job), version(job)+1)
	return c.watchEval(ctx, r, evalID, false)
}

// rotationFailed says what runs with which values after phase i failed.
// An interrupted watch keeps its own error (Nomad goes on).
func (c *Cluster) rotationFailed(r *Release, i int, phases [][]string, err error) error {
	if errors.Is(err, ErrInterrupted) {
		return err
	}
	if i+1 < len(phases) {
		c.printf("    not restarted: %s (running with the values they started with)", joinNames(phases[i+1]))
	}
	return rules.WithHint(fmt.Errorf("rotate job %s: step %d (%s): %w", r.Dep.Job, i+1, joinNames(phases[i]), err),
		"The instances that did not restart keep serving with the values they started with. Nomad does not go back to the old value: "+
			"it is no longer in the secret store, and an instance that restarts on its own (a crash, a lost node) reads the new one. "+
			"Put a correct value (nomad var put, or vault kv put) and run kantree-nomad rotate again.")
}

// keepRotation copies the running job's RotationMeta into job, per group,
// so that deploying kantree.hcl does not roll a group only because a
// rotation marked it.
func keepRotation(job, running *nomadapi.Job) {
	if running == nil {
		return
	}
	for _, g := range job.TaskGroups {
		rg := findGroup(running, str(g.Name))
		if rg == nil || rg.Meta[RotationMeta] == "" {
			continue
		}
		if g.Meta == nil {
			g.Meta = map[string]string{}
		}
		g.Meta[RotationMeta] = rg.Meta[RotationMeta]
	}
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}
