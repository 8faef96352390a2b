package operator

import (
	"context"
	"fmt"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// Rollback returns the service job to the release that ran before the
// current one and, unless detach is set, watches the deployment.
//
// "Before" is by release history, not by version number: the job's
// versions, oldest first, make a stack of releases; a version of a new
// release pushes it, and a version of a release already on the stack (a
// rollback, Nomad's auto-revert after a failed deployment, or deploying
// an older release again) pops back to it. Versions of the same release
// (`nomad job scale`, a changed setting) do not move the stack. The target
// is the release under the current one, in its newest stable version;
// so rollback twice goes back twice, and never to the release just
// backed out of.
//
// That version's job is submitted again (what Nomad's own revert does)
// with the counts chosen by deploy's rule, the old version standing in
// for kantree.hcl: a group keeps its current count when `nomad job scale`
// reached it from the count the old version says (counts.go). The
// submission enforces the current job's modify index, so a change made
// in between is refused.
//
// It refuses, with the reason, when: the job is not running; a deployment
// is in progress (let it end, or fail it); no older release is in the
// history Nomad keeps; the older release never ran stable; it is a newer
// release than the current one; or it is of an older major version than
// the database was migrated to. Going back within a major release is what
// every rolling release already does: the old allocations serve on the
// new schema until they are replaced, and preflight accepts a schema at
// or after the process's release.
func (c *Cluster) Rollback(ctx context.Context, r *Release, detach bool) error {
	id := r.Dep.Job
	cur, target, err := c.rollbackTarget(ctx, r)
	if err != nil {
		return err
	}
	if err := c.checkSchema(ctx, r, target); err != nil {
		return err
	}
	scale, err := c.scaleStatus(ctx, r, id)
	if err != nil {
		return err
	}
	job := copyJob(target)
	job.Stable = new(false)
	counts := chooseCounts(job, cur, scale, fmt.Sprintf("version %d", version(target)))
	c.printf("==> Rolling job %s back from version %d (Kantree %s) to version %d (Kantree %s)",
		id, version(cur), cur.Meta["kantree_version"], version(target), target.Meta["kantree_version"])
	for _, ch := range counts {
		c.printf("    %s", ch)
	}
	evalID, err := c.register(ctx, r, job, *cur.JobModifyIndex)
	if err != nil {
		return err
	}
	return c.watchEval(ctx, r, evalID, detach)
}

// rollbackTarget returns the current version of the job and the stable
// version to return to, or an error saying why there is none.
func (c *Cluster) rollbackTarget(ctx context.Context, r *Release) (cur, target *nomadapi.Job, err error) {
	id := r.Dep.Job
	refuse := func(format string, args ...any) error {
		return rules.WithHint(fmt.Errorf("rollback of job %s refused: "+format, append([]any{id}, args...)...),
			"'kantree-nomad status' shows the job's versions and deployment; 'nomad job history "+id+"' lists every version.")
	}
	dep, _, err := c.Nomad.Jobs().LatestDeployment(id, r.query(ctx))
	if err != nil && !isNotFound(err) {
		return nil, nil, nomadError("read the latest deployment of "+id, err)
	}
	if dep != nil && active(dep.Status) {
		return nil, nil, refuse("deployment %s is %s; let it end or fail it first (nomad deployment fail %s)", short(dep.ID), dep.Status, short(dep.ID))
	}
	versions, _, _, err := c.Nomad.Jobs().Versions(id, false, r.query(ctx))
	if isNotFound(err) || (err == nil && len(versions) == 0) {
		return nil, nil, refuse("Nomad has no such job")
	}
	if err != nil {
		return nil, nil, nomadError("read versions of "+id, err)
	}
	cur = versions[0]
	hist := releaseHistory(versions)
	if len(hist) < 2 {
		return nil, nil, refuse("nothing older to return to: Kantree %s is the oldest release in the %d versions Nomad keeps", cur.Meta["kantree_version"], len(versions))
	}
	now, prev := hist[len(hist)-1], hist[len(hist)-2]
	if prev.job == nil {
		return nil, nil, refuse("the release before Kantree %s, %s, never ran as a stable version", now.release, prev.release)
	}
	if pv, err1 := rules.ParseVersion(prev.release); err1 == nil {
		if nv, err2 := rules.ParseVersion(now.release); err2 == nil && nv.Compare(pv) < 0 {
			return nil, nil, refuse("the release that ran before Kantree %s is %s, a newer one: rollback only goes back (deploy %s to go forward)", now.release, prev.release, prev.release)
		}
	}
	return cur, prev.job, nil
}

// historyEntry is one release of the job's history, with its newest
// stable version while it was the current release (nil: never stable).
type historyEntry struct {
	release string
	job     *nomadapi.Job
}

// releaseHistory returns the stack of releases the job's versions
// (newest first, as Nomad lists them) make, the current release last.
func releaseHistory(versions []*nomadapi.Job) []historyEntry {
	var stack []historyEntry
	for i := len(versions) - 1; i >= 0; i-- {
		v := versions[i]
		rel := v.Meta["kantree_version"]
		k := len(stack) - 1
		for k >= 0 && stack[k].release != rel {
			k--
		}
		if k >= 0 {
			stack = stack[:k+1]
		} else {
			stack = append(stack, historyEntry{release: rel})
		}
		if v.Stable != nil && *v.Stable {
			stack[len(stack)-1].job = v
		}
	}
	return stack
}

// checkSchema refuses a target whose Kantree release is of an older major
// version than the release the database was migrated to.
func (c *Cluster) checkSchema(ctx context.Context, r *Release, target *nomadapi.Job) error {
	migrated, err := c.migratedRelease(ctx, r)
	if err != nil {
		return err
	}
	old := target.Meta["kantree_version"]
	mv, err1 := rules.ParseVersion(migrated)
	ov, err2 := rules.ParseVersion(old)
	if err1 != nil || err2 != nil {
		c.printf("    (release of the database %q or of version %d %q unknown: schema not compared)", migrated, version(target), old)
		return nil
	}
	if ov.Major < mv.Major {
		c.printRestoreSteps(ctx, r, version(target))
		return rules.WithHint(fmt.Errorf("rollback of job %s refused: version %d runs Kantree %s, but the database was migrated to %s, a newer major release", r.Dep.Job, version(target), old, migrated),
			"Code of an older major release may not run on the migrated schema. Restore the database backup taken before the upgrade, then revert with nomad job revert.")
	}
	return nil
}
