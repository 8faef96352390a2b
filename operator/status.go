package operator

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
)

// Status prints, for the operator: the service job and its latest
// deployment; per group, allocations desired, running and healthy; the
// scheduler lock (holder allocation and node, standbys, since when the
// holder runs); the load balancer's system job and its allocations, when
// kantree.hcl has one; the load balancer's view (passing web and push instances
// in Consul); the release the migration reached; and drift, whether the
// running job differs from what deploy would submit now. It returns
// whether the job has drifted.
func (c *Cluster) Status(ctx context.Context, r *Release) (drift bool, err error) {
	id := r.Dep.Job
	job, err := c.jobInfo(ctx, r, id)
	if err != nil {
		return false, err
	}
	if job == nil {
		c.printf("Job %s: not running (deploy it with kantree-nomad deploy)", id)
		return false, nil
	}
	allocs, _, err := c.Nomad.Jobs().Allocations(id, false, r.query(ctx))
	if err != nil {
		return false, nomadError("list allocations of "+id, err)
	}
	c.printJob(ctx, r, job)
	if err := c.printGroups(ctx, r, job, allocs); err != nil {
		return false, err
	}
	c.printLock(ctx, r, allocs)
	lb, err := c.planLB(ctx, r) // read once: its job and allocations, and its drift
	if err != nil {
		return false, err
	}
	c.printLBJob(lb)
	c.printLB(ctx, r)
	c.printMaintenance(ctx, r)
	c.printRelease(ctx, r)
	c.printBackup(ctx, r)
	return c.printDrift(ctx, r, lb)
}

func (c *Cluster) printJob(ctx context.Context, r *Release, job *nomadapi.Job) {
	stable := ""
	if job.Stable != nil && *job.Stable {
		stable = ", stable"
	}
	c.printf("Job %s: %s, version %d%s, Kantree %s", str(job.ID), str(job.Status), version(job), stable, job.Meta["kantree_version"])
	dep, _, err := c.Nomad.Jobs().LatestDeployment(str(job.ID), r.query(ctx))
	if err == nil && dep != nil {
		c.printf("  latest deployment %s (version %d): %s: %s", short(dep.ID), dep.JobVersion, dep.Status, dep.StatusDescription)
	}
}

func (c *Cluster) printGroups(ctx context.Context, r *Release, job *nomadapi.Job, allocs []*nomadapi.AllocationListStub) error {
	scale, err := c.scaleStatus(ctx, r, str(job.ID))
	if err != nil {
		return err
	}
	running := map[string]int{}
	for _, a := range allocs {
		if a.ClientStatus == nomadapi.AllocClientStatusRunning {
			running[a.TaskGroup]++
		}
	}
	c.printf("Groups:")
	for _, g := range job.TaskGroups {
		name := str(g.Name)
		line := fmt.Sprintf("  %-12s desired %d  running %d", name, num(g.Count), running[name])
		if scale != nil {
			if s, ok := scale.TaskGroups[name]; ok {
				line += fmt.Sprintf("  healthy %d  unhealthy %d", s.Healthy, s.Unhealthy)
			}
		}
		c.printf("%s", line)
	}
	return nil
}

// printLock prints who holds the scheduler lock in Consul. supervise
// writes its check ID, "kantree-lock-<allocation ID>", as the key's value.
func (c *Cluster) printLock(ctx context.Context, r *Release, allocs []*nomadapi.AllocationListStub) {
	key := r.Dep.Lock.Key
	holder, session, err := c.lockHolder(ctx, key)
	switch {
	case err != nil:
		c.printf("Scheduler lock %s: %v", key, err)
	case holder == "":
		c.printf("Scheduler lock %s: not held", key)
	default:
		c.printf("Scheduler lock %s: held by allocation %s%s%s (Consul session %s on node %s)", key, short(holder), runningSince(allocs, holder, c.Now()),
			heldFor(session.Acquired, c.Now()), short(session.ID), session.Node)
	}
	var standbys []string
	for _, a := range allocs {
		if a.TaskGroup == "scheduler" && a.ClientStatus == nomadapi.AllocClientStatusRunning && a.ID != holder {
			standbys = append(standbys, short(a.ID)+" on "+a.NodeName)
		}
	}
	if len(standbys) > 0 {
		c.printf("  standbys: %s", strings.Join(standbys, ", "))
	}
}

// lockHolder returns the allocation holding the lock and its session.
func (c *Cluster) lockHolder(ctx context.Context, key string) (string, *consulSession, error) {
	kv, _, err := c.Consul.KV().Get(key, consulQuery(ctx))
	if err != nil {
		return "", nil, consulError("read lock key "+key, err)
	}
	if kv == nil || kv.Session == "" {
		return "", nil, nil
	}
	s, _, err := c.Consul.Session().Info(kv.Session, consulQuery(ctx))
	if err != nil {
		return "", nil, consulError("read lock session", err)
	}
	sess := &consulSession{ID: kv.Session}
	if kv.Flags > 0 {
		sess.Acquired = time.UnixMilli(int64(kv.Flags)) // supervise records it there
	}
	if s != nil {
		sess.Node = s.Node
	}
	return strings.TrimPrefix(string(kv.Value), "kantree-lock-"), sess, nil
}

// consulSession is the part of a Consul session status shows, with the
// time supervise acquired the lock (zero when an older supervise holds it).
type consulSession struct {
	ID, Node string
	Acquired time.Time
}

// runningSince says where the holder runs and since when its scheduler
// task runs: how long it has held the lock at most (Consul keeps no time
// of acquisition).
func runningSince(allocs []*nomadapi.AllocationListStub, id string, now time.Time) string {
	for _, a := range allocs {
		if a.ID != id {
			continue
		}
		s := " on node " + a.NodeName
		if ts := a.TaskStates["scheduler"]; ts != nil && !ts.StartedAt.IsZero() {
			s += fmt.Sprintf(", scheduler running for %s", now.Sub(ts.StartedAt).Round(time.Second))
		}
		return s
	}
	return " (not an allocation of this job)"
}

// printLB prints the instances the load balancer routes to: the passing
// instances of the web and push services in Consul.
func (c *Cluster) printLB(ctx context.Context, r *Release) {
	c.printf("Load balancer (Consul catalog):")
	for _, p := range r.Dep.Processes {
		if p.Service == "" {
			continue
		}
		all, _, err := c.Consul.Health().Service(p.Service, "", false, consulQuery(ctx))
		if err != nil {
			c.printf("  %s: %v", p.Service, consulError("read service "+p.Service, err))
			continue
		}
		var passing []string
		for _, e := range all {
			if e.Checks.AggregatedStatus() == "passing" {
				passing = append(passing, fmt.Sprintf("%s:%d", e.Service.Address, e.Service.Port))
			}
		}
		sort.Strings(passing)
		c.printf("  %-20s %d of %d passing: %s", p.Service, len(passing), len(all), strings.Join(passing, " "))
	}
}

// printRelease prints the release the database was last migrated to, as
// the upgrade job's newest completed allocation reports it.
func (c *Cluster) printRelease(ctx context.Context, r *Release) {
	id := r.Dep.UpgradeJob
	rel, alloc, err := c.migratedRelease(ctx, r)
	switch {
	case err != nil:
		c.printf("Release: %v", err)
	case rel == "":
		c.printf("Release: no completed migration in job %s (kantree.hcl names %s)", id, r.Version())
	default:
		c.printf("Release: database migrated to %s by allocation %s of job %s (kantree.hcl names %s)", rel, short(alloc), id, r.Version())
	}
}

// migratedRelease returns the release of the upgrade job's newest
// completed allocation ("" when there is none).
func (c *Cluster) migratedRelease(ctx context.Context, r *Release) (string, string, error) {
	id := r.Dep.UpgradeJob
	allocs, _, err := c.Nomad.Jobs().Allocations(id, true, r.query(ctx))
	if isNotFound(err) {
		return "", "", nil
	}
	if err != nil {
		return "", "", nomadError("list allocations of "+id, err)
	}
	var done *nomadapi.AllocationListStub
	for _, a := range allocs {
		if a.ClientStatus == nomadapi.AllocClientStatusComplete && (done == nil || a.CreateIndex > done.CreateIndex) {
			done = a
		}
	}
	if done == nil {
		return "", "", nil
	}
	versions, _, _, err := c.Nomad.Jobs().Versions(id, false, r.query(ctx))
	if err != nil {
		return "", "", nomadError("read versions of "+id, err)
	}
	for _, v := range versions {
		if version(v) == done.JobVersion {
			return v.Meta["kantree_version"], done.ID, nil
		}
	}
	return "(version no longer in Nomad's history)", done.ID, nil
}

// printDrift plans the service job as deploy would submit it, and shows
// the plan of the load balancer's system job, lb (nil: none): Nomad's diff
// type None means the running job is what kantree.hcl renders now. A
// load balancer that is not running at all is drift too: deploy would
// submit it.
func (c *Cluster) printDrift(ctx context.Context, r *Release, lb *lbPlan) (bool, error) {
	p, err := c.PlanService(ctx, r)
	if err != nil {
		return false, err
	}
	drift := p.Changed()
	if drift {
		c.printf("Drift: the running job differs from what kantree.hcl renders now (%s):", diffSummary(p.Resp.Diff))
		printJobDiff(c.Out, p.Resp.Diff, p.Resp.Annotations)
	}
	if lb != nil && lb.changed() {
		drift = true
		c.printf("Drift: the load balancer job %s differs from what kantree.hcl renders now (%s):", str(lb.job.ID), diffSummary(lb.resp.Diff))
		printJobDiff(c.Out, lb.resp.Diff, lb.resp.Annotations)
	}
	if !drift {
		c.printf("Drift: none; the running jobs are what kantree.hcl renders now")
	}
	return drift, nil
}

// heldFor says how long the lock has been held, when supervise recorded
// the time it acquired it.
func heldFor(acquired, now time.Time) string {
	if acquired.IsZero() {
		return ""
	}
	return fmt.Sprintf(", lock held for %s", now.Sub(acquired).Round(time.Second))
}
