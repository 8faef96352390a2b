package operator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// runTask is the group and task name of a `run` job.
const runTask = "run"

// RunOptions are the flags of `run`.
type RunOptions struct {
	// IgnoreMigration runs the command even when this release's migration
	// has not completed (another release's migration is pending or running).
	IgnoreMigration bool
	Stdout, Stderr  io.Writer // where the command's output goes
}

// RunCommand runs a one-off Kantree command (for example ./platform
// some_admin_command) as a Nomad batch job in the release's environment:
// the upgrade-db job's task (same archive and root, config-prod.yml,
// license and secrets templates, `kantree-nomad launch` doing init_node)
// with the command in place of the migration, never restarted nor
// rescheduled (an admin command must not run twice unasked). It streams
// the command's stdout and stderr, waits for it to end, purges the job
// and returns the command's exit code. It refuses while the release's
// migration is not done (unless IgnoreMigration). When ctx ends (Ctrl-C)
// it stops and purges the job and returns ErrInterrupted.
func (c *Cluster) RunCommand(ctx context.Context, r *Release, args []string, o RunOptions) (int, error) {
	if err := c.checkMigrated(ctx, r, o.IgnoreMigration); err != nil {
		return 0, err
	}
	job, err := runJob(r, args, c.Now())
	if err != nil {
		return 0, err
	}
	id := str(job.ID)
	// The job's ID is new (it carries the time), so it is submitted as a
	// job that must not exist yet: a submission whose answer is lost is
	// read back, and one that landed is followed, never submitted again
	// (the command would run twice).
	if _, err := c.register(ctx, r, job, 0); err != nil {
		return 0, err
	}
	defer c.purge(r, id)
	c.printf("==> Running %s as job %s (release %s)", strings.Join(args, " "), id, r.Version())
	alloc, err := c.awaitRunAlloc(ctx, r, id)
	if err != nil {
		return 0, err
	}
	c.streamRun(ctx, r, alloc, o)
	a, err := c.awaitRunEnd(ctx, r, alloc.ID)
	if err != nil {
		return 0, err
	}
	return c.runExit(ctx, r, a)
}

// checkMigrated refuses to run while the release's migration is not
// complete: a migration in progress, or the database not yet at this
// release.
func (c *Cluster) checkMigrated(ctx context.Context, r *Release, ignore bool) error {
	m, err := c.migrationState(ctx, r)
	if err != nil || m.done() {
		return err
	}
	why := fmt.Sprintf("the migration to %s has not completed", r.Version())
	if m.last != nil && (m.last.ClientStatus == nomadapi.AllocClientStatusRunning || m.last.ClientStatus == nomadapi.AllocClientStatusPending) {
		why = fmt.Sprintf("a migration is running (job %s, allocation %s)", r.Dep.UpgradeJob, short(m.last.ID))
	} else if m.running != nil && !m.same() {
		why = fmt.Sprintf("the last migration (job %s, Kantree %s) is of another release than the file's %s", r.Dep.UpgradeJob, m.running.Meta["kantree_version"], r.Version())
	}
	if ignore {
		c.printf("    warning: %s; running anyway (-ignore-migration)", why)
		return nil
	}
	return rules.WithHint(fmt.Errorf("run: %s", why),
		"Run the command once kantree-nomad deploy has migrated this release, or add -ignore-migration if it must run against the database as it is.")
}

// runJob is the upgrade-db job with args in place of the migration.
func runJob(r *Release, args []string, now time.Time) (*nomadapi.Job, error) {
	job := copyJob(r.Bundle.UpgradeDB)
	id := fmt.Sprintf("%s-run-%d", r.Dep.Job, now.UnixMilli())
	job.ID, job.Name = &id, &id
	delete(job.Meta, attemptMeta)
	job.Meta["kantree_nomad_run"] = "one-off command"
	g := job.TaskGroups[0]
	g.Name = new(runTask)
	g.ReschedulePolicy = &nomadapi.ReschedulePolicy{Attempts: new(0), Unlimited: new(false)}
	g.RestartPolicy = &nomadapi.RestartPolicy{Attempts: new(0), Mode: new("fail")}
	g.Volumes = nil // the backup volume is migrate's; an admin command needs none
	t := g.Tasks[0]
	t.Name = runTask
	t.VolumeMounts = nil
	targs := stringList(t.Config["args"])
	at := indexOf(targs, "launch")
	if at < 0 {
		return nil, fmt.Errorf("run: the upgrade-db job's command has no launch step")
	}
	launch := targs[at:]
	dash := indexOf(launch, "--")
	t.Config["args"] = append(append([]string(nil), launch[:dash+1]...), literalArgs(args)...)
	t.Env["KANTREE_INSTANCE_ID"] = "${NOMAD_ALLOC_ID}"
	return job, nil
}

// literalArgs escapes what Nomad would evaluate in a task's arguments
// (HCL interpolation "${...}" and directives "%{...}"), so the command
// runs exactly as typed: `${y}` is passed as ${y}, not refused by the
// client as an unknown variable, and `${NOMAD_ALLOC_ID}` is not expanded.
func literalArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		a = strings.ReplaceAll(a, "${", "$${")
		out[i] = strings.ReplaceAll(a, "%{", "%%{")
	}
	return out
}

// stringList reads a task's args, []any after copyJob's JSON round trip.
func stringList(v any) []string {
	var out []string
	switch l := v.(type) {
	case []string:
		out = append(out, l...)
	case []any:
		for _, e := range l {
			s, _ := e.(string)
			out = append(out, s)
		}
	}
	return out
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// awaitRunAlloc waits (bounded by 2 minutes) until the job has an
// allocation on a node.
func (c *Cluster) awaitRunAlloc(ctx context.Context, r *Release, id string) (*nomadapi.AllocationListStub, error) {
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		allocs, _, err := c.Nomad.Jobs().Allocations(id, true, r.query(wctx))
		if err == nil && len(allocs) > 0 {
			return allocs[0], nil
		}
		if err := c.sleep(wctx); err != nil {
			if ctx.Err() != nil {
				return nil, ErrInterrupted
			}
			return nil, rules.WithHint(fmt.Errorf("run: job %s was not placed on any node in 2 minutes: %w", id, ErrFailed),
				"nomad job status "+id+" shows why (it is purged when this command ends).")
		}
	}
}

// streamRun copies the task's stdout and stderr to o's writers until the
// task ends (its streams close) or ctx ends.
func (c *Cluster) streamRun(ctx context.Context, r *Release, stub *nomadapi.AllocationListStub, o RunOptions) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // the streams end with the task; stop them if they do not
		c.awaitRunEnd(sctx, r, stub.ID)
		time.Sleep(3 * time.Second)
		cancel()
	}()
	var wg sync.WaitGroup
	for kind, w := range map[string]io.Writer{"stdout": o.Stdout, "stderr": o.Stderr} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.copyLog(sctx, r, stub.ID, kind, w)
		}()
	}
	wg.Wait()
}

// copyLog follows one log of the run task, once it has started.
func (c *Cluster) copyLog(ctx context.Context, r *Release, allocID, kind string, w io.Writer) {
	var a *nomadapi.Allocation
	for {
		var err error
		a, _, err = c.Nomad.Allocations().Info(allocID, r.query(ctx))
		if err == nil && a.TaskStates[runTask] != nil && (!a.TaskStates[runTask].StartedAt.IsZero() || a.TaskStates[runTask].State == "dead") {
			break
		}
		if c.sleep(ctx) != nil {
			return
		}
	}
	frames, errs := c.Nomad.AllocFS().Logs(a, true, runTask, kind, nomadapi.OriginStart, 0, ctx.Done(), (&nomadapi.QueryOptions{}).WithContext(ctx))
	for {
		select {
		case f, ok := <-frames:
			if !ok {
				return
			}
			w.Write(f.Data)
		case _, ok := <-errs:
			if !ok {
				errs = nil
			}
		case <-ctx.Done():
			return
		}
	}
}

// awaitRunEnd waits until the allocation is terminal.
func (c *Cluster) awaitRunEnd(ctx context.Context, r *Release, allocID string) (*nomadapi.Allocation, error) {
	for {
		a, _, err := c.Nomad.Allocations().Info(allocID, r.query(ctx))
		if err == nil && a.ClientTerminalStatus() {
			return a, nil
		}
		if err := c.sleep(ctx); err != nil {
			return nil, ErrInterrupted
		}
	}
}

// runExit is the command's exit code from the task's Terminated event.
// A task that never ran is an error, with its events.
func (c *Cluster) runExit(ctx context.Context, r *Release, a *nomadapi.Allocation) (int, error) {
	ts := a.TaskStates[runTask]
	if ts != nil {
		for i := len(ts.Events) - 1; i >= 0; i-- {
			if e := ts.Events[i]; e.Type == nomadapi.TaskTerminated {
				c.printf("==> %s exited with code %d (allocation %s)", runTask, e.ExitCode, short(a.ID))
				return e.ExitCode, nil
			}
		}
	}
	c.inspectAlloc(ctx, r, a.ID)
	return 0, rules.WithHint(fmt.Errorf("run: the command did not run (allocation %s %s): %w", short(a.ID), a.ClientStatus, ErrFailed),
		"The task's events above say why (an archive that cannot be fetched, a template that cannot render).")
}

// purge stops and removes the run job, bounded, whatever ctx became.
func (c *Cluster) purge(r *Release, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, _, err := c.Nomad.Jobs().Deregister(id, true, r.write(ctx)); err != nil && !errors.Is(err, context.Canceled) {
		c.printf("    warning: could not purge job %s: %v (remove it with: nomad job stop -purge %s)", id, err, id)
		return
	}
	c.printf("    job %s purged", id)
}
