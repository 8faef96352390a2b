package operator

import (
	"context"
	"fmt"
	"sort"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// Rollback returns the service job to its previous stable version through
// Nomad's revert (enforcing the current version, so that a concurrent
// change is refused) and, unless detach is set, watches the deployment.
//
// It refuses, with the reason, when: the job is not running; a deployment
// is in progress (let it end, or fail it); there is no stable version
// before the current one; or the previous version runs a Kantree release
// of an older major version than the database was migrated to. Going back
// within a major release is what every rolling release already does: the
// old allocations serve on the new schema until they are replaced, and
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
	c.printf("==> Rolling job %s back from version %d (Kantree %s) to version %d (Kantree %s)",
		id, version(cur), cur.Meta["kantree_version"], version(target), target.Meta["kantree_version"])
	enforce := version(cur)
	resp, _, err := c.Nomad.Jobs().Revert(id, version(target), &enforce, r.write(ctx), "", "")
	if err != nil {
		return nomadError(fmt.Sprintf("revert job %s to version %d", id, version(target)), err)
	}
	dep, err := c.awaitDeployment(ctx, r, resp.EvalID)
	if err != nil || dep == nil || detach {
		return err
	}
	return c.Watch(ctx, r, dep.ID)
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
	sort.Slice(versions, func(i, j int) bool { return version(versions[i]) > version(versions[j]) })
	cur = versions[0]
	for _, v := range versions[1:] {
		if v.Stable != nil && *v.Stable {
			return cur, v, nil
		}
	}
	return nil, nil, refuse("no stable version before version %d in Nomad's history", version(cur))
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
		return rules.WithHint(fmt.Errorf("rollback of job %s refused: version %d runs Kantree %s, but the database was migrated to %s, a newer major release", r.Dep.Job, version(target), old, migrated),
			"Code of an older major release may not run on the migrated schema. Restore the database backup taken before the upgrade, then revert with nomad job revert.")
	}
	return nil
}
