package migrate_test

import (
	"strings"
	"testing"
	"time"
)

// Issue 10 #7: the lock connection is terminated while the upgrade runs and
// a second migrate starts at once. The holder renews its lease on a new
// connection and its upgrade completes; the second migrate waits for the
// lease and then finds the release applied. One run, no overlap.
func TestLostLockConnectionIsReplacedAndNoSecondRunStarts(t *testing.T) {
	dbURL := sharedPostgres(t).CreateDatabase(t)
	createTicks(t, dbURL)
	killLeftovers(t, dbURL)
	first := startMigrateCmd(t, dbURL, "10.7.0", nil, fastLease, script(t, "ticker.sh"), "4")
	waitTicks(t, dbURL)
	terminateBackend(t, dbURL, readLedger(t, dbURL, "10.7.0")[0].BackendPID)
	second := startMigrateCmd(t, dbURL, "10.7.0", nil, fastLease, script(t, "ticker.sh"), "4")
	for i, p := range []*proc{first, second} {
		if code := p.wait(t, 60*time.Second); code != 0 {
			t.Fatalf("migrate %d: exit %d:\n%s", i, code, p.out.String())
		}
	}
	runs := tickRuns(t, dbURL)
	total, _ := overlap(runs)
	if len(runs) != 1 || total != 0 || statuses(readLedger(t, dbURL, "10.7.0")) != "succeeded" {
		t.Fatalf("%d runs, overlap %v, ledger %s; want 1 run, 0, succeeded:\n%s\nfirst:\n%s\nsecond:\n%s",
			len(runs), total, statuses(readLedger(t, dbURL, "10.7.0")), describe(runs), first.out.String(), second.out.String())
	}
	if !strings.Contains(first.out.String(), "cannot renew the lease") || !strings.Contains(second.out.String(), "nothing to do") {
		t.Errorf("first should say it renewed on a new connection, second that it had nothing to do:\n%s\n%s",
			first.out.String(), second.out.String())
	}
	t.Logf("figure: lock connection terminated mid-run: 1 run of %d ticks, overlap %v; the second migrate exited %v after the first",
		runs[0].ticks, total, second.ended.Sub(first.ended).Round(time.Millisecond))
}

// Issue 10 #9: upgrade_db succeeds, then the migrate's connection is
// terminated before it records the result. It records it on a new
// connection, and the next migrate does not run the upgrade again.
func TestSuccessIsRecordedAfterTheConnectionDrops(t *testing.T) {
	dbURL := sharedPostgres(t).CreateDatabase(t)
	first := startMigrateCmd(t, dbURL, "10.9.0", upgradeEnv(dbURL, 0), nil, script(t, "upgrade-then-cut.sh"))
	if code := first.wait(t, 60*time.Second); code != 0 || !strings.Contains(first.out.String(), "cannot record the end of the attempt") {
		t.Fatalf("first migrate: exit %d, want 0 after recording on a new connection:\n%s", code, first.out.String())
	}
	next := startMigrate(t, dbURL, "10.9.0", upgradeEnv(dbURL, 0))
	if code := next.wait(t, 60*time.Second); code != 0 || !strings.Contains(next.out.String(), "nothing to do") {
		t.Fatalf("next migrate: exit %d, want 0 and nothing to do:\n%s", code, next.out.String())
	}
	if runs, st := upgradeRuns(t, dbURL, "10.9.0"); runs != 1 || st != "done" || statuses(readLedger(t, dbURL, "10.9.0")) != "succeeded" {
		t.Fatalf("stand-in recorded %d runs (%s), ledger %s; want 1 (done), succeeded", runs, st, statuses(readLedger(t, dbURL, "10.9.0")))
	}
}
