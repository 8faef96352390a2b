//go:build faults

package migrate_test

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// Issue 10 #7, the hard form: the holder is cut off from PostgreSQL for
// good (its PgBouncer dies) while its upgrade runs, and a second migrate
// starts at once. The holder fences its command before its lease runs out;
// the second waits the lease out, then (told to rerun) runs. The two runs'
// own ticks never overlap.
func TestFaultCutOffHolderIsFencedBeforeItsSuccessorRuns(t *testing.T) {
	pg := sharedPostgres(t)
	dbURL := pg.CreateDatabase(t)
	createTicks(t, dbURL)
	killLeftovers(t, dbURL)
	bouncer := testbed.StartPgBouncer(t, pg, "session")
	viaBouncer := bouncer.URL(dbName(dbURL))
	first := startMigrateCmd(t, dbURL, "10.7.1", nil, append(fastLease, "-postgres", viaBouncer, "-record-for", "3s"),
		script(t, "ticker.sh"), "60")
	waitTicks(t, dbURL)
	if err := bouncer.Kill(); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	second := startMigrateCmd(t, dbURL, "10.7.1", nil, append(fastLease, "-unknown", "rerun"), script(t, "ticker.sh"), "2")
	if code := second.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("second migrate: exit %d:\n%s", code, second.out.String())
	}
	if code := first.wait(t, 60*time.Second); code == 0 || !strings.Contains(first.out.String(), "stopping the command before the lease runs out") {
		t.Fatalf("first migrate: exit %d, want a fence:\n%s", code, first.out.String())
	}
	runs := tickRuns(t, dbURL)
	total, gap := overlap(runs)
	if len(runs) != 2 || total != 0 || gap <= 0 {
		t.Fatalf("%d runs, overlap %v, gap %v; want 2 runs one after the other:\n%s", len(runs), total, gap, describe(runs))
	}
	t.Logf("figure: holder cut off at %s: its last tick %v after the cut, the successor's first tick %v after that; overlap %v",
		cut.Format("15:04:05.000"), runs[0].last.Sub(cut).Round(time.Millisecond), gap.Round(time.Millisecond), total)
}

// Issue 10 #8: migrate is SIGKILLed while a wrapper script runs; the
// wrapper had started the upgrade in a session of its own, so Pdeathsig
// does not reach it. The next migrate on this host waits the lease out,
// kills what carries the dead attempt's marker, and only then runs.
func TestFaultSIGKILLedMigrateLeavesNoForkedUpgradeBehind(t *testing.T) {
	dbURL := sharedPostgres(t).CreateDatabase(t)
	createTicks(t, dbURL)
	killLeftovers(t, dbURL)
	first := startMigrateCmd(t, dbURL, "10.8.0", nil, fastLease, script(t, "fork.sh"), script(t, "ticker.sh"), "60")
	waitTicks(t, dbURL)
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.wait(t, 10*time.Second)
	killed := time.Now()
	second := startMigrateCmd(t, dbURL, "10.8.0", nil, append(fastLease, "-unknown", "rerun"),
		script(t, "fork.sh"), script(t, "ticker.sh"), "2")
	if code := second.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("second migrate: exit %d:\n%s", code, second.out.String())
	}
	runs := tickRuns(t, dbURL)
	total, gap := overlap(runs)
	if len(runs) != 2 || total != 0 || gap <= 0 {
		t.Fatalf("%d runs, overlap %v, gap %v; want 2 runs one after the other:\n%s\nsecond:\n%s",
			len(runs), total, gap, describe(runs), second.out.String())
	}
	if got := statuses(readLedger(t, dbURL, "10.8.0")); got != "unknown-rerun,succeeded" {
		t.Errorf("ledger %s, want unknown-rerun,succeeded", got)
	}
	t.Logf("figure: the forked upgrade outlived its SIGKILLed migrate by %v (until the successor's sweep); gap to the successor's first tick %v; overlap %v",
		runs[0].last.Sub(killed).Round(time.Millisecond), gap.Round(time.Millisecond), total)
}

// Issue 10 #9, the hard form: upgrade_db succeeds and PostgreSQL then stays
// out of reach of the holder, so no record is possible. The next migrate
// finds the attempt unknown and refuses; an operator's -unknown succeeded
// records it, and the upgrade never runs twice.
func TestFaultUnrecordableSuccessWaitsForADecision(t *testing.T) {
	pg := sharedPostgres(t)
	dbURL := pg.CreateDatabase(t)
	bouncer := testbed.StartPgBouncer(t, pg, "session")
	viaBouncer := bouncer.URL(dbName(dbURL))
	first := startMigrateCmd(t, dbURL, "10.9.1", upgradeEnv(dbURL, 0), append(fastLease, "-postgres", viaBouncer, "-record-for", "2s"),
		"/bin/sh", "-c", "./platform upgrade_db && kill -KILL "+strconv.Itoa(bouncer.PID()))
	if code := first.wait(t, 60*time.Second); code == 0 || !strings.Contains(first.out.String(), "could not be recorded") ||
		!strings.Contains(first.out.String(), "-unknown succeeded") {
		t.Fatalf("first migrate: exit %d, want the unrecorded success and a hint:\n%s", code, first.out.String())
	}
	second := startMigrate(t, dbURL, "10.9.1", upgradeEnv(dbURL, 0), fastLease...)
	if code := second.wait(t, 60*time.Second); code != 1 || !strings.Contains(second.out.String(), "status unknown") {
		t.Fatalf("second migrate: exit %d, want a refusal:\n%s", code, second.out.String())
	}
	third := startMigrate(t, dbURL, "10.9.1", upgradeEnv(dbURL, 0), append(fastLease, "-unknown", "succeeded")...)
	if code := third.wait(t, 60*time.Second); code != 0 || !strings.Contains(third.out.String(), "nothing to do") {
		t.Fatalf("third migrate: exit %d, want nothing to do:\n%s", code, third.out.String())
	}
	if runs, st := upgradeRuns(t, dbURL, "10.9.1"); runs != 1 || st != "done" {
		t.Fatalf("stand-in recorded %d runs (%s), want 1", runs, st)
	}
}

// dbName is the database name in a testbed URL.
func dbName(dbURL string) string {
	return dbURL[strings.LastIndex(dbURL, "/")+1 : strings.Index(dbURL, "?")]
}
