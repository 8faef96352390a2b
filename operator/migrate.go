package operator

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// attemptMeta is the upgrade job's meta key that deploy sets to a fresh
// value on every submission.
//
// Why: Nomad does nothing when an unchanged batch job is submitted again,
// so after a failed migration (a database that was down, a bug fixed in
// the data) the same job would never run again. The alternatives are
// worse: `stop -purge` then run throws away the failed allocation that
// explains the failure, and a parameterized job must be registered and
// dispatched in two steps, with the release passed as a dispatch argument
// that the job file no longer shows. A fresh meta value makes each
// submission a new job version that Nomad runs, keeps every earlier
// attempt in the job's history, and needs nothing from the generator.
// Running upgrade_db more than once is not a risk: `kantree-nomad migrate`
// records each release in its ledger under an advisory lock and skips a
// release already applied.
//
// deploy submits the job only when the migration is not already done:
// when the running job is the rendered one (this meta aside) and its
// latest allocation completed, the release is migrated and nothing is
// submitted (no archive download, no new job version).
const attemptMeta = "kantree_nomad_attempt"

// migration is what Nomad knows of the release's upgrade job.
type migration struct {
	running *nomadapi.Job // nil when Nomad has none
	plan    *nomadapi.JobPlanResponse
	last    *nomadapi.AllocationListStub // newest allocation of the running version
}

// same reports whether the running job is the rendered one.
func (m *migration) same() bool {
	return m.running != nil && m.plan.Diff != nil && !changed(m.plan.Diff.Type)
}

// stopped reports whether the running job was stopped.
func (m *migration) stopped() bool {
	return m.running != nil && m.running.Stop != nil && *m.running.Stop
}

// done reports whether this release's migration has completed.
func (m *migration) done() bool {
	return m.same() && !m.stopped() && m.last != nil && m.last.ClientStatus == nomadapi.AllocClientStatusComplete
}

// migrationState plans the rendered upgrade job against the running one
// (carrying its attempt value, so that only real changes show) and finds
// the newest allocation of the running version.
func (c *Cluster) migrationState(ctx context.Context, r *Release) (*migration, error) {
	id := r.Dep.UpgradeJob
	m := &migration{}
	var err error
	if m.running, err = c.jobInfo(ctx, r, id); err != nil {
		return nil, err
	}
	job := copyJob(r.Bundle.UpgradeDB)
	if m.running != nil && m.running.Meta[attemptMeta] != "" {
		job.Meta[attemptMeta] = m.running.Meta[attemptMeta]
	}
	if m.plan, _, err = c.Nomad.Jobs().Plan(job, true, r.write(ctx)); err != nil {
		return nil, nomadError("plan job "+id, err)
	}
	if m.running != nil {
		if m.last, err = c.newestAlloc(ctx, r, id, version(m.running)); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Migrate runs the release's migration and waits until it ends. When the
// migration fails it prints the failed allocation's events and the end of
// its stderr, stops the upgrade job (so that Nomad does not retry it
// unattended, behind a deploy that reported a failure) and returns an
// error wrapping ErrFailed; the service job is not touched.
func (c *Cluster) Migrate(ctx context.Context, r *Release) error {
	id := r.Dep.UpgradeJob
	m, err := c.migrationState(ctx, r)
	if err != nil {
		return err
	}
	if m.done() {
		c.printf("==> Migration: release %s already migrated (job %s version %d, allocation %s complete)", r.Version(), id, version(m.running), short(m.last.ID))
		return nil
	}
	job := copyJob(r.Bundle.UpgradeDB)
	job.Meta[attemptMeta] = c.Now().UTC().Format(time.RFC3339Nano)
	resp, _, err := c.Nomad.Jobs().Register(job, r.write(ctx))
	if err != nil {
		return nomadError("submit job "+id, err)
	}
	running, err := c.jobInfo(ctx, r, id)
	if err != nil || running == nil {
		return fmt.Errorf("read job %s after submitting it: %w", id, err)
	}
	c.printf("==> Migration: job %s version %d, release %s (evaluation %s)", id, version(running), r.Version(), short(resp.EvalID))
	return c.awaitMigration(ctx, r, version(running), resp.EvalID)
}

// awaitMigration follows the allocations of version v of the upgrade job
// until one completes or fails, printing their task events.
func (c *Cluster) awaitMigration(ctx context.Context, r *Release, v uint64, evalID string) error {
	id := r.Dep.UpgradeJob
	start := c.Now()
	seen := newEventLog(c.Out, start)
	warned := false
	for {
		a, err := c.newestAlloc(ctx, r, id, v)
		if err != nil {
			return err
		}
		if a == nil && !warned {
			warned = c.reportUnplaced(ctx, r, evalID)
		}
		if a != nil {
			seen.print(a)
			switch a.ClientStatus {
			case nomadapi.AllocClientStatusComplete:
				c.printf("    migrated to %s in %s (allocation %s)", r.Version(), c.Now().Sub(start).Round(100*time.Millisecond), short(a.ID))
				return nil
			case nomadapi.AllocClientStatusFailed:
				return c.migrationFailed(ctx, r, a)
			}
		}
		if err := c.sleep(ctx); err != nil {
			return c.interrupted(fmt.Sprintf("nomad job status %s", id))
		}
	}
}

// migrationFailed reports a failed migration and stops the upgrade job.
func (c *Cluster) migrationFailed(ctx context.Context, r *Release, a *nomadapi.AllocationListStub) error {
	id := r.Dep.UpgradeJob
	c.printf("==> Migration failed: allocation %s of job %s", short(a.ID), id)
	c.inspectAlloc(ctx, r, a.ID)
	if _, _, err := c.Nomad.Jobs().Deregister(id, false, r.write(ctx)); err != nil {
		c.printf("    (could not stop job %s: %v; Nomad may retry it on its own)", id, err)
	} else {
		c.printf("    stopped job %s so that Nomad does not retry it unattended; its allocations stay for inspection", id)
	}
	c.printf("    the service job %s was not changed", r.Dep.Job)
	return rules.WithHint(fmt.Errorf("migration to %s failed: %w", r.Version(), ErrFailed),
		"Fix the cause shown above, then run the same deploy command again: it runs the migration again, and migrate's ledger applies a release only once.")
}

// newestAlloc returns the most recently created allocation of version v
// of job id, or nil.
func (c *Cluster) newestAlloc(ctx context.Context, r *Release, id string, v uint64) (*nomadapi.AllocationListStub, error) {
	allocs, _, err := c.Nomad.Jobs().Allocations(id, true, r.query(ctx))
	if err != nil {
		return nil, nomadError("list allocations of "+id, err)
	}
	var newest *nomadapi.AllocationListStub
	for _, a := range allocs {
		if a.JobVersion == v && (newest == nil || a.CreateIndex > newest.CreateIndex) {
			newest = a
		}
	}
	return newest, nil
}

// reportUnplaced prints, once the evaluation is complete, why Nomad could
// not place the job yet; it reports whether it printed.
func (c *Cluster) reportUnplaced(ctx context.Context, r *Release, evalID string) bool {
	ev, _, err := c.Nomad.Evaluations().Info(evalID, r.query(ctx))
	if err != nil || ev.Status != nomadapi.EvalStatusComplete || len(ev.FailedTGAllocs) == 0 {
		return false
	}
	for group, m := range ev.FailedTGAllocs {
		c.printf("    waiting: no node can run group %q yet (%s)", group, placementText(m))
	}
	return true
}

// placementText summarizes why Nomad could not place a group.
func placementText(m *nomadapi.AllocationMetric) string {
	avail := 0
	for _, n := range m.NodesAvailable {
		avail += n
	}
	s := fmt.Sprintf("%d of %d nodes evaluated", m.NodesEvaluated, avail)
	for reason, n := range m.ConstraintFiltered {
		s += fmt.Sprintf("; %d filtered by %s", n, reason)
	}
	for reason, n := range m.DimensionExhausted {
		s += fmt.Sprintf("; %d without enough %s", n, reason)
	}
	return s
}

// copyJob returns a deep copy of job (through its JSON form) with a
// non-nil Meta, so that deploy's changes never reach the bundle.
func copyJob(job *nomadapi.Job) *nomadapi.Job {
	data, err := json.Marshal(job)
	if err != nil {
		panic(fmt.Sprintf("operator: copy job: %v", err)) // api.Job always encodes
	}
	var out nomadapi.Job
	if err := json.Unmarshal(data, &out); err != nil {
		panic(fmt.Sprintf("operator: copy job: %v", err))
	}
	if out.Meta == nil {
		out.Meta = map[string]string{}
	}
	return &out
}
