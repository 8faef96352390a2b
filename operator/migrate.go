package operator

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	// verdict judges last once it ended; nil while it runs or when there
	// is none, or when the running job is not the rendered one.
	verdict *verdict
}

// same reports whether the running job is the rendered one.
func (m *migration) same() bool {
	return m.running != nil && m.plan.Diff != nil && !changed(m.plan.Diff.Type)
}

// stopped reports whether the running job was stopped.
func (m *migration) stopped() bool {
	return m.running != nil && m.running.Stop != nil && *m.running.Stop
}

// done reports whether this release's migration has completed: the
// running job is the rendered one and its newest allocation ran migrate
// to a ledger record of the release, exit code 0.
func (m *migration) done() bool {
	return m.same() && !m.stopped() && m.verdict != nil && m.verdict.ok
}

// inProgress reports whether the running job's newest version is still
// to run or running: an allocation that has not ended, or none yet while
// Nomad still means to place one.
func (m *migration) inProgress() bool {
	if m.running == nil || m.stopped() {
		return false
	}
	if m.last != nil {
		return !terminal(m.last)
	}
	return str(m.running.Status) != "dead"
}

// holderText names the migration in progress, for the operator.
func (m *migration) holderText() string {
	s := fmt.Sprintf("version %d (Kantree %s", version(m.running), m.running.Meta["kantree_version"])
	if m.last != nil {
		s += fmt.Sprintf(", allocation %s %s on %s", short(m.last.ID), m.last.ClientStatus, m.last.NodeName)
	} else {
		s += ", not placed yet"
	}
	return s + ")"
}

// migrationState plans the rendered upgrade job against the running one
// (carrying its attempt value, so that only real changes show) and finds
// and judges the newest allocation of the running version.
func (c *Cluster) migrationState(ctx context.Context, r *Release) (*migration, error) {
	id := r.Dep.UpgradeJob
	m := &migration{}
	var err error
	if m.running, err = c.jobInfo(ctx, r, id); err != nil {
		return nil, err
	}
	job, err := upgradeJob(keptDecision(r, m.running))
	if err != nil {
		return nil, err
	}
	if m.running != nil && m.running.Meta[attemptMeta] != "" {
		job.Meta[attemptMeta] = m.running.Meta[attemptMeta]
	}
	if m.plan, _, err = c.Nomad.Jobs().Plan(job, true, r.write(ctx)); err != nil {
		return nil, nomadError("plan job "+id, err)
	}
	if m.running == nil {
		return m, nil
	}
	if m.last, err = c.newestAlloc(ctx, r, id, version(m.running)); err != nil {
		return nil, err
	}
	if m.same() && m.last != nil && terminal(m.last) {
		v := c.judge(ctx, r, m.last, r.Version())
		m.verdict = &v
	}
	return m, nil
}

// Migrate runs the release's migration and waits until it ends. When the
// migration fails it prints the failed allocation's events and the end of
// its stderr, stops the upgrade job (so that Nomad does not retry it
// unattended, behind a deploy that reported a failure) and returns an
// error wrapping ErrFailed; the service job is not touched.
//
// It never cuts a migration in progress: when the running upgrade job is
// the rendered one and its allocation has not ended (a deploy that was
// interrupted, or another operator's), it adopts that allocation and
// waits for it; when it is another release's (or another rendering's),
// it waits for it to end, saying whose it is, before submitting its own.
// The submission enforces the job's modify index as read, so that of two
// deploys that read the same state only one submits; the other reads
// again, and adopts or waits.
func (c *Cluster) Migrate(ctx context.Context, r *Release) error {
	id := r.Dep.UpgradeJob
	for {
		m, err := c.migrationState(ctx, r)
		if err != nil {
			return err
		}
		switch {
		case m.done():
			c.printf("==> Migration: release %s already migrated (job %s version %d, allocation %s exit code 0, %s)", r.Version(), id, version(m.running), short(m.last.ID), m.verdict.ledgerText())
			return nil
		case m.inProgress() && m.same():
			c.printf("==> Migration: job %s %s already runs the migration to %s; waiting for it (not submitting it again)", id, m.holderText(), r.Version())
			return c.awaitMigration(ctx, r, version(m.running), "")
		case m.inProgress():
			if err := c.awaitOther(ctx, r, m); err != nil {
				return err
			}
			continue
		}
		job, err := upgradeJob(r)
		if err != nil {
			return err
		}
		job.Meta[attemptMeta] = c.Now().UTC().Format(time.RFC3339Nano)
		index := uint64(0)
		if m.running != nil {
			index = *m.running.JobModifyIndex
		}
		evalID, err := c.register(ctx, r, job, index)
		if errors.Is(err, ErrConflict) {
			c.printf("==> Migration: job %s was submitted by someone else meanwhile; reading it again", id)
			continue
		}
		if err != nil {
			return err
		}
		// The submission changed the job (a fresh attempt value) of the
		// modify index read, so it made the next version: the one to
		// follow, whatever is submitted after it.
		v := uint64(0)
		if m.running != nil {
			v = version(m.running) + 1
		}
		c.printf("==> Migration: job %s version %d, release %s (evaluation %s)", id, v, r.Version(), short(evalID))
		return c.awaitMigration(ctx, r, v, evalID)
	}
}

// upgradeJob is the rendered upgrade job, with migrate told what the
// operator said about an unknown attempt (-unknown X -unknown-attempt N)
// when r.Unknown is set. The decision names its attempt so that it covers
// only what the operator checked: Nomad replaces a lost allocation of
// this job unattended, and a replacement must not rerun a newer attempt
// that was cut off in turn (it may have succeeded).
func upgradeJob(r *Release) (*nomadapi.Job, error) {
	job := copyJob(r.Bundle.UpgradeDB)
	if r.Unknown == "" {
		return job, nil
	}
	if r.UnknownAttempt <= 0 {
		return nil, fmt.Errorf("deploy: -unknown %s needs the attempt it is about (-unknown-attempt N)", r.Unknown)
	}
	for _, t := range job.TaskGroups[0].Tasks {
		args := stringList(t.Config["args"])
		if t.Name != migrateTask || len(args) == 0 || args[0] != "migrate" {
			continue
		}
		dash := indexOf(args, "--")
		if dash < 0 {
			return nil, fmt.Errorf("deploy: the upgrade-db job's migrate command has no \"--\"")
		}
		extra := []string{"-unknown", r.Unknown, "-unknown-attempt", strconv.Itoa(r.UnknownAttempt)}
		t.Config["args"] = append(append(append([]string(nil), args[:dash]...), extra...), args[dash:]...)
		return job, nil
	}
	return nil, fmt.Errorf("deploy: the upgrade-db job has no migrate task")
}

// keptDecision is r as the running upgrade job was submitted for it: when
// the operator says nothing of an unknown attempt (a plain deploy after
// `deploy -unknown X -unknown-attempt N`), the running job's decision
// flags are not a change of the release, so the comparison carries them,
// and a migration they completed is done rather than run again. A
// decision given now is compared as given. What Migrate submits, when it
// submits, is always upgradeJob(r): a decision is never passed on to a
// deploy that did not make it.
func keptDecision(r *Release, running *nomadapi.Job) *Release {
	if r.Unknown != "" || running == nil {
		return r
	}
	for _, tg := range running.TaskGroups {
		for _, t := range tg.Tasks {
			if t.Name != migrateTask {
				continue
			}
			args := stringList(t.Config["args"])
			if dash := indexOf(args, "--"); dash >= 0 {
				args = args[:dash]
			}
			u, a := indexOf(args, "-unknown"), indexOf(args, "-unknown-attempt")
			if u < 0 || a < 0 || u+1 >= len(args) || a+1 >= len(args) {
				return r
			}
			n, err := strconv.Atoi(args[a+1])
			if err != nil || n <= 0 {
				return r
			}
			kept := *r
			kept.Unknown, kept.UnknownAttempt = args[u+1], n
			return &kept
		}
	}
	return r
}

// awaitOther waits until the migration in progress of another version of
// the upgrade job ends; it never reports that migration's result as this
// release's.
func (c *Cluster) awaitOther(ctx context.Context, r *Release, m *migration) error {
	id := r.Dep.UpgradeJob
	c.printf("==> Migration: job %s %s runs another migration; release %s waits until it ends (it is not cut)", id, m.holderText(), r.Version())
	resume := fmt.Sprintf("nomad job status %s, then the same deploy again", id)
	out := c.newOutage(fmt.Sprintf("the other migration (job %s version %d)", id, version(m.running)), resume)
	out.hint = fmt.Sprintf("Once Nomad answers again, run the same deploy again: it waits for the other migration (nomad job status %s) to end, then runs release %s's.", id, r.Version())
	wait := time.Duration(0)
	for {
		if err := c.pause(ctx, cmp.Or(wait, c.Poll)); err != nil {
			return c.interrupted(resume)
		}
		cur, a, err := c.otherMigration(ctx, r, id)
		if wait, err = out.check(ctx, "read job "+id+" and its allocations", err); err != nil {
			c.printf("    the service job %s was not submitted", r.Dep.Job)
			return err
		}
		if wait > 0 {
			continue
		}
		if cur == nil || version(cur) != version(m.running) || *cur.JobModifyIndex != *m.running.JobModifyIndex {
			return nil
		}
		if (a != nil && terminal(a)) || (a == nil && str(cur.Status) == "dead") || (cur.Stop != nil && *cur.Stop) {
			c.printf("    the other migration ended (%s); going on with release %s", endText(a), r.Version())
			return nil
		}
	}
}

// otherMigration reads the upgrade job (nil when Nomad has none) and the
// newest allocation of its current version, with the client's error as
// it is, for a wait that rides out an outage.
func (c *Cluster) otherMigration(ctx context.Context, r *Release, id string) (*nomadapi.Job, *nomadapi.AllocationListStub, error) {
	cur, _, err := c.Nomad.Jobs().Info(id, r.query(ctx))
	if isNotFound(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	a, err := c.listNewest(ctx, r, id, version(cur))
	return cur, a, err
}

func endText(a *nomadapi.AllocationListStub) string {
	if a == nil {
		return "no allocation"
	}
	return "allocation " + short(a.ID) + " " + a.ClientStatus
}

// awaitMigration follows the allocations of version v of the upgrade job
// until one ends, printing their task events, and judges it: a success
// needs exit code 0 and the ledger's record of the release. A task that
// waits on a template it cannot render (a Nomad variable missing, or one
// its ACL may not read) is reported as a failure after templateWait.
func (c *Cluster) awaitMigration(ctx context.Context, r *Release, v uint64, evalID string) error {
	id := r.Dep.UpgradeJob
	start := c.Now()
	seen := newEventLog(c.Out, start)
	warned := false
	var stuckSince time.Time
	var followed *nomadapi.AllocationListStub
	out := c.newOutage(fmt.Sprintf("the migration (job %s version %d)", id, v), "nomad job status "+id)
	out.hint = fmt.Sprintf("Once Nomad answers again, nomad job status %s shows how the migration ended. Then run the same deploy again: it waits for the migration while it runs, submits nothing for a release already migrated, and goes on with the service job.", id)
	for {
		a, err := c.listNewest(ctx, r, id, v)
		wait, err := out.check(ctx, "list allocations of "+id, err)
		if err != nil {
			c.printf("    the service job %s was not submitted", r.Dep.Job)
			return err
		}
		if wait > 0 {
			if c.pause(ctx, wait) != nil {
				return c.interrupted(fmt.Sprintf("nomad job status %s", id))
			}
			continue
		}
		if a == nil && !warned && evalID != "" {
			warned = c.reportUnplaced(ctx, r, evalID)
		}
		if a != nil && followed != nil && a.ID != followed.ID {
			c.reportReplaced(ctx, r, followed, a)
		}
		if a != nil {
			followed = a
			seen.print(a)
			if terminal(a) {
				return c.migrationEnded(ctx, r, a, start)
			}
			if ev := missingTemplate(a); ev == nil {
				stuckSince = time.Time{}
			} else if stuckSince.IsZero() {
				stuckSince = c.Now()
			} else if c.Now().Sub(stuckSince) >= c.templateWait() {
				return c.migrationStuck(ctx, r, a, ev)
			}
		}
		if err := c.sleep(ctx); err != nil {
			return c.interrupted(fmt.Sprintf("nomad job status %s", id))
		}
	}
}

// reportReplaced says why deploy now follows allocation next: Nomad
// replaced the one it followed (lost with its node, or rescheduled).
func (c *Cluster) reportReplaced(ctx context.Context, r *Release, prev, next *nomadapi.AllocationListStub) {
	status := prev.ClientStatus
	if a, _, err := c.Nomad.Allocations().Info(prev.ID, r.query(ctx)); err == nil {
		status = a.ClientStatus
		// A lost allocation's client description is its last report
		// ("Tasks are running"); the server's says why it was replaced.
		if why := cmp.Or(a.DesiredDescription, a.ClientDescription); why != "" {
			status += " (" + why + ")"
		}
	}
	c.printf("    allocation %s on %s: %s; Nomad placed allocation %s on %s", short(prev.ID), prev.NodeName, status, short(next.ID), next.NodeName)
}

// migrationEnded judges the allocation that ended.
func (c *Cluster) migrationEnded(ctx context.Context, r *Release, a *nomadapi.AllocationListStub, start time.Time) error {
	v := c.judge(ctx, r, a, r.Version())
	if v.ok {
		c.printf("    migrated to %s in %s (allocation %s, exit code 0, %s)", r.Version(), c.Now().Sub(start).Round(100*time.Millisecond), short(a.ID), v.ledgerText())
		return nil
	}
	return c.migrationFailed(ctx, r, a, v)
}

// templateWait is how long a migration may wait on a template it cannot
// render before deploy reports it: a few polls, at least 15s (Nomad
// repeats the event while it waits).
func (c *Cluster) templateWait() time.Duration {
	return max(15*time.Second, 10*c.Poll)
}

// missingTemplate returns the newest task event of a that says a template
// waits for data it cannot read ("Template: Missing: nomad.var.block(...)"),
// when that is the task's latest word.
func missingTemplate(a *nomadapi.AllocationListStub) *nomadapi.TaskEvent {
	ts := a.TaskStates[migrateTask]
	if ts == nil || len(ts.Events) == 0 || !ts.StartedAt.IsZero() {
		return nil
	}
	e := ts.Events[len(ts.Events)-1]
	if e.Type == "Template" || strings.HasPrefix(e.DisplayMessage, "Missing:") {
		if strings.Contains(eventText(e), "Missing:") {
			return e
		}
	}
	return nil
}

// migrationStuck reports a migration whose template cannot render, with
// the ACL policy that lets the job read the variables, and stops the job.
func (c *Cluster) migrationStuck(ctx context.Context, r *Release, a *nomadapi.AllocationListStub, ev *nomadapi.TaskEvent) error {
	id := r.Dep.UpgradeJob
	c.printf("==> Migration stuck: allocation %s of job %s waits on a template it cannot render: %s", short(a.ID), id, eventText(ev))
	c.stopUpgradeJob(ctx, r)
	ns := r.Dep.Namespace
	if ns == "" {
		ns = "default"
	}
	return rules.WithHint(fmt.Errorf("migration to %s stuck: %s: %w", r.Version(), eventText(ev), ErrFailed),
		fmt.Sprintf("The variable is missing, or job %s may not read it. Put the secrets in it, or apply the policy rendered by kantree-nomad render: nomad acl policy apply -namespace %s -job %s %s-variables acl/nomad-workload-variables.policy.hcl; then run the same deploy again.", id, ns, id, id))
}

// stopUpgradeJob stops the upgrade job and says so.
func (c *Cluster) stopUpgradeJob(ctx context.Context, r *Release) {
	id := r.Dep.UpgradeJob
	if _, _, err := c.Nomad.Jobs().Deregister(id, false, r.write(ctx)); err != nil {
		c.printf("    (could not stop job %s: %v; Nomad may retry it on its own)", id, err)
	} else {
		c.printf("    stopped job %s so that Nomad does not retry it unattended; its allocations stay for inspection", id)
	}
	c.printf("    the service job %s was not submitted", r.Dep.Job)
}

// migrationFailed reports a failed migration and stops the upgrade job.
func (c *Cluster) migrationFailed(ctx context.Context, r *Release, a *nomadapi.AllocationListStub, v verdict) error {
	id := r.Dep.UpgradeJob
	reason, n := v.reason, 0
	if v.exitCode > 0 {
		if n = c.unknownAttempt(ctx, r, a, r.Version()); n > 0 {
			reason += fmt.Sprintf("; the ledger holds attempt %d of release %s as %s (no end recorded), and migrate runs nothing until told what happened", n, r.Version(), rules.LedgerUnknown)
		}
	}
	c.printf("==> Migration failed: allocation %s of job %s: %s", short(a.ID), id, reason)
	c.inspectAlloc(ctx, r, a.ID)
	if cur, err := c.jobInfo(ctx, r, id); err == nil && cur != nil && version(cur) != a.JobVersion {
		c.printf("    job %s is now at version %d (Kantree %s): it was submitted again while this migration ran", id, version(cur), cur.Meta["kantree_version"])
	} else {
		c.stopUpgradeJob(ctx, r)
	}
	if n > 0 {
		return rules.WithHint(fmt.Errorf("migration to %s failed: %s: %w", r.Version(), reason, ErrFailed),
			fmt.Sprintf("Attempt %d was cut off with no end recorded (its node or its connection to PostgreSQL was lost; the stderr above names its host), so it may have succeeded, and the same deploy would refuse again. "+
				"Check the database and that attempt's log, then run the same deploy with -unknown %s -unknown-attempt %d if it did not complete, or with -unknown %s -unknown-attempt %d if it did.",
				n, rules.UnknownRerun, n, rules.UnknownSucceeded, n))
	}
	return rules.WithHint(fmt.Errorf("migration to %s failed: %s: %w", r.Version(), reason, ErrFailed),
		"Fix the cause shown above, then run the same deploy command again: it runs the migration again, and migrate's ledger applies a release only once.")
}

// newestAlloc returns the most recently created allocation of version v
// of job id, or nil.
func (c *Cluster) newestAlloc(ctx context.Context, r *Release, id string, v uint64) (*nomadapi.AllocationListStub, error) {
	a, err := c.listNewest(ctx, r, id, v)
	if err != nil {
		return nil, nomadError("list allocations of "+id, err)
	}
	return a, nil
}

// listNewest is newestAlloc with the client's error as it is, for a
// watch that rides out an outage.
func (c *Cluster) listNewest(ctx context.Context, r *Release, id string, v uint64) (*nomadapi.AllocationListStub, error) {
	allocs, _, err := c.Nomad.Jobs().Allocations(id, true, r.query(ctx))
	if err != nil {
		return nil, err
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
