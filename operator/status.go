package operator

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
)

// StatusReport is what status found that the exit code must show.
type StatusReport struct {
	// Act lists what an operator must act on: nobody holds the scheduler
	// lock, the scheduler group is scaled to 0, the latest deployment
	// failed, the running release's migration is not recorded, the job
	// does not run.
	Act []string
	// Unreadable lists what could not be read (Consul or Nomad
	// unreachable, too slow or refusing), each error with its hint: the
	// status is incomplete.
	Unreadable []error
	// Drift is true when the running jobs differ from what kantree.hcl
	// renders now.
	Drift bool
	// deploying: the latest deployment is still running.
	deploying bool
}

func (s *StatusReport) act(format string, args ...any) {
	s.Act = append(s.Act, fmt.Sprintf(format, args...))
}

// Status prints, for the operator: the service job and its latest
// deployment; per group, allocations desired, running and healthy; the
// scheduler lock (holder allocation and node, standbys, since when the
// holder runs); the load balancer's system job and its allocations, when
// kantree.hcl has one; the load balancer's view (passing web and push instances
// in Consul); the release the migration reached; and drift, whether the
// running job differs from what deploy would submit now. It ends with a
// line that sums up what the operator must act on. An error means Nomad
// could not be read at all.
func (c *Cluster) Status(ctx context.Context, r *Release) (*StatusReport, error) {
	id := r.Dep.Job
	rep := &StatusReport{}
	job, err := c.jobInfo(ctx, r, id)
	if err != nil {
		return nil, err
	}
	if job == nil {
		c.printf("Job %s: not running (deploy it with kantree-nomad deploy)", id)
		rep.act("job %s does not run", id)
		c.printSummary(rep)
		return rep, nil
	}
	allocs, _, err := c.Nomad.Jobs().Allocations(id, false, r.query(ctx))
	if err != nil {
		return nil, nomadError("list allocations of "+id, err)
	}
	if err := c.printJob(ctx, r, job, rep); err != nil {
		return nil, err
	}
	if err := c.printGroups(ctx, r, job, allocs, rep); err != nil {
		return nil, err
	}
	c.printNodes(ctx, r, job, allocs, rep)
	c.printLock(ctx, r, allocs, rep)
	lb, err := c.planLB(ctx, r) // read once: its job and allocations, and its drift
	if err != nil {
		return nil, err
	}
	c.printLBJob(lb)
	c.printLB(ctx, r, rep)
	c.printMaintenance(ctx, r)
	running := job.Meta["kantree_version"]
	if ok, err := c.printRelease(ctx, r, running); err != nil {
		return nil, err
	} else if !ok {
		rep.act("the migration to %s, the running release, is not recorded", running)
	}
	c.printBackup(ctx, r)
	if rep.Drift, err = c.printDrift(ctx, r, lb); err != nil {
		return nil, err
	}
	c.printSummary(rep)
	return rep, nil
}

// printSummary prints status's last line.
func (c *Cluster) printSummary(rep *StatusReport) {
	switch {
	case len(rep.Unreadable) > 0:
		var what []string
		for _, err := range rep.Unreadable {
			what = append(what, err.Error())
		}
		c.printf("Status: incomplete: could not read %s", strings.Join(what, "; "))
	case len(rep.Act) > 0:
		c.printf("Status: act on: %s", strings.Join(rep.Act, "; "))
	case rep.Drift:
		c.printf("Status: running, but the jobs differ from kantree.hcl (deploy to apply it)")
	default:
		c.printf("Status: ok")
	}
}

func (c *Cluster) printJob(ctx context.Context, r *Release, job *nomadapi.Job, rep *StatusReport) error {
	stable := ""
	if job.Stable != nil && *job.Stable {
		stable = ", stable"
	}
	c.printf("Job %s: %s, version %d%s, Kantree %s", str(job.ID), str(job.Status), version(job), stable, job.Meta["kantree_version"])
	dep, _, err := c.Nomad.Jobs().LatestDeployment(str(job.ID), r.query(ctx))
	if err != nil && !isNotFound(err) {
		return nomadError("read the latest deployment of "+str(job.ID), err)
	}
	if dep != nil {
		c.printf("  latest deployment %s (version %d): %s: %s", short(dep.ID), dep.JobVersion, dep.Status, dep.StatusDescription)
		rep.deploying = dep.Status == nomadapi.DeploymentStatusRunning || dep.Status == nomadapi.DeploymentStatusPaused || dep.Status == nomadapi.DeploymentStatusPending
		if dep.Status == nomadapi.DeploymentStatusFailed || dep.Status == nomadapi.DeploymentStatusCancelled {
			rep.act("the latest deployment %s %s", short(dep.ID), dep.Status)
		}
	}
	return nil
}

func (c *Cluster) printGroups(ctx context.Context, r *Release, job *nomadapi.Job, allocs []*nomadapi.AllocationListStub, rep *StatusReport) error {
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
		if name == schedulerGroup && num(g.Count) == 0 {
			if want := findGroup(r.Bundle.Service, name); want != nil && num(want.Count) > 0 {
				rep.act("the scheduler group is scaled to 0 (kantree.hcl derives %d): no scheduler runs; deploy restores it", num(want.Count))
			}
		}
	}
	return nil
}

// printLock prints who holds the scheduler lock in Consul. supervise
// writes its check ID, "kantree-lock-<allocation ID>", as the key's value.
func (c *Cluster) printLock(ctx context.Context, r *Release, allocs []*nomadapi.AllocationListStub, rep *StatusReport) {
	key := r.Dep.Lock.Key
	holder, session, err := c.lockHolder(ctx, key)
	switch {
	case err != nil:
		c.printf("Scheduler lock %s: %v", key, err)
		rep.Unreadable = append(rep.Unreadable, err)
	case holder == "":
		c.printf("Scheduler lock %s: not held", key)
		rep.act("nobody holds the scheduler lock %s: no scheduler runs", key)
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
func (c *Cluster) printLB(ctx context.Context, r *Release, rep *StatusReport) {
	if len(rep.Unreadable) > 0 {
		c.printf("Load balancer (Consul catalog): not read, Consul did not answer above")
		return
	}
	c.printf("Load balancer (Consul catalog):")
	for _, p := range r.Dep.Processes {
		if p.Service == "" {
			continue
		}
		all, _, err := c.Consul.Health().Service(p.Service, "", false, consulQuery(ctx))
		if err != nil {
			err = consulError("read service "+p.Service, err)
			c.printf("  %s: %v", p.Service, err)
			rep.Unreadable = append(rep.Unreadable, err)
			return
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

// printRelease prints the release the database was migrated to for the
// running service job's release, as the upgrade job's allocations prove
// it (exit code 0 and the ledger's record); it reports whether that
// migration is recorded.
func (c *Cluster) printRelease(ctx context.Context, r *Release, running string) (bool, error) {
	id := r.Dep.UpgradeJob
	rec, err := c.migrationRecord(ctx, r, running)
	switch {
	case err != nil:
		return false, err
	case rec == nil:
		c.printf("Release: the migration to %s (the running release) is not recorded: no allocation of job %s ran migrate to the end with the ledger's record (kantree.hcl names %s)", running, id, r.Version())
		return false, nil
	}
	c.printf("Release: database migrated to %s by allocation %s of job %s (exit code 0, %s; kantree.hcl names %s)", running, short(rec.alloc), id, rec.v.ledgerText(), r.Version())
	return true, nil
}

// migrationRun is an allocation of the upgrade job that migrated.
type migrationRun struct {
	alloc, release string
	v              verdict
}

// maxJudged bounds how many ended allocations status and rollback read
// the output of.
const maxJudged = 4

// migrationRecord returns the newest allocation of the upgrade job that
// migrated release (any release when release is ""), or nil.
func (c *Cluster) migrationRecord(ctx context.Context, r *Release, release string) (*migrationRun, error) {
	id := r.Dep.UpgradeJob
	allocs, _, err := c.Nomad.Jobs().Allocations(id, true, r.query(ctx))
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, nomadError("list allocations of "+id, err)
	}
	versions, _, _, err := c.Nomad.Jobs().Versions(id, false, r.query(ctx))
	if err != nil && !isNotFound(err) {
		return nil, nomadError("read versions of "+id, err)
	}
	releaseOf := map[uint64]string{}
	for _, v := range versions {
		releaseOf[version(v)] = v.Meta["kantree_version"]
	}
	sort.Slice(allocs, func(i, j int) bool { return allocs[i].CreateIndex > allocs[j].CreateIndex })
	judged := 0
	for _, a := range allocs {
		rel, known := releaseOf[a.JobVersion]
		if a.ClientStatus != nomadapi.AllocClientStatusComplete || !known || (release != "" && rel != release) {
			continue
		}
		if judged++; judged > maxJudged {
			break
		}
		if v := c.judge(ctx, r, a, rel); v.ok {
			return &migrationRun{alloc: a.ID, release: rel, v: v}, nil
		}
	}
	return nil, nil
}

// migratedRelease returns the release the schema is at, by the newest
// migration the upgrade job's allocations prove ("" when none).
func (c *Cluster) migratedRelease(ctx context.Context, r *Release) (string, error) {
	run, err := c.migrationRecord(ctx, r, "")
	if err != nil || run == nil {
		return "", err
	}
	return run.v.ledger.Schema, nil
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
