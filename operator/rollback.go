package operator

import (
	"context"
	"fmt"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// Rollback returns the service job to the stable version before the
// current release and, unless detach is set, watches the deployment.
//
// The version it returns to is the newest stable one that differs from
// the current job in more than group counts: a version made by `nomad job
// scale` is the same release, and returning to it would undo the scaling,
// not the release. That version's job is submitted again (what Nomad's
// own revert does) with the counts chosen by deploy's rule, the old
// version standing in for kantree.hcl: a group keeps its current count
// when `nomad job scale` reached it from the count the old version says
// (counts.go). The submission enforces the current job's modify index, so
// a change made in between is refused.
//
// It refuses, with the reason, when: the job is not running; a deployment
// is in progress (let it end, or fail it); there is no such stable
// version; or that version runs a Kantree release of an older major
// version than the database was migrated to. Going back within a major
// release is what every rolling release already does: the old
// allocations serve on the new schema until they are replaced, and
// preflight accepts a schema at or after the process's release.
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
	versions, diffs, _, err := c.Nomad.Jobs().Versions(id, true, r.query(ctx))
	if isNotFound(err) || (err == nil && len(versions) == 0) {
		return nil, nil, refuse("Nomad has no such job")
	}
	if err != nil {
		return nil, nil, nomadError("read versions of "+id, err)
	}
	cur = versions[0]
	if i := previousRelease(versions, diffs); i > 0 {
		return cur, versions[i], nil
	}
	return nil, nil, refuse("no stable version before version %d in Nomad's history that differs in more than counts", version(cur))
}

// previousRelease returns the index in versions of the newest stable
// version that differs from versions[0] in more than group counts, or -1.
// Nomad lists versions newest first, diffs[i] being the change from
// versions[i+1] to versions[i].
func previousRelease(versions []*nomadapi.Job, diffs []*nomadapi.JobDiff) int {
	scaledOnly := true // versions[0] differs from versions[i] only in counts
	for i := 1; i < len(versions); i++ {
		if version(versions[i]) >= version(versions[i-1]) || i-1 >= len(diffs) {
			return -1 // not the order Nomad documents: refuse rather than guess
		}
		scaledOnly = scaledOnly && onlyCounts(diffs[i-1])
		if !scaledOnly && versions[i].Stable != nil && *versions[i].Stable {
			return i
		}
	}
	return -1
}

// checkSchema refuses a target whose Kantree release is of an older major
// version than the release the database was migrated to.
func (c *Cluster) checkSchema(ctx context.Context, r *Release, target *nomadapi.Job) error {
	migrated, _, err := c.migratedRelease(ctx, r)
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
