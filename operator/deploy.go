package operator

import "context"

// Deploy runs a release: it checks the Nomad agent's version against the
// file's nomad_version, runs the migration and waits for it, then submits
// the service job (planned first, submitted with the plan's index, counts
// from `nomad job scale` kept) and watches its deployment to the end.
// With detach it returns once the service job is submitted; the
// migration is always waited for, since the service job must not start
// before it.
func (c *Cluster) Deploy(ctx context.Context, r *Release, detach bool) error {
	if _, err := c.CheckNomadVersion(ctx, r); err != nil {
		return err
	}
	if err := c.Migrate(ctx, r); err != nil {
		return err
	}
	p, err := c.PlanService(ctx, r)
	if err != nil {
		return err
	}
	return c.DeployService(ctx, r, p, detach)
}
