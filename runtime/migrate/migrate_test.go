package migrate_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/rules"
)

func TestFiveConcurrentMigratesRunTheUpgradeOnce(t *testing.T) {
	dbURL := sharedPostgres(t).CreateDatabase(t)
	const n, seconds = 5, 3
	testbed.BuildKantreeNomad(t) // builds are not timed
	testbed.BuildPlatform(t)
	start := time.Now()
	procs := make([]*proc, n)
	for i := range procs {
		procs[i] = startMigrate(t, dbURL, "8.4.1", upgradeEnv(dbURL, seconds))
	}
	applied, skipped := 0, 0
	for i, p := range procs {
		if code := p.wait(t, 60*time.Second); code != 0 {
			t.Fatalf("migrate %d: exit %d, want 0:\n%s", i, code, p.out.String())
		}
		switch {
		case strings.Contains(p.out.String(), "migrate: release 8.4.1 applied"):
			applied++
		case strings.Contains(p.out.String(), "nothing to do"):
			skipped++
		}
	}
	total := time.Since(start)
	if runs, st := upgradeRuns(t, dbURL, "8.4.1"); runs != 1 || st != "done" || applied != 1 || skipped != n-1 {
		t.Fatalf("stand-in recorded %d runs (%s), %d applied, %d skipped; want 1 (done), 1, %d", runs, st, applied, skipped, n-1)
	}
	entries := readLedger(t, dbURL, "8.4.1")
	if statuses(entries) != "succeeded" {
		t.Fatalf("ledger %s, want one succeeded attempt", statuses(entries))
	}
	// The others waited for the lock: none exited before the upgrade finished.
	var lastExit time.Duration
	for i, p := range procs {
		if p.ended.Before(*entries[0].Finished) {
			t.Errorf("migrate %d exited at %v, before the upgrade finished at %v", i, p.ended, *entries[0].Finished)
		}
		lastExit = max(lastExit, p.ended.Sub(*entries[0].Finished))
	}
	t.Logf("figure: %d concurrent migrates with a %ds upgrade_db all exited after %v; the last %v after the upgrade finished",
		n, seconds, total.Round(time.Millisecond), lastExit.Round(time.Millisecond))
}

// A SIGKILLed migrate records nothing: once its lease has run out, the next
// migrate marks the attempt unknown and refuses, since the upgrade may have
// completed; -unknown rerun runs it again.
func TestSIGKILLedMigrateLeavesAnUnknownAttempt(t *testing.T) {
	dbURL := sharedPostgres(t).CreateDatabase(t)
	first := startMigrate(t, dbURL, "9.0.0", upgradeEnv(dbURL, 60), fastLease...)
	waitRunning(t, dbURL, "9.0.0")
	upgrade := childOf(t, first.cmd.Process.Pid)
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.wait(t, 10*time.Second)
	killed := time.Now()
	waitFor(t, 10*time.Second, fmt.Sprintf("upgrade_db pid %d to die with its migrate", upgrade), func() bool {
		return !alive(upgrade)
	})

	second := startMigrate(t, dbURL, "9.0.0", upgradeEnv(dbURL, 1), fastLease...)
	if code := second.wait(t, 60*time.Second); code != 1 ||
		!strings.Contains(second.out.String(), "ended with no result recorded (status unknown)") ||
		!strings.Contains(second.out.String(), "hint: check the database") {
		t.Fatalf("second migrate: exit %d, want 1 with the unknown attempt and a hint:\n%s", code, second.out.String())
	}
	if line := rules.UnknownLedgerLine("9.0.0", 1); !strings.Contains(second.out.String(), line) {
		t.Errorf("second migrate's output lacks the ledger line %q, which deploy reads", line)
	}
	waited := second.ended.Sub(killed)
	// A decision about another attempt decides nothing.
	other := startMigrate(t, dbURL, "9.0.0", upgradeEnv(dbURL, 1), append(fastLease, "-unknown", "rerun", "-unknown-attempt", "2")...)
	if code := other.wait(t, 60*time.Second); code != 1 || !strings.Contains(other.out.String(), "-unknown-attempt 1") {
		t.Fatalf("migrate -unknown rerun -unknown-attempt 2: exit %d, want 1 naming attempt 1:\n%s", code, other.out.String())
	}
	if got := statuses(readLedger(t, dbURL, "9.0.0")); got != "unknown" {
		t.Fatalf("ledger %s after a decision about another attempt, want unknown", got)
	}
	third := startMigrate(t, dbURL, "9.0.0", upgradeEnv(dbURL, 1), append(fastLease, "-unknown", "rerun", "-unknown-attempt", "1")...)
	if code := third.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("third migrate (-unknown rerun): exit %d:\n%s", code, third.out.String())
	}
	entries := readLedger(t, dbURL, "9.0.0")
	if got := statuses(entries); got != "unknown-rerun,succeeded" {
		t.Fatalf("ledger %s, want unknown-rerun,succeeded", got)
	}
	// The stand-in killed by SIGKILL never recorded its finish.
	if runs, st := upgradeRuns(t, dbURL, "9.0.0"); runs != 2 || st != "running,done" {
		t.Errorf("stand-in recorded %d runs (%s), want 2 (running,done)", runs, st)
	}
	t.Logf("figure: the next migrate reported the unknown attempt %v after the SIGKILL (lease 4s + 2s margin)",
		waited.Round(time.Millisecond))
}

func TestFailedUpgradeIsRecordedAndRetried(t *testing.T) {
	dbURL := sharedPostgres(t).CreateDatabase(t)
	bad := startMigrate(t, dbURL, "9.1.0", append(upgradeEnv(dbURL, 0), "KANTREE_STUB_UPGRADE_FAIL=1"))
	if code := bad.wait(t, 60*time.Second); code == 0 {
		t.Fatalf("failing upgrade: exit 0, want non-zero:\n%s", bad.out.String())
	}
	if !strings.Contains(bad.out.String(), "recorded as failed") || !strings.Contains(bad.out.String(), "kantree-nomad: hint:") {
		t.Errorf("output lacks the failure and a hint:\n%s", bad.out.String())
	}
	retry := startMigrate(t, dbURL, "9.1.0", upgradeEnv(dbURL, 0))
	if code := retry.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("retry: exit %d:\n%s", code, retry.out.String())
	}
	entries := readLedger(t, dbURL, "9.1.0")
	if got := statuses(entries); got != "failed,succeeded" || entries[0].ExitCode == nil || *entries[0].ExitCode == 0 {
		t.Fatalf("ledger %s (first exit code %v), want failed (non-zero), succeeded", got, entries[0].ExitCode)
	}
	if runs, st := upgradeRuns(t, dbURL, "9.1.0"); runs != 2 || st != "failed,done" {
		t.Errorf("stand-in recorded %d runs (%s), want 2 (failed,done)", runs, st)
	}
}

func TestSIGTERMStopsTheUpgradeAndRecordsKilled(t *testing.T) {
	dbURL := sharedPostgres(t).CreateDatabase(t)
	p := startMigrate(t, dbURL, "9.2.0", upgradeEnv(dbURL, 60), "-kill-grace", "2s")
	waitRunning(t, dbURL, "9.2.0")
	upgrade := childOf(t, p.cmd.Process.Pid)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 20*time.Second); code == 0 {
		t.Fatalf("exit 0 after SIGTERM, want non-zero:\n%s", p.out.String())
	}
	if alive(upgrade) {
		t.Errorf("upgrade_db pid %d survived its migrate's SIGTERM", upgrade)
	}
	if got := statuses(readLedger(t, dbURL, "9.2.0")); got != "killed" {
		t.Fatalf("ledger %s, want killed:\n%s", got, p.out.String())
	}
	// The stand-in got SIGTERM first (the grace) and recorded it.
	if runs, st := upgradeRuns(t, dbURL, "9.2.0"); runs != 1 || st != "interrupted" {
		t.Errorf("stand-in recorded %d runs (%s), want 1 (interrupted)", runs, st)
	}
}

// waitRunning waits until migrate has recorded an attempt of release as
// running and the stand-in's upgrade_db has recorded its start.
func waitRunning(t *testing.T, dbURL, release string) {
	t.Helper()
	waitFor(t, 20*time.Second, "upgrade_db of "+release+" to run", func() bool {
		_, st := upgradeRuns(t, dbURL, release)
		return statuses(readLedger(t, dbURL, release)) == "running" && strings.HasSuffix(st, "running")
	})
}

// childOf returns the pid of the one child process of pid.
func childOf(t *testing.T, pid int) int {
	t.Helper()
	var found int
	waitFor(t, 10*time.Second, fmt.Sprintf("a child of pid %d", pid), func() bool {
		paths, _ := filepath.Glob("/proc/[0-9]*/stat")
		for _, path := range paths {
			data, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			// pid (comm) state ppid ...: comm may hold spaces, so cut after ')'.
			fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
			if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
				found, _ = strconv.Atoi(filepath.Base(filepath.Dir(path)))
				return true
			}
		}
		return false
	})
	return found
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// Two lock keys do not make two runs: the ledger allows one running attempt,
// and a migrate under another key waits for its lease like any other.
func TestMigrateUnderAnotherLockKeyWaitsForTheRunningAttempt(t *testing.T) {
	dbURL := sharedPostgres(t).CreateDatabase(t)
	first := startMigrate(t, dbURL, "9.4.0", upgradeEnv(dbURL, 3), "-lock-key", "1")
	waitRunning(t, dbURL, "9.4.0")
	other := startMigrate(t, dbURL, "9.4.0", upgradeEnv(dbURL, 0), "-lock-key", "2")
	for i, p := range []*proc{first, other} {
		if code := p.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("migrate %d: exit %d:\n%s", i, code, p.out.String())
		}
	}
	if runs, _ := upgradeRuns(t, dbURL, "9.4.0"); runs != 1 || !strings.Contains(other.out.String(), "nothing to do") {
		t.Errorf("stand-in recorded %d runs, want 1 and the other key's migrate to skip:\n%s", runs, other.out.String())
	}
}

func TestMigrateUsageErrors(t *testing.T) {
	bin := testbed.BuildKantreeNomad(t)
	for _, args := range [][]string{
		{"migrate", "--", "./platform", "upgrade_db"},
		{"migrate", "-release", "1.0"},
	} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "kantree-nomad: hint:") {
			t.Errorf("%v: %v, want exit 2 with a hint:\n%s", args, err, out)
		}
	}
}

func TestMigrateWaitsForPostgres(t *testing.T) {
	pg := testbed.StartPostgres(t)
	dbURL := pg.CreateDatabase(t)
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	p := startMigrate(t, dbURL, "9.6.0", upgradeEnv(dbURL, 0), "-wait", "60s")
	time.Sleep(3 * time.Second)
	pg.Restart(t)
	if code := p.wait(t, 60*time.Second); code != 0 || !strings.Contains(p.out.String(), "kind=connection-refused") {
		t.Fatalf("exit %d, want 0 after refused attempts:\n%s", code, p.out.String())
	}
	if got := statuses(readLedger(t, dbURL, "9.6.0")); got != "succeeded" {
		t.Fatalf("ledger %s, want succeeded", got)
	}
}
