package operator

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/internal/kantreestub"
	"github.com/kantree-nomad/kantree-nomad/runtime/ledger"
)

// Issue 15, cases 1 and 3: a migration stopped midway is a failure (exit
// 1, the service job not submitted, status not "migrated"); a deploy
// killed during upgrade_db and run again adopts the running allocation:
// upgrade_db is not cut and does not run twice.
func TestMigrationStoppedThenAdopted(t *testing.T) {
	t.Parallel()
	s := newSite(t, "ktstop")
	ctx := testContext(t)
	os.WriteFile(s.slowMarker, []byte("12"), 0o644)
	s.write("8.4.1", s.failingArchive("8.4.1"), "")
	upgradeJob := s.job + "-upgrade-db"

	// 1. The upgrade job stopped 2s into upgrade_db.
	cmd, out := s.start(ctx, "deploy", s.file)
	waitUpgradeRunning(t, s, ctx, 1)
	time.Sleep(2 * time.Second)
	if o, err := s.b.nomad.CLI(ctx, "job", "stop", "-detach", upgradeJob); err != nil {
		t.Fatalf("%v\n%s", err, o)
	}
	code := exitCode(t, cmd.Wait())
	text := out.String()
	t.Logf("deploy whose migration was stopped (exit %d)", code)
	if code != 1 || !strings.Contains(text, "the task was stopped before it ended") || strings.Contains(text, "migrated to 8.4.1") {
		t.Errorf("deploy of a stopped migration: exit %d, want 1, the reason, and no \"migrated\"", code)
	}
	if last := lastLine(text); !strings.HasPrefix(last, "kantree-nomad: hint: ") {
		t.Errorf("last line %q, want the hint", last)
	}
	if j, _, err := s.b.nomad.Client().Jobs().Info(s.job, nil); err == nil || j != nil {
		t.Errorf("the service job was submitted after a stopped migration")
	}
	checkLedger(t, s, "8.4.1", ledger.StatusKilled)
	o, code := s.run(ctx, "status", s.file)
	if code != 3 || strings.Contains(o, "database migrated") {
		t.Errorf("status after the stopped migration: exit %d, want 3 and no \"migrated\":\n%s", code, o)
	}

	// 2. deploy SIGKILLed during upgrade_db, then the same deploy again.
	cmd, _ = s.start(ctx, "deploy", s.file)
	waitUpgradeRunning(t, s, ctx, 2)
	cmd.Process.Kill()
	cmd.Wait()
	o, code = s.run(ctx, "deploy", s.file)
	t.Logf("deploy after a killed deploy (exit %d)", code)
	if code != 0 || !strings.Contains(o, "already runs the migration to 8.4.1; waiting for it") {
		t.Fatalf("the retried deploy: exit %d, want 0 after adopting the running migration\n%s", code, s.b.nomad.AllocReport(s.job))
	}
	runs, err := kantreestub.UpgradeRuns(ctx, dbConn(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[1].Status != kantreestub.UpgradeDone {
		t.Errorf("upgrade_db runs %+v: want 2 (the one stopped by hand, then one run to its end, not cut)", runs)
	}
	checkLedger(t, s, "8.4.1", ledger.StatusKilled, ledger.StatusSucceeded)

	o, code = s.run(ctx, "status", s.file)
	if code != 0 || !strings.Contains(o, "Release: database migrated to 8.4.1") || lastLine(o) != "Status: ok" {
		t.Errorf("status after the release: exit %d, want 0, migrated and \"Status: ok\"", code)
	}
	// Case 4: no change, the deployment successful: 0, saying so.
	o, code = s.run(ctx, "deploy", s.file)
	if code != 0 || !strings.Contains(o, "already migrated") || !strings.Contains(o, "is successful") {
		t.Errorf("deploy with nothing to change: exit %d, want 0 and the deployment's state", code)
	}
	if n := upgradeRuns(t, s, "8.4.1"); n != 2 {
		t.Errorf("upgrade_db ran %d times, want 2", n)
	}
	// With the upgrade job's allocations gone (purged, or garbage
	// collected), nothing proves the running release's migration.
	if o, err := s.b.nomad.CLI(ctx, "job", "stop", "-detach", "-purge", upgradeJob); err != nil {
		t.Fatalf("%v\n%s", err, o)
	}
	o, code = s.run(ctx, "status", s.file)
	if code != 3 || !strings.Contains(lastLine(o), "the migration to 8.4.1, the running release, is not recorded") {
		t.Errorf("status without the migration's record: exit %d, want 3 naming it; last line %q", code, lastLine(o))
	}
}

// Issue 15, case 1 (second part) and the second rule: two deploys of two
// releases 0.3s apart. One waits for the other's migration; none is cut,
// none runs twice, and neither reports the other's result as its own.
func TestConcurrentDeploysOfTwoReleases(t *testing.T) {
	t.Parallel()
	s := newSite(t, "ktconc")
	ctx := testContext(t)
	os.WriteFile(s.slowMarker, []byte("5"), 0o644)
	s.write("8.4.1", s.failingArchive("8.4.1"), "")
	fileA := s.file + ".841"
	os.Rename(s.file, fileA)
	s.write("8.4.2", s.failingArchive("8.4.2"), "")
	fileB := s.file

	cmdA, outA := s.start(ctx, "deploy", fileA)
	time.Sleep(300 * time.Millisecond)
	cmdB, outB := s.start(ctx, "deploy", fileB)
	codeA, codeB := exitCode(t, cmdA.Wait()), exitCode(t, cmdB.Wait())
	a, b := outA.String(), outB.String()
	t.Logf("deploy 8.4.1: exit %d; deploy 8.4.2: exit %d", codeA, codeB)

	waiter, first := b, a
	if strings.Contains(a, "runs another migration") {
		waiter, first = a, b
	}
	if !strings.Contains(waiter, "runs another migration") {
		t.Errorf("neither deploy waited for the other's migration")
	}
	if strings.Contains(a, "migrated to 8.4.2") || strings.Contains(b, "migrated to 8.4.1") {
		t.Errorf("a deploy reported the other release's migration as its own")
	}
	if !strings.Contains(first, "migrated to") {
		t.Errorf("the first deploy did not migrate")
	}
	runs, err := kantreestub.UpgradeRuns(ctx, dbConn(t, s))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range runs {
		seen[r.Version]++
		if r.Status != kantreestub.UpgradeDone {
			t.Errorf("upgrade_db run %+v did not end on its own (cut)", r)
		}
	}
	if seen["8.4.1"] > 1 || seen["8.4.2"] != 1 {
		t.Errorf("upgrade_db runs per release %v: want 8.4.2 once, 8.4.1 at most once", seen)
	}
	entries, err := ledger.Entries(ctx, dbConn(t, s), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Status != ledger.StatusSucceeded {
			t.Errorf("ledger row %s attempt %d: %s, want only successes", e.Release, e.Attempt, e.Status)
		}
	}
	for i, o := range []string{a, b} {
		code := []int{codeA, codeB}[i]
		if (code == 0 && !strings.Contains(lastLine(o), "successful")) || (code != 0 && !strings.HasPrefix(lastLine(o), "kantree-nomad: ")) {
			t.Errorf("deploy %d: exit %d with last line %q", i, code, lastLine(o))
		}
	}
}

// Issue 15, case 4: a deploy whose deployment failed (a new job: nothing
// to revert to) and is run again unchanged fails again with the reason;
// status exits 3 naming the failed deployment.
func TestUnchangedFailedDeployment(t *testing.T) {
	t.Parallel()
	s := newSite(t, "ktnochg")
	s.healthyDeadline = "15s"
	ctx := testContext(t)
	os.WriteFile(s.webMarker, nil, 0o644)
	s.write("8.4.1", s.failingArchive("8.4.1"), "")
	if o, code := s.run(ctx, "deploy", s.file); code != 1 {
		t.Fatalf("deploy of a failing web: exit %d, want 1\n%s", code, o)
	}
	o, code := s.run(ctx, "deploy", s.file)
	t.Logf("unchanged deploy after a failed deployment (exit %d)", code)
	if code != 1 || !strings.Contains(o, "is failed") || !strings.Contains(o, "kantree-nomad: error: version 0 of job ktnochg is what kantree.hcl renders, but its deployment") {
		t.Errorf("unchanged deploy after a failure: exit %d, want 1 with the deployment's failure", code)
	}
	o, code = s.run(ctx, "status", s.file)
	if code != 3 || !strings.Contains(lastLine(o), "the latest deployment") {
		t.Errorf("status after a failed deployment: exit %d, want 3 naming it; last line %q", code, lastLine(o))
	}
}

// Issue 15, case 6 (last part): a migration whose template waits on a
// Nomad variable it cannot read is reported within a bounded time, with
// the event and the policy to apply.
func TestMigrationStuckOnTemplate(t *testing.T) {
	t.Parallel()
	s := newSite(t, "kttmpl")
	ctx := testContext(t)
	if _, err := s.b.nomad.Client().Variables().Delete("nomad/jobs/"+s.job, nil); err != nil {
		t.Fatal(err)
	}
	s.write("8.4.1", s.stdArchive("8.4.1"), "")
	start := time.Now()
	o, code := s.run(ctx, "deploy", s.file)
	took := time.Since(start)
	t.Logf("figure: deploy of a migration stuck on its template returned after %s (exit %d)", took.Round(100*time.Millisecond), code)
	if code != 1 || !strings.Contains(o, "Missing: nomad.var.block") || !strings.Contains(o, "nomad acl policy apply -namespace default -job kttmpl-upgrade-db") {
		t.Errorf("deploy stuck on a template: exit %d, want 1 with the event and the policy", code)
	}
	if n := upgradeRuns(t, s, "8.4.1"); n != 0 {
		t.Errorf("upgrade_db ran %d times", n)
	}
}

// start starts the kantree-nomad command line in the background.
func (s *site) start(ctx context.Context, args ...string) (*exec.Cmd, *lockedBuffer) {
	s.t.Helper()
	cmd := exec.CommandContext(ctx, s.b.cli, args...)
	cmd.Env = append(os.Environ(), "NOMAD_ADDR="+s.b.nomad.Addr(), "CONSUL_HTTP_ADDR="+s.b.consul.HTTPAddr)
	out := &lockedBuffer{t: s.t}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	return cmd, out
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return ee.ExitCode()
	}
	t.Fatal(err)
	return 0
}

// waitUpgradeRunning waits until the n-th upgrade_db run is running.
func waitUpgradeRunning(t *testing.T, s *site, ctx context.Context, n int) {
	t.Helper()
	conn := dbConn(t, s)
	for {
		runs, err := kantreestub.UpgradeRuns(ctx, conn)
		if err == nil && len(runs) >= n && runs[n-1].Status == kantreestub.UpgradeRunning {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("upgrade_db run %d never started: %v %+v\n%s", n, err, runs, s.b.nomad.AllocReport(s.job+"-upgrade-db"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkLedger checks the statuses of release's ledger rows, in order.
func checkLedger(t *testing.T, s *site, release string, want ...string) {
	t.Helper()
	entries, err := ledger.Entries(context.Background(), dbConn(t, s), release)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Status)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ledger of %s: %v, want %v", release, got, want)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// silentListener accepts connections and never answers, as a paused
// agent does (the kernel completes the handshake); it returns its
// address.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	return l.Addr().String()
}
