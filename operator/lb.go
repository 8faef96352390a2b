package operator

import (
	"context"
	"fmt"
	"strings"
	"time"

	consulapi "github.com/hashicorp/consul/api"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// lbWaitBase is how long deploy waits for the load balancer's system job
// to run on every node it was placed on, plus its update stagger for each
// of those nodes (Nomad replaces them one at a time).
const lbWaitBase = 2 * time.Minute

// lbPlan is Nomad's plan of the load balancer's system job (<job>-lb),
// rendered when kantree.hcl has load_balancer { system_job {} }.
type lbPlan struct {
	job     *nomadapi.Job                  // what deploy submits
	running *nomadapi.Job                  // nil when Nomad has none
	allocs  []*nomadapi.AllocationListStub // of the running job
	serving int                            // its allocations that run
	resp    *nomadapi.JobPlanResponse
}

// changed reports whether submitting the job would change anything.
func (p *lbPlan) changed() bool { return p.resp.Diff == nil || changed(p.resp.Diff.Type) }

// first reports whether no load balancer runs yet: no job, a stopped
// one, or one with no allocation running (see lbFirst).
func (p *lbPlan) first() bool {
	return p.running == nil || (p.running.Stop != nil && *p.running.Stop) || p.serving == 0
}

// planLB plans the load balancer's job; nil when the file renders none.
func (c *Cluster) planLB(ctx context.Context, r *Release) (*lbPlan, error) {
	if r.Bundle.LB == nil {
		return nil, nil
	}
	p := &lbPlan{job: copyJob(r.Bundle.LB)}
	id := str(p.job.ID)
	var err error
	if p.running, err = c.jobInfo(ctx, r, id); err != nil {
		return nil, err
	}
	if p.running != nil {
		if p.allocs, _, err = c.Nomad.Jobs().Allocations(id, false, r.query(ctx)); err != nil {
			return nil, nomadError("list allocations of "+id, err)
		}
		p.serving = progressOf(p.allocs, version(p.running)).serving
	}
	if p.resp, _, err = c.Nomad.Jobs().Plan(p.job, true, r.write(ctx)); err != nil {
		return nil, nomadError("plan job "+id, err)
	}
	return p, nil
}

// lbFirst reports whether deploy submits the load balancer before the
// service job.
//
// Why two orders: a load balancer that does not run yet (a first deploy,
// a system_job block just added, or a job that runs on no node) is
// submitted before the service job,
// so that it listens, with its maintenance page, before the first web
// instance passes its check: no instance is ever healthy behind no load
// balancer, and nothing ran before that a failed release could disturb. A
// running load balancer is changed only after the service job's
// deployment succeeded: a release that fails (migration, health check,
// Nomad's revert) leaves it exactly as it was, as it leaves the service
// job, and the new routing goes live only in front of instances that
// passed their checks.
func lbFirst(p *lbPlan) bool { return p != nil && p.first() }

// deployLB submits the load balancer's job (re-planned now, with the
// plan's index enforced) and waits until it runs on every node Nomad
// placed it on. An unchanged job is left alone.
func (c *Cluster) deployLB(ctx context.Context, r *Release) error {
	p, err := c.planLB(ctx, r)
	if err != nil || p == nil {
		return err
	}
	id := str(p.job.ID)
	if !p.changed() {
		c.printf("==> Load balancer job %s: no change (version %d)", id, version(p.running))
		return nil
	}
	c.printf("==> Load balancer job %s: %s (system job)", id, lbSubmitText(p))
	evalID, err := c.register(ctx, r, p.job, p.resp.JobModifyIndex)
	if err != nil {
		return err
	}
	ev, err := c.awaitEval(ctx, r, id, evalID)
	if err != nil {
		return err
	}
	running, err := c.jobInfo(ctx, r, id)
	if err != nil || running == nil {
		return fmt.Errorf("read job %s after submitting it: %w", id, err)
	}
	return c.awaitSystemJob(ctx, r, running, ev)
}

func lbSubmitText(p *lbPlan) string {
	if p.running == nil {
		return "new job"
	}
	return fmt.Sprintf("version %d -> %d", version(p.running), version(p.running)+1)
}

// systemProgress is where the allocations of a system job stand against
// version v: those Nomad wants running, how many of them run v, and the
// failed ones of v.
type systemProgress struct {
	wanted, running int
	serving         int // running, whatever their version
	failed          []*nomadapi.AllocationListStub
	waiting         []*nomadapi.AllocationListStub // wanted, not yet running v
	current         []*nomadapi.AllocationListStub // running v
}

func progressOf(allocs []*nomadapi.AllocationListStub, v uint64) systemProgress {
	var p systemProgress
	for _, a := range allocs {
		if a.JobVersion == v && a.ClientStatus == nomadapi.AllocClientStatusFailed {
			p.failed = append(p.failed, a)
		}
		if a.DesiredStatus != nomadapi.AllocDesiredStatusRun {
			continue
		}
		p.wanted++
		if a.ClientStatus == nomadapi.AllocClientStatusRunning {
			p.serving++
		}
		if a.JobVersion == v && a.ClientStatus == nomadapi.AllocClientStatusRunning {
			p.running++
			p.current = append(p.current, a)
		} else {
			p.waiting = append(p.waiting, a)
		}
	}
	return p
}

// text is the progress line: "running 1 of 2 nodes".
func (p systemProgress) text() string {
	return fmt.Sprintf("running %d of %d nodes, failed %d", p.running, p.wanted, len(p.failed))
}

// awaitSystemJob waits until every allocation of the system job that
// Nomad wants running runs the job's version; a system job has no
// deployment in Nomad 1.6 to watch. Nodes that do not match the job's
// constraints get no allocation and are not waited for. It fails, with
// the inspection deploy prints for any failure, when an allocation of the
// version failed, when Nomad placed it on no node, or when the bound
// (lbWaitBase plus the update stagger for each node) passes.
func (c *Cluster) awaitSystemJob(ctx context.Context, r *Release, job *nomadapi.Job, ev *nomadapi.Evaluation) error {
	id, v := str(job.ID), version(job)
	for group, m := range ev.FailedTGAllocs {
		c.printf("    no node can run group %q (%s)", group, placementText(m))
	}
	start := c.Now()
	last := ""
	// A Nomad outage is ridden out as the deployment's watch does, and
	// the time Nomad did not answer is not counted against lbWait: the
	// job could not be seen, not seen failing.
	out := c.newOutage(fmt.Sprintf("load balancer job %s version %d", id, v), "nomad job status "+id)
	var blind time.Duration
	for {
		asked := c.Now()
		allocs, _, err := c.Nomad.Jobs().Allocations(id, false, r.query(ctx))
		wait, err := out.check(ctx, "list allocations of "+id, err)
		if err != nil {
			return err
		}
		if wait > 0 {
			if c.pause(ctx, wait) != nil {
				return c.interrupted("nomad job status " + id)
			}
			blind += c.Now().Sub(asked) + wait
			continue
		}
		p := progressOf(allocs, v)
		line := p.text()
		var unchecked []*nomadapi.AllocationListStub
		if p.running == p.wanted && p.wanted > 0 && len(p.failed) == 0 {
			if unchecked, err = c.uncheckedLB(ctx, r.Dep.LB.SystemJob.Service, p.current); err != nil {
				return err
			}
			line += fmt.Sprintf(", passing its check on %d", p.running-len(unchecked))
		}
		if line != last {
			last = line
			c.printf("    %7s  %s", c.since(start), line)
		}
		switch {
		case len(p.failed) > 0:
			return c.systemJobFailed(ctx, r, id, p.failed, "an allocation failed")
		case p.wanted == 0:
			return c.systemJobUnplaced(job, exhausted(ev))
		case p.running == p.wanted && len(unchecked) == 0:
			c.printf("==> Load balancer job %s version %d running and passing its check on %d nodes after %s", id, v, p.running, c.Now().Sub(start).Round(time.Second))
			return nil
		case c.Now().Sub(start)-blind > lbWait(job, p.wanted) && p.running < p.wanted:
			return c.systemJobFailed(ctx, r, id, p.waiting, fmt.Sprintf("not running on every node after %s", lbWait(job, p.wanted)))
		case c.Now().Sub(start)-blind > lbWait(job, p.wanted):
			return c.systemJobFailed(ctx, r, id, unchecked, fmt.Sprintf("running, but not passing its check on every node after %s", lbWait(job, p.wanted)))
		}
		if err := c.sleep(ctx); err != nil {
			return c.interrupted("nomad job status " + id)
		}
	}
}

// uncheckedLB returns the allocations whose load-balancer service is not
// (yet) registered in Consul with every check passing: a task that runs
// is not yet an nginx that serves. Nomad names a group service
// "_nomad-task-<allocation ID>-group-...", and a service's checks include
// its node's.
func (c *Cluster) uncheckedLB(ctx context.Context, service string, allocs []*nomadapi.AllocationListStub) ([]*nomadapi.AllocationListStub, error) {
	entries, _, err := c.Consul.Health().Service(service, "", false, consulQuery(ctx))
	if err != nil {
		return nil, consulError("read the health of "+service, err)
	}
	var out []*nomadapi.AllocationListStub
	for _, a := range allocs {
		found, passing := false, true
		for _, e := range entries {
			if e.Service != nil && strings.Contains(e.Service.ID, a.ID) {
				found = true
				passing = passing && e.Checks.AggregatedStatus() == consulapi.HealthPassing
			}
		}
		if !found || !passing {
			out = append(out, a)
		}
	}
	return out, nil
}

// lbWait is the bound of awaitSystemJob for a job on n nodes.
func lbWait(job *nomadapi.Job, n int) time.Duration {
	d := lbWaitBase
	if job.Update != nil && job.Update.Stagger != nil {
		d += time.Duration(n) * *job.Update.Stagger
	}
	return d
}

// systemJobFailed prints why the allocations (at most three) do not run.
func (c *Cluster) systemJobFailed(ctx context.Context, r *Release, id string, allocs []*nomadapi.AllocationListStub, why string) error {
	c.printf("==> Load balancer job %s: %s", id, why)
	for _, a := range allocs[:min(3, len(allocs))] {
		c.inspectAlloc(ctx, r, a.ID)
	}
	return rules.WithHint(fmt.Errorf("load balancer job %s: %s: %w", id, why, ErrFailed),
		"The cause is shown above ('nomad job status "+id+"' for the rest); fix it on the load-balancer nodes or in kantree.hcl's system_job block, then run deploy again.")
}

// systemJobUnplaced is the error when Nomad placed the job on no node:
// none matches its node class, or (blocked) those that do lack what it
// needs, as printed above.
func (c *Cluster) systemJobUnplaced(job *nomadapi.Job, blocked bool) error {
	id := str(job.ID)
	c.printf("==> Load balancer job %s: Nomad placed it on no node", id)
	if blocked {
		return rules.WithHint(fmt.Errorf("load balancer job %s runs on no node: the nodes of its class cannot run it: %w", id, ErrFailed),
			"Free what Nomad names above on the load-balancer nodes (the listen port, memory), then run deploy again.")
	}
	class := lbNodeClass(job)
	return rules.WithHint(fmt.Errorf("load balancer job %s runs on no node: no ready node has node class %q: %w", id, class, ErrFailed),
		fmt.Sprintf("Set node_class = %q in the client block of each load-balancer host's Nomad agent (or system_job { node_class } in kantree.hcl to the class they have), then run deploy again.", class))
}

// exhausted reports whether the evaluation found nodes the job fits but
// that lack a resource (a port, memory), not only nodes filtered out.
func exhausted(ev *nomadapi.Evaluation) bool {
	for _, m := range ev.FailedTGAllocs {
		if m.NodesExhausted > 0 {
			return true
		}
	}
	return false
}

// lbNodeClass is the node class the job is constrained to.
func lbNodeClass(job *nomadapi.Job) string {
	for _, k := range job.Constraints {
		if k.LTarget == "${node.class}" {
			return k.RTarget
		}
	}
	return ""
}

// printLBPlan prints the load balancer's part of `plan`.
func (c *Cluster) printLBPlan(p *lbPlan) {
	id := str(p.job.ID)
	switch {
	case !p.changed():
		c.printf("Job %s (load balancer, system job): no change (version %d)", id, version(p.running))
		return
	case lbFirst(p):
		c.printf("Job %s (load balancer, system job): new; deploy submits it before the service job", id)
	default:
		c.printf("Job %s (load balancer, system job): changes (running version %d); deploy submits them once the service job's deployment succeeds", id, version(p.running))
	}
	printJobDiff(c.Out, p.resp.Diff, p.resp.Annotations)
	c.printPlanNotes(p.resp)
}

// printLBJob prints the load balancer's job and its allocations, for
// status, from its plan (nil: kantree.hcl renders none).
func (c *Cluster) printLBJob(p *lbPlan) {
	if p == nil {
		return
	}
	id, job := str(p.job.ID), p.running
	if job == nil {
		c.printf("Load balancer job %s: not running (deploy submits it)", id)
		return
	}
	prog := progressOf(p.allocs, version(job))
	c.printf("Load balancer job %s: %s, version %d, %s", id, str(job.Status), version(job), prog.text())
	for _, a := range p.allocs {
		if a.DesiredStatus == nomadapi.AllocDesiredStatusRun {
			c.printf("  %s on node %s: %s (version %d)", short(a.ID), a.NodeName, a.ClientStatus, a.JobVersion)
		}
	}
	if prog.wanted == 0 {
		c.printf("  no allocation: no ready node of class %q runs it", lbNodeClass(job))
	}
}

// printLBLeft says, under -detach, that a change to the running load
// balancer waits for a deploy that sees the service job succeed.
func (c *Cluster) printLBLeft(p *lbPlan) {
	if !p.changed() {
		return
	}
	c.printf("    the load balancer job %s has changes; deploy submits them only after the service job's deployment succeeds: run deploy again (without -detach) once it has", str(p.job.ID))
}
