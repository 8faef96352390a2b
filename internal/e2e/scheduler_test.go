package e2e_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/internal/kantreestub"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// steadyFor is how long the steady-state test watches: at least 3 minutes
// in CI (the floor); KANTREE_E2E_STEADY shortens it by hand.
func steadyFor(t *testing.T) time.Duration {
	if s := os.Getenv("KANTREE_E2E_STEADY"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("KANTREE_E2E_STEADY: %v", err)
		}
		return d
	}
	return 3 * time.Minute
}

// TestSchedulerOnNomad runs the service job with 0 and with 1 standby side
// by side and watches the stand-in scheduler's heartbeats: exactly one
// scheduler at least 99.9 % of the time, never two, no allocation stopped
// by Nomad. Then, with the standby, it fails the holder over through Nomad
// (nomad alloc stop) and by SIGKILL of its supervisor.
func TestSchedulerOnNomad(t *testing.T) {
	c := shared(t)
	for _, standbys := range []int{0, 1} {
		t.Run("standbys="+strconv.Itoa(standbys), func(t *testing.T) {
			t.Parallel()
			d := c.deploy(t, spec{job: "kt-sched" + strconv.Itoa(standbys), version: "8.4.1", standbys: standbys, web: 1})
			d.start(t)
			db := d.db(t)
			d.steadyState(t, db, steadyFor(t))
			if standbys == 1 {
				d.failover(t, db, "nomad alloc stop", func(alloc string) { d.allocStop(t, alloc) })
				d.failover(t, db, "SIGKILL of the supervisor", func(alloc string) { d.killSupervisor(t, alloc) })
			}
		})
	}
}

// start runs the release's migration, then the service job, and waits for
// its deployment to succeed.
func (d *deployment) start(t *testing.T) {
	t.Helper()
	c := d.c
	c.purgeAtEnd(t, d.dep.Job)
	c.purgeAtEnd(t, d.dep.UpgradeJob)
	c.run(t, d.writeJob(t, d.bundle.UpgradeDB, "hcl"))
	c.waitBatch(t, d.dep.UpgradeJob, 3*time.Minute)
	c.run(t, d.writeJob(t, d.bundle.Service, "hcl"))
	status, took := c.waitDeployment(t, d.dep.Job, c.jobVersion(t, d.dep.Job), 5*time.Minute)
	if !strings.HasPrefix(status, "successful") {
		t.Fatalf("deployment of %s: %s\n%s", d.dep.Job, status, c.nomad.AllocReport(d.dep.Job))
	}
	t.Logf("%s: deployment successful %.1fs after submit", d.dep.Job, took.Seconds())
}

func schedulerRuns(t *testing.T, db *pgx.Conn) []kantreestub.SchedulerRun {
	t.Helper()
	runs, err := kantreestub.SchedulerRuns(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// covered is the time within [from, to] when at least one run was active.
func covered(runs []kantreestub.SchedulerRun, from, to time.Time) time.Duration {
	type span struct{ a, b time.Time }
	var spans []span
	for _, r := range runs {
		a, b := r.First, r.Last
		if a.Before(from) {
			a = from
		}
		if b.After(to) {
			b = to
		}
		if b.After(a) {
			spans = append(spans, span{a, b})
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].a.Before(spans[j].a) })
	var total time.Duration
	var end time.Time
	for _, s := range spans {
		if s.a.Before(end) {
			s.a = end
		}
		if s.b.After(s.a) {
			total += s.b.Sub(s.a)
			end = s.b
		}
	}
	return total
}

// steadyState watches for dur and checks the scheduler's availability.
func (d *deployment) steadyState(t *testing.T, db *pgx.Conn, dur time.Duration) {
	t.Helper()
	from := testbed.DBNow(t, db)
	before := d.allocIDs(t)
	time.Sleep(dur)
	to := testbed.DBNow(t, db).Add(-2 * kantreestub.HeartbeatInterval) // the running run's last beat may be that old
	runs := schedulerRuns(t, db)
	cov := covered(runs, from, to)
	share := float64(cov) / float64(to.Sub(from))
	overlap := kantreestub.Overlap(runs)
	t.Logf("%s: %.0fs watched: exactly one scheduler %.3f%% of the time (%d runs in all), overlap %s",
		d.dep.Job, to.Sub(from).Seconds(), 100*share, len(runs), overlap)
	if overlap > 0 {
		t.Errorf("two schedulers ran at once for %s", overlap)
	}
	if share < 0.999 {
		t.Errorf("a scheduler ran %.3f%% of the time, want at least 99.9%%; runs %+v\n%s", 100*share, runs, d.c.nomad.AllocReport(d.dep.Job))
	}
	if after := d.allocIDs(t); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("Nomad changed the allocations during the steady state: before %v, after %v\n%s", before, after, d.c.nomad.AllocReport(d.dep.Job))
	}
	for _, a := range d.c.allocs(t, d.dep.Job) {
		if ts := a.TaskStates["scheduler"]; ts != nil && ts.Restarts > 0 {
			t.Errorf("allocation %s: the scheduler task restarted %d times", a.ID[:8], ts.Restarts)
		}
	}
}

// allocIDs are the job's allocations Nomad wants running, sorted.
func (d *deployment) allocIDs(t *testing.T) []string {
	var ids []string
	for _, a := range d.c.allocs(t, d.dep.Job) {
		ids = append(ids, a.ID)
	}
	sort.Strings(ids)
	return ids
}

// holder is the run that beats now and its allocation.
func holder(t *testing.T, db *pgx.Conn) kantreestub.SchedulerRun {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		now := testbed.DBNow(t, db)
		for _, r := range schedulerRuns(t, db) {
			if now.Sub(r.Last) < time.Second && !r.Stopped {
				return r
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("no scheduler beats")
	return kantreestub.SchedulerRun{}
}

// failover makes the holder go with act, then measures the handoff: from
// the old run's last heartbeat to the new run's first, with no overlap.
func (d *deployment) failover(t *testing.T, db *pgx.Conn, what string, act func(alloc string)) {
	t.Helper()
	old := holder(t, db)
	act(old.InstanceID)
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range schedulerRuns(t, db) {
			if r.First.After(old.First) && r.RunID != old.RunID {
				ended := lastBeat(t, db, old.RunID)
				t.Logf("%s: %s: the standby's scheduler started %.2fs after the holder's last heartbeat (overlap %s)",
					d.dep.Job, what, r.First.Sub(ended).Seconds(), kantreestub.Overlap(schedulerRuns(t, db)))
				if ov := kantreestub.Overlap(schedulerRuns(t, db)); ov > 0 {
					t.Errorf("%s: two schedulers ran at once for %s", what, ov)
				}
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: no new scheduler within 90s\n%s", what, d.c.nomad.AllocReport(d.dep.Job))
}

func lastBeat(t *testing.T, db *pgx.Conn, runID string) time.Time {
	for _, r := range schedulerRuns(t, db) {
		if r.RunID == runID {
			return r.Last
		}
	}
	t.Fatalf("run %s vanished", runID)
	return time.Time{}
}

// allocStop is `nomad alloc stop` of an allocation.
func (d *deployment) allocStop(t *testing.T, alloc string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := d.c.nomad.CLI(ctx, "alloc", "stop", "-detach", alloc); err != nil {
		t.Fatalf("nomad alloc stop: %v\n%s", err, out)
	}
}

// killSupervisor SIGKILLs the kantree-nomad supervise process of the
// allocation, and nothing else.
func (d *deployment) killSupervisor(t *testing.T, alloc string) {
	t.Helper()
	killProcess(t, alloc, "supervise")
}

// killProcess SIGKILLs the one process of the allocation (found by its
// environment) whose arguments after the program start with args.
func killProcess(t *testing.T, alloc string, args ...string) {
	t.Helper()
	pids, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range pids {
		cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		env, _ := os.ReadFile(filepath.Join(dir, "environ"))
		argv := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
		if len(argv) > len(args) && slices.Equal(argv[1:1+len(args)], args) && strings.Contains(string(env), "NOMAD_ALLOC_ID="+alloc+"\x00") {
			pid, _ := strconv.Atoi(filepath.Base(dir))
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no %q process of allocation %s", args, alloc)
}

// TestSchedulerWithoutConsulFailsTheDeployment: a scheduler whose Consul
// address answers nothing is visible, not silently absent: supervise
// fails its task after its start timeout, with a message naming the
// address, and the deployment fails instead of reporting success.
func TestSchedulerWithoutConsulFailsTheDeployment(t *testing.T) {
	c := shared(t)
	closed := "127.0.0.1:" + strconv.Itoa(testbed.FreePort(t))
	d := c.deploy(t, spec{job: "kt-noconsul", version: "8.4.1", web: 1, consul: closed,
		scheduler: "  healthy_deadline  = \"50s\"\n  progress_deadline = \"0s\"\n"})
	c.purgeAtEnd(t, d.dep.Job)
	c.purgeAtEnd(t, d.dep.UpgradeJob)
	c.run(t, d.writeJob(t, d.bundle.UpgradeDB, "hcl"))
	c.waitBatch(t, d.dep.UpgradeJob, 3*time.Minute)
	c.run(t, d.writeJob(t, d.bundle.Service, "hcl"))
	status, took := c.waitDeployment(t, d.dep.Job, c.jobVersion(t, d.dep.Job), 4*time.Minute)
	t.Logf("scheduler without Consul: deployment %q after %.1fs", status, took.Seconds())
	if !strings.HasPrefix(status, "failed") {
		t.Fatalf("deployment %s, want failed\n%s", status, c.nomad.AllocReport(d.dep.Job))
	}
	report := c.nomad.AllocReport(d.dep.Job)
	if !strings.Contains(report, closed) {
		t.Errorf("the scheduler task's events and stderr do not name the Consul address %s:\n%s", closed, report)
	}
}
