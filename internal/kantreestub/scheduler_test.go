package kantreestub_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kantree-nomad/kantree-nomad/internal/kantreestub"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

func runs(t *testing.T, conn *pgx.Conn) []kantreestub.SchedulerRun {
	t.Helper()
	r, err := kantreestub.SchedulerRuns(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSchedulerHeartbeatsAndStopsCleanly(t *testing.T) {
	t.Parallel()
	url := sharedPostgres(t).CreateDatabase(t)
	conn := db(t, url)
	env := []string{"DATABASE_URL=" + url, "KANTREE_INSTANCE_ID=s1", "KANTREE_LOCK_HELD=1", "KANTREE_FENCING_TOKEN=42"}
	p := startPlatform(t, "scheduler", env, nil, "run", "scheduler")
	eventually(t, 30*time.Second, "5 heartbeats", func() bool { r := runs(t, conn); return len(r) == 1 && r[0].Beats >= 5 })
	start := time.Now()
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("scheduler stopped %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	if p.ExitCode() != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", p.ExitCode())
	}
	r := runs(t, conn)
	if len(r) != 1 || !r[0].Stopped || r[0].InstanceID != "s1" || r[0].FencingToken != "42" || !r[0].LockHeld {
		t.Fatalf("runs = %+v; want one stopped run of s1 with token 42 and the lock held", r)
	}
	// The stop row follows the last beat by less than an interval.
	perBeat := r[0].Last.Sub(r[0].First) / time.Duration(r[0].Beats-2)
	t.Logf("%d heartbeats, %v apart on average (PostgreSQL clock)", r[0].Beats, perBeat)
	if perBeat < 90*time.Millisecond || perBeat > time.Second {
		t.Errorf("heartbeats %v apart, want about %v", perBeat, kantreestub.HeartbeatInterval)
	}
}

func TestSchedulerOverlapMeasuredFromDatabase(t *testing.T) {
	t.Parallel()
	url := sharedPostgres(t).CreateDatabase(t)
	conn := db(t, url)
	env := []string{"DATABASE_URL=" + url}
	a := startPlatform(t, "scheduler-a", env, nil, "run", "scheduler")
	eventually(t, 30*time.Second, "a beats", func() bool { return len(runs(t, conn)) == 1 })
	b := startPlatform(t, "scheduler-b", env, nil, "run", "scheduler")
	eventually(t, 30*time.Second, "both beat 3 times", func() bool {
		r := runs(t, conn)
		return len(r) == 2 && r[0].Beats >= 3 && r[1].Beats >= 3
	})
	a.Stop()
	b.Stop()
	r := runs(t, conn)
	if got := kantreestub.Overlap(r); got <= 0 {
		t.Fatalf("two schedulers ran together but Overlap = %v (runs %+v)", got, r)
	}
	if r[0].RunID == r[1].RunID {
		t.Fatal("two runs share a run id")
	}
	c := startPlatform(t, "scheduler-c", env, nil, "run", "scheduler")
	eventually(t, 30*time.Second, "c beats", func() bool { return len(runs(t, conn)) == 3 })
	c.Stop()
	r = runs(t, conn)
	if got := kantreestub.Overlap(r) - kantreestub.Overlap(r[:2]); got != 0 {
		t.Errorf("a scheduler started after the others stopped overlaps them by %v", got)
	}
}

func TestSchedulerIgnoringSIGTERMAndGrandchildNeedGroupKill(t *testing.T) {
	t.Parallel()
	url := sharedPostgres(t).CreateDatabase(t)
	conn := db(t, url)
	env := []string{"DATABASE_URL=" + url, "KANTREE_STUB_IGNORE_SIGTERM=1", "KANTREE_STUB_GRANDCHILD=1"}
	p := startPlatform(t, "scheduler", env, nil, "run", "scheduler")
	eventually(t, 30*time.Second, "the scheduler and its grandchild beat", func() bool { return len(runs(t, conn)) == 2 })
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if !p.Running() {
		t.Fatal("KANTREE_STUB_IGNORE_SIGTERM=1: the scheduler stopped on SIGTERM")
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	for _, r := range awaitSilence(t, conn) {
		if r.Stopped {
			t.Errorf("run %s wrote a clean stop row although it was killed", r.RunID)
		}
	}
}

// awaitSilence waits until no run writes a heartbeat for 5 intervals
// (an INSERT sent just before a kill may still commit) and returns the
// runs; it fails if some run keeps beating for 10 s.
func awaitSilence(t *testing.T, conn *pgx.Conn) []kantreestub.SchedulerRun {
	t.Helper()
	total := func(rs []kantreestub.SchedulerRun) (n int) {
		for _, r := range rs {
			n += r.Beats
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		before := runs(t, conn)
		time.Sleep(5 * kantreestub.HeartbeatInterval)
		after := runs(t, conn)
		if total(after) == total(before) {
			return after
		}
		if time.Now().After(deadline) {
			t.Fatalf("runs still beating 10s after the kill: %+v", after)
		}
	}
}

func TestGrandchildOutlivesLeaderStopUntilGroupKilled(t *testing.T) {
	t.Parallel()
	url := sharedPostgres(t).CreateDatabase(t)
	conn := db(t, url)
	p := startPlatform(t, "scheduler", []string{"DATABASE_URL=" + url, "KANTREE_STUB_GRANDCHILD=1"}, nil, "run", "scheduler")
	eventually(t, 30*time.Second, "the scheduler and its grandchild beat", func() bool { return len(runs(t, conn)) == 2 })
	if err := p.Stop(); err != nil { // SIGTERM to the leader only
		t.Fatal(err)
	}
	child := func() kantreestub.SchedulerRun {
		for _, r := range runs(t, conn) {
			if len(r.RunID) > 6 && r.RunID[len(r.RunID)-6:] == "/child" {
				return r
			}
		}
		t.Fatal("no grandchild run")
		return kantreestub.SchedulerRun{}
	}
	before := child().Beats
	eventually(t, 30*time.Second, "the grandchild beats on after its parent stopped", func() bool { return child().Beats > before+2 })
	if err := p.Kill(); err != nil { // the leader is gone: kills the rest of its group
		t.Fatal(err)
	}
	awaitSilence(t, conn)
}

func TestSchedulerStopSecondsDelaysCleanStop(t *testing.T) {
	t.Parallel()
	url := sharedPostgres(t).CreateDatabase(t)
	conn := db(t, url)
	p := startPlatform(t, "scheduler", []string{"DATABASE_URL=" + url, "KANTREE_STUB_STOP_SECONDS=0.7"}, nil, "run", "scheduler")
	eventually(t, 30*time.Second, "a heartbeat", func() bool { return len(runs(t, conn)) == 1 })
	start := time.Now()
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	r := runs(t, conn)
	if took < 700*time.Millisecond || p.ExitCode() != 0 || len(r) != 1 || !r[0].Stopped {
		t.Fatalf("stopped after %v with exit %d, runs %+v; want >= 0.7s, 0, one stopped run", took, p.ExitCode(), r)
	}
}

func TestSchedulerRidesOutDatabaseOutage(t *testing.T) {
	t.Parallel()
	pg := testbed.StartPostgres(t)
	url := pg.CreateDatabase(t)
	p := startPlatform(t, "scheduler", []string{"DATABASE_URL=" + url}, nil, "run", "scheduler")
	first := db(t, url)
	eventually(t, 30*time.Second, "a heartbeat", func() bool { return len(runs(t, first)) == 1 })
	if err := pg.Kill(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	pg.Restart(t)
	conn := db(t, url)
	beats := func() int {
		r := runs(t, conn)
		if len(r) != 1 {
			t.Fatalf("runs = %+v, want one", r)
		}
		return r[0].Beats
	}
	before := beats()
	eventually(t, 30*time.Second, "heartbeats again after the outage", func() bool { return beats() > before+2 })
	if !p.Running() {
		t.Fatal("the scheduler died in the outage")
	}
}
