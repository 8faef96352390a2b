package operator

import "context"

// Deploy runs a release: it checks the Nomad agent's version against the
// file's nomad_version, runs the migration and waits for it, then submits
// the service job (planned first, submitted with the plan's index, counts
// from `nomad job scale` kept) and watches its deployment to the end.
// With a system_job block it also submits the load balancer's job and
// waits until it runs: before the service job when none runs yet, after
// the service job's deployment succeeded otherwise (lbFirst says why).
// With detach it returns once the service job is submitted; the
// migration is always waited for, since the service job must not start
// before it, and a change to a running load balancer is then left for
// the next deploy.
func (c *Cluster) Deploy(ctx context.Context, r *Release, detach bool) error {
	if _, err := c.CheckNomadVersion(ctx, r); err != nil {
		return err
	}
	if err := c.Migrate(ctx, r); err != nil {
		return err
	}
	lb, err := c.planLB(ctx, r)
	if err != nil {
		return err
	}
	if lbFirst(lb) {
		if err := c.deployLB(ctx, r); err != nil {
			c.printf("    the service job %s was not submitted", r.Dep.Job)
			return err
		}
	}
	p, err := c.PlanService(ctx, r)
	if err != nil {
		return err
	}
	if err := c.DeployService(ctx, r, p, detach); err != nil {
		if lb != nil && !lbFirst(lb) {
			c.printf("    the load balancer job %s was not changed", str(lb.job.ID))
		}
		return err
	}
	if lb == nil || lbFirst(lb) {
		return nil
	}
	if detach {
		c.printLBLeft(lb)
		return nil
	}
	return c.deployLB(ctx, r)
}
