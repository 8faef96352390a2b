package operator

import (
	"context"

	nomadapi "github.com/hashicorp/nomad/api"
)

// ServicePlan is Nomad's plan of the service job as deploy would submit
// it: the rendered job with the counts chosen against the running job.
type ServicePlan struct {
	Job     *nomadapi.Job // what deploy submits
	Running *nomadapi.Job // nil when the job is new
	Resp    *nomadapi.JobPlanResponse
	Counts  []CountChoice
}

// Changed reports whether submitting the job would change anything.
func (p *ServicePlan) Changed() bool {
	return p.Resp.Diff == nil || changed(p.Resp.Diff.Type)
}

// PlanService plans the service job. Its JobModifyIndex is what Submit
// enforces.
func (c *Cluster) PlanService(ctx context.Context, r *Release) (*ServicePlan, error) {
	id := r.Dep.Job
	running, err := c.jobInfo(ctx, r, id)
	if err != nil {
		return nil, err
	}
	scale, err := c.scaleStatus(ctx, r, id)
	if err != nil {
		return nil, err
	}
	p := &ServicePlan{Job: copyJob(r.Bundle.Service), Running: running}
	keepRotation(p.Job, running)
	p.Counts = chooseCounts(p.Job, running, scale, "kantree.hcl")
	if p.Resp, _, err = c.Nomad.Jobs().Plan(p.Job, true, r.write(ctx)); err != nil {
		return nil, nomadError("plan job "+id, err)
	}
	return p, nil
}

// PlanResult is what `plan` reports on the jobs of the release.
type PlanResult struct {
	Service   *ServicePlan
	Migration *nomadapi.JobPlanResponse
	// MigrationRuns is true when deploy would run the migration (the
	// upgrade job changed, is new, was stopped or did not complete).
	MigrationRuns bool
	// lb is the plan of the load balancer's system job; nil when
	// kantree.hcl has no system_job block.
	lb *lbPlan
}

// Changed reports whether deploy would change anything.
func (p *PlanResult) Changed() bool {
	return p.MigrationRuns || p.Service.Changed() || (p.lb != nil && p.lb.changed())
}

// Plan plans the jobs of the release (the migration, the service job and,
// with a system_job block, the load balancer) and prints them, per group.
func (c *Cluster) Plan(ctx context.Context, r *Release) (*PlanResult, error) {
	m, err := c.migrationState(ctx, r)
	if err != nil {
		return nil, err
	}
	svc, err := c.PlanService(ctx, r)
	if err != nil {
		return nil, err
	}
	lb, err := c.planLB(ctx, r)
	if err != nil {
		return nil, err
	}
	res := &PlanResult{Service: svc, Migration: m.plan, MigrationRuns: !m.done(), lb: lb}
	c.printMigrationPlan(r, m)
	if lbFirst(lb) { // in the order deploy submits them
		c.printLBPlan(lb)
	}
	c.printServicePlan(r, svc)
	if lb != nil && !lbFirst(lb) {
		c.printLBPlan(lb)
	}
	return res, nil
}

func (c *Cluster) printMigrationPlan(r *Release, m *migration) {
	id := r.Dep.UpgradeJob
	switch {
	case m.done():
		c.printf("Job %s (migration): no change; release %s migrated (allocation %s exit code 0, %s)", id, r.Version(), short(m.last.ID), m.verdict.ledgerText())
		return
	case m.inProgress() && m.same():
		c.printf("Job %s (migration): %s runs the migration to %s now; deploy waits for it", id, m.holderText(), r.Version())
		return
	case m.inProgress():
		c.printf("Job %s (migration): %s runs another migration now; deploy waits for it to end, then migrates to %s", id, m.holderText(), r.Version())
	case m.running == nil:
		c.printf("Job %s (migration): new; deploy runs it to migrate to %s", id, r.Version())
	case m.same():
		c.printf("Job %s (migration): unchanged, but its last run %s; deploy runs it again", id, lastRunText(m))
	default:
		c.printf("Job %s (migration): changed; deploy runs it to migrate to %s", id, r.Version())
	}
	printJobDiff(c.Out, m.plan.Diff, m.plan.Annotations)
}

func lastRunText(m *migration) string {
	switch {
	case m.stopped():
		return "was stopped"
	case m.last == nil:
		return "has no allocation"
	case m.verdict != nil:
		return "did not migrate: " + m.verdict.reason
	}
	return "is " + m.last.ClientStatus
}

func (c *Cluster) printServicePlan(r *Release, p *ServicePlan) {
	id := r.Dep.Job
	switch {
	case p.Running == nil:
		c.printf("Job %s: new", id)
	case !p.Changed():
		c.printf("Job %s: no change (version %d)", id, version(p.Running))
	default:
		c.printf("Job %s: changes (running version %d)", id, version(p.Running))
	}
	for _, ch := range p.Counts {
		c.printf("    %s", ch)
	}
	printJobDiff(c.Out, p.Resp.Diff, p.Resp.Annotations)
	c.printPlanNotes(p.Resp)
}

// printPlanNotes prints the groups Nomad cannot place and its warnings.
func (c *Cluster) printPlanNotes(resp *nomadapi.JobPlanResponse) {
	for group, m := range resp.FailedTGAllocs {
		c.printf("    warning: Nomad cannot place group %q now (%s)", group, placementText(m))
	}
	if resp.Warnings != "" {
		c.printf("    Nomad warns: %s", resp.Warnings)
	}
}
