package operator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/internal/kantreestub"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// Done-when 1, 5, 7: the command line, with the generator's own update
// timings. deploy of a new deployment migrates once, then rolls the
// service job; status shows the lock holder Consul has, the passing
// instances and the release; plan exits 0, 1, 255; a change between plan
// and submit is refused; status reports drift after a hand-made change.
func TestDeployCommandLine(t *testing.T) {
	t.Parallel()
	s := newSite(t, "ktcli")
	s.realTimings = true
	s.write("8.4.1", s.stdArchive("8.4.1"), "")
	ctx := testContext(t)

	start := time.Now()
	out, code := s.run(ctx, "deploy", s.file)
	t.Logf("figure: kantree-nomad deploy of a new deployment: exit %d after %s; transcript:\n%s", code, time.Since(start).Round(100*time.Millisecond), out)
	if code != 0 {
		t.Fatalf("deploy exit %d\n%s", code, s.b.nomad.AllocReport(s.job))
	}
	for _, want := range []string{"==> Migration: job ktcli-upgrade-db version 0, release 8.4.1", "migrated to 8.4.1", "==> Service job ktcli: new job", "successful"} {
		if !strings.Contains(out, want) {
			t.Errorf("deploy output lacks %q", want)
		}
	}
	if n := upgradeRuns(t, s, "8.4.1"); n != 1 {
		t.Errorf("upgrade_db ran %d times for 8.4.1, want 1", n)
	}

	t.Run("status", func(t *testing.T) { checkStatus(t, s, ctx) })
	t.Run("plan exit codes", func(t *testing.T) { checkPlanCodes(t, s, ctx) })
	t.Run("plain deploy after a decision", func(t *testing.T) { checkDecisionKept(t, s, ctx) })
	t.Run("change between plan and submit", func(t *testing.T) { checkConflictAndDrift(t, s, ctx) })
	t.Run("agent older than nomad_version", func(t *testing.T) { checkVersionRefused(t, s, ctx) })
	t.Run("unanswering agents", func(t *testing.T) { checkBounded(t, s, ctx) })
}

// checkDecisionKept: deploy -unknown rerun -unknown-attempt N submits the
// upgrade job with the decision (here none of the release's attempts is
// unknown, so migrate finds the release applied and runs nothing); the
// plain deploy after it finds the release migrated and submits nothing,
// rather than taking the missing flags for a new rendering.
func checkDecisionKept(t *testing.T, s *site, ctx context.Context) {
	upgradeVersion := func() uint64 {
		j, _, err := s.b.nomad.Client().Jobs().Info(s.job+"-upgrade-db", nil)
		if err != nil {
			t.Fatal(err)
		}
		return *j.Version
	}
	before := upgradeVersion()
	out, code := s.run(ctx, "deploy", "-unknown", "rerun", "-unknown-attempt", "1", s.file)
	t.Logf("deploy -unknown rerun -unknown-attempt 1 (exit %d):\n%s", code, out)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("==> Migration: job %s-upgrade-db version %d", s.job, before+1)) {
		t.Fatalf("deploy with a decision: exit %d, want 0 and a new version of the upgrade job", code)
	}
	decided := upgradeVersion()
	out, code = s.run(ctx, "deploy", s.file)
	t.Logf("plain deploy after it (exit %d):\n%s", code, out)
	if code != 0 || !strings.Contains(out, "==> Migration: release 8.4.1 already migrated") {
		t.Errorf("plain deploy after a decision: exit %d, want 0 and the release already migrated", code)
	}
	if v := upgradeVersion(); v != decided {
		t.Errorf("the plain deploy submitted the upgrade job again (version %d, was %d)", v, decided)
	}
	if n := upgradeRuns(t, s, "8.4.1"); n != 1 {
		t.Errorf("upgrade_db ran %d times for 8.4.1, want 1", n)
	}
}

// checkBounded: with Consul or Nomad accepting connections but never
// answering (a paused agent), status, plan and deploy end within a few
// -timeout periods, non-zero, with a hint naming the address.
func checkBounded(t *testing.T, s *site, ctx context.Context) {
	silent := silentListener(t)
	for _, tc := range []struct {
		name, env, hint string
		args            []string
		code            int
	}{
		{"status, Consul silent", "CONSUL_HTTP_ADDR=" + silent, "Consul at http://" + silent + " did not answer within the -timeout", []string{"status", "-timeout", "1s", s.file}, 1},
		{"status, Nomad silent", "NOMAD_ADDR=http://" + silent, "Nomad at http://" + silent + " did not answer within the -timeout", []string{"status", "-timeout", "1s", s.file}, 1},
		{"plan, Nomad silent", "NOMAD_ADDR=http://" + silent, "Nomad at http://" + silent + " did not answer", []string{"plan", "-timeout", "1s", s.file}, 255},
		{"deploy, Nomad silent", "NOMAD_ADDR=http://" + silent, "Nomad at http://" + silent + " did not answer", []string{"deploy", "-timeout", "1s", s.file}, 1},
	} {
		start := time.Now()
		out, code := s.runEnv(ctx, []string{tc.env}, tc.args...)
		took := time.Since(start)
		t.Logf("figure: %s: exit %d after %s", tc.name, code, took.Round(100*time.Millisecond))
		if code != tc.code || !strings.Contains(out, tc.hint) || took > 30*time.Second {
			t.Errorf("%s: exit %d after %s, want %d within 30s with hint %q:\n%s", tc.name, code, took, tc.code, tc.hint, out)
		}
	}
}

// checkVersionRefused: a file written for Nomad 1.10 is refused by a 1.6
// agent, with a hint to set nomad_version, and nothing is submitted.
func checkVersionRefused(t *testing.T, s *site, ctx context.Context) {
	good, _ := os.ReadFile(s.file)
	defer os.WriteFile(s.file, good, 0o644)
	os.WriteFile(s.file, []byte(strings.Replace(string(good), `nomad_version = "1.6"`, `nomad_version = "1.10"`, 1)), 0o644)
	before := *s.serviceJob().JobModifyIndex
	out, code := s.run(ctx, "deploy", s.file)
	t.Logf("deploy of a file for 1.10 (exit %d):\n%s", code, out)
	if code != 1 || !strings.Contains(out, "kantree-nomad: hint: Set nomad_version = \"1.6\"") {
		t.Errorf("deploy for Nomad 1.10 on a 1.6 agent: exit %d, want 1 with the nomad_version hint", code)
	}
	if after := *s.serviceJob().JobModifyIndex; after != before {
		t.Errorf("the refused deploy changed the job")
	}
}

// checkStatus: the holder status names is the one in Consul's KV.
func checkStatus(t *testing.T, s *site, ctx context.Context) {
	out, code := s.run(ctx, "status", s.file)
	t.Logf("status:\n%s", out)
	if code != 0 {
		t.Fatalf("status exit %d", code)
	}
	kv, _, err := s.b.consul.Client().KV().Get("kantree/ktcli/scheduler", nil)
	if err != nil || kv == nil || kv.Session == "" {
		t.Fatalf("lock key in Consul: %v %v", kv, err)
	}
	holder := strings.TrimPrefix(string(kv.Value), "kantree-lock-")
	if kv.Flags == 0 || time.Since(time.UnixMilli(int64(kv.Flags))) > 10*time.Minute {
		t.Errorf("lock key flags %d: want the time supervise acquired it", kv.Flags)
	}
	for _, want := range []string{
		"held by allocation " + short(holder),
		", lock held for ",
		"ktcli-web            1 of 1 passing: 127.0.0.1:",
		"ktcli-push           1 of 1 passing: 127.0.0.1:",
		"database migrated to 8.4.1",
		"Drift: none",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q", want)
		}
	}
}

// checkPlanCodes: 0 on no change, 1 on a count change, 255 on a broken file.
func checkPlanCodes(t *testing.T, s *site, ctx context.Context) {
	if out, code := s.run(ctx, "plan", s.file); code != 0 {
		t.Errorf("plan of the deployed file: exit %d, want 0\n%s", code, out)
	}
	good, _ := os.ReadFile(s.file)
	defer os.WriteFile(s.file, good, 0o644)
	scaled := strings.Replace(string(good), "process \"web\" {\n", "process \"web\" {\n  count = 2\n", 1)
	os.WriteFile(s.file, []byte(scaled), 0o644)
	out, code := s.run(ctx, "plan", s.file)
	t.Logf("plan with web count 2 (exit %d):\n%s", code, out)
	if code != 1 || !strings.Contains(out, `Count: "1" => "2"`) {
		t.Errorf("plan of a count change: exit %d, want 1 and the count in the diff", code)
	}
	os.WriteFile(s.file, []byte(string(good)+"\nprocess \"web\" { cpus = 1 }\n"), 0o644)
	if out, code := s.run(ctx, "plan", s.file); code != 255 {
		t.Errorf("plan of a broken file: exit %d, want 255\n%s", code, out)
	}
}

// checkConflictAndDrift changes the job by hand between deploy's plan and
// its submission: the submission is refused and status reports drift.
func checkConflictAndDrift(t *testing.T, s *site, ctx context.Context) {
	c := s.cluster()
	r := s.release()
	r.Bundle.Service.Meta["note"] = "a change deploy would make"
	p, err := c.PlanService(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	edited := s.serviceJob()
	findGroup(edited, "worker").Tasks[1].Env["EDITED_BY_HAND"] = "1"
	if _, _, err := s.b.nomad.Client().Jobs().Register(edited, nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.Submit(ctx, r, p)
	t.Logf("submit after a change by hand: %v", err)
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("submit after a concurrent change: %v, want ErrConflict", err)
	}
	if s.serviceJob().Meta["note"] != "" {
		t.Fatal("the refused submission changed the job")
	}
	out, _ := s.run(ctx, "status", s.file)
	t.Logf("status after the change by hand:\n%s", out)
	if !strings.Contains(out, "Drift: the running job differs") || !strings.Contains(out, "EDITED_BY_HAND") {
		t.Errorf("status does not report the drift")
	}
}

// Done-when 2 and 4: a release whose upgrade_db fails leaves the service
// job alone and says why; deploy again reruns the migration (once);
// rollback returns to the previous release, healthy, on the migrated
// schema.
func TestMigrationFailureRerunAndRollback(t *testing.T) {
	t.Parallel()
	s := newSite(t, "ktmig")
	ctx := testContext(t)
	deployRelease(t, s, ctx, "8.4.1")
	before := s.serviceJob()

	os.WriteFile(s.marker, nil, 0o644)
	s.write("8.5.0", s.failingArchive("8.5.0"), "")
	s.out.take()
	err := s.cluster().Deploy(ctx, s.release(), false)
	out := s.out.take()
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("deploy of a failing migration: %v, want ErrFailed", err)
	}
	for _, want := range []string{"Migration failed", "Terminated: Exit Code: 1", "stand-in wrapper: this release's upgrade_db is set to fail", "KANTREE_STUB_UPGRADE_FAIL", "the service job ktmig was not submitted"} {
		if !strings.Contains(out, want) {
			t.Errorf("failure report lacks %q", want)
		}
	}
	if after := s.serviceJob(); *after.JobModifyIndex != *before.JobModifyIndex {
		t.Errorf("service job changed: modify index %d -> %d", *before.JobModifyIndex, *after.JobModifyIndex)
	}

	os.Remove(s.marker) // the cause is fixed; the same command again
	if err := s.cluster().Deploy(ctx, s.release(), false); err != nil {
		t.Fatalf("deploy again: %v\n%s", err, s.b.nomad.AllocReport(s.job))
	}
	if n := upgradeRuns(t, s, "8.5.0"); n != 2 {
		t.Errorf("upgrade_db ran %d times for 8.5.0 (one failure, one success), want 2", n)
	}
	if err := s.cluster().Deploy(ctx, s.release(), false); err != nil || !strings.Contains(s.out.take(), "already migrated") {
		t.Errorf("a third deploy: %v, or it did not skip the done migration", err)
	}

	start := time.Now()
	if err := s.cluster().Rollback(ctx, s.release(), false); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	t.Logf("figure: rollback took %s", time.Since(start).Round(100*time.Millisecond))
	checkRunning(t, s, "8.4.1")
	if v := schemaVersion(t, s); v != "8.5.0" {
		t.Errorf("schema at %s after rollback, want 8.5.0 (the migrated one)", v)
	}
	// Issue 15, case 2: rollback again says there is nothing older; it
	// does not return to 8.5.0, the release just backed out of.
	before = s.serviceJob()
	out, code := s.run(ctx, "rollback", s.file)
	if code != 1 || !strings.Contains(out, "nothing older to return to: Kantree 8.4.1 is the oldest release") {
		t.Errorf("second rollback: exit %d, want 1 and nothing older:\n%s", code, out)
	}
	if after := s.serviceJob(); *after.JobModifyIndex != *before.JobModifyIndex {
		t.Errorf("the refused rollback changed the job")
	}
}

// Done-when 3: a release whose web health check fails is reverted by
// Nomad; deploy says so and exits with ErrFailed; the previous version
// runs healthy afterwards.
func TestFailingHealthCheckReverts(t *testing.T) {
	t.Parallel()
	s := newSite(t, "kthealth")
	ctx := testContext(t)
	deployRelease(t, s, ctx, "8.4.1")

	os.WriteFile(s.webMarker, nil, 0o644)
	s.write("8.4.2", s.failingArchive("8.4.2"), "")
	s.out.take()
	start := time.Now()
	err := s.cluster().Deploy(ctx, s.release(), false)
	out := s.out.take()
	t.Logf("figure: deploy of a release with a failing health check returned after %s: %v", time.Since(start).Round(100*time.Millisecond), err)
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "reverted to version 0") {
		t.Fatalf("deploy: %v, want ErrFailed with the revert", err)
	}
	for _, want := range []string{"Nomad reverted job kthealth to version 0", "unhealthy", "web never listens"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	checkRunning(t, s, "8.4.1")
}

// Done-when 6: a count set with nomad job scale survives a deploy of an
// unrelated change; a count changed in kantree.hcl wins.
func TestScaledCountSurvivesDeploy(t *testing.T) {
	t.Parallel()
	s := newSite(t, "ktscale")
	ctx := testContext(t)
	a := s.stdArchive("8.4.1")
	s.write("8.4.1", a, "")
	mustDeploy(t, s, ctx)
	if out, err := s.b.nomad.CLI(ctx, "job", "scale", s.job, "web", "3"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	s.b.nomad.WaitRunning(t, s.job, 6, 2*time.Minute)

	s.write("8.4.1", a, "worker_group \"mail\" {\n  queues = [\"mail\"]\n}\n")
	s.out.take()
	mustDeploy(t, s, ctx)
	out := s.out.take()
	if got := num(findGroup(s.serviceJob(), "web").Count); got != 3 {
		t.Errorf("web count %d after an unrelated deploy, want 3 (set by nomad job scale)", got)
	}
	if !strings.Contains(out, "web: keeping count 3 set by nomad job scale") {
		t.Errorf("deploy does not say it keeps the count")
	}

	s.webExtra = "  count = 2\n"
	s.write("8.4.1", a, "worker_group \"mail\" {\n  queues = [\"mail\"]\n}\n")
	mustDeploy(t, s, ctx)
	if got := num(findGroup(s.serviceJob(), "web").Count); got != 2 {
		t.Errorf("web count %d after kantree.hcl changed it, want 2", got)
	}
	checkSchedulerScaledToZero(t, s, ctx)
}

// checkSchedulerScaledToZero: issue 15, case 5. `nomad job scale` of the
// scheduler to 0 is drift that plan (exit 1) and status (exit 3) show,
// and deploy restores the derived count.
func checkSchedulerScaledToZero(t *testing.T, s *site, ctx context.Context) {
	if out, err := s.b.nomad.CLI(ctx, "job", "scale", "-detach", s.job, "scheduler", "0"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(250 * time.Millisecond) {
		kv, _, err := s.b.consul.Client().KV().Get("kantree/"+s.job+"/scheduler", nil)
		if err == nil && (kv == nil || kv.Session == "") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scheduler lock is still held a minute after scaling to 0")
		}
	}
	out, code := s.run(ctx, "plan", s.file)
	if code != 1 || !strings.Contains(out, "scheduler: count 0 -> 1 from kantree.hcl: the scheduler group was scaled to 0") {
		t.Errorf("plan after scaling the scheduler to 0: exit %d, want 1 and the restoring count:\n%s", code, out)
	}
	out, code = s.run(ctx, "status", s.file)
	if code != 3 || !strings.Contains(lastLine(out), "the scheduler group is scaled to 0") || !strings.Contains(lastLine(out), "nobody holds the scheduler lock") {
		t.Errorf("status after scaling the scheduler to 0: exit %d, want 3 naming it:\n%s", code, out)
	}
	if out, code = s.run(ctx, "deploy", s.file); code != 0 || !strings.Contains(out, "restoring it") {
		t.Errorf("deploy after scaling the scheduler to 0: exit %d, want 0 and the restored count:\n%s", code, out)
	}
	if got := num(findGroup(s.serviceJob(), "scheduler").Count); got != 1 {
		t.Errorf("scheduler count %d after deploy, want 1", got)
	}
}

// mustDeploy deploys the site's file (fast timings) and fails the test
// on error.
func mustDeploy(t *testing.T, s *site, ctx context.Context) {
	t.Helper()
	start := time.Now()
	if err := s.cluster().Deploy(ctx, s.release(), false); err != nil {
		t.Fatalf("deploy: %v\n%s", err, s.b.nomad.AllocReport(s.job))
	}
	t.Logf("figure: deploy took %s", time.Since(start).Round(100*time.Millisecond))
}

// deployRelease writes the site's file for release v from the stand-in's
// archive and deploys it.
func deployRelease(t *testing.T, s *site, ctx context.Context, v string) {
	t.Helper()
	s.write(v, s.stdArchive(v), "")
	mustDeploy(t, s, ctx)
}

// checkRunning checks that the service job runs release v, its latest
// deployment successful and every group healthy.
func checkRunning(t *testing.T, s *site, v string) {
	t.Helper()
	job := s.serviceJob()
	if got := job.Meta["kantree_version"]; got != v {
		t.Errorf("job runs Kantree %s, want %s", got, v)
	}
	dep, _, err := s.b.nomad.Client().Jobs().LatestDeployment(s.job, nil)
	if err != nil || dep == nil || dep.Status != nomadapi.DeploymentStatusSuccessful {
		t.Errorf("latest deployment: %+v %v, want successful", dep, err)
	}
	for name, g := range dep.TaskGroups {
		if g.HealthyAllocs < g.DesiredTotal {
			t.Errorf("group %s: %d healthy of %d", name, g.HealthyAllocs, g.DesiredTotal)
		}
	}
	passing, _, err := s.b.consul.Client().Health().Service(s.job+"-web", "", true, nil)
	if err != nil || len(passing) == 0 {
		t.Errorf("no passing web instance in Consul: %v", err)
	}
}

func dbConn(t *testing.T, s *site) *pgx.Conn { return testbed.Connect(t, s.db) }

func upgradeRuns(t *testing.T, s *site, v string) int {
	t.Helper()
	n, err := kantreestub.CountUpgradeRuns(context.Background(), dbConn(t, s), v)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func schemaVersion(t *testing.T, s *site) string {
	t.Helper()
	v, err := kantreestub.SchemaVersion(context.Background(), dbConn(t, s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestInterruptStopsWatchingOnly: Ctrl-C (SIGINT) while deploy watches
// ends the command with 130 and the command to resume watching; the
// deployment goes on in Nomad and succeeds.
func TestInterruptStopsWatchingOnly(t *testing.T) {
	t.Parallel()
	s := newSite(t, "ktint")
	s.realTimings = true // 45s for the scheduler: time to interrupt
	s.write("8.4.1", s.stdArchive("8.4.1"), "")
	ctx := testContext(t)
	cmd := exec.CommandContext(ctx, s.b.cli, "deploy", s.file)
	cmd.Env = append(os.Environ(), "NOMAD_ADDR="+s.b.nomad.Addr(), "CONSUL_HTTP_ADDR="+s.b.consul.HTTPAddr)
	out := &lockedBuffer{t: t}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(out.String(), "running: Deployment is running") {
		if ctx.Err() != nil {
			t.Fatalf("no deployment watched:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 || !strings.Contains(out.String(), "nomad deployment status -monitor") {
		t.Fatalf("deploy after SIGINT: %v, want exit 130 and how to resume watching:\n%s", err, out.String())
	}
	// Issue 15, case 4: the same deploy again, as its hint says, finds
	// no change and watches the deployment still running to its end.
	again, code := s.run(ctx, "deploy", s.file)
	if code != 0 || !strings.Contains(again, "no change (version 0); its deployment") || !strings.Contains(again, "is running") || !strings.Contains(lastLine(again), "successful") {
		t.Fatalf("deploy again after the interrupt: exit %d, want 0 after watching the running deployment:\n%s", code, again)
	}
	checkRunning(t, s, "8.4.1")
}

// A count set with nomad job scale after the target version was deployed
// survives a rollback, by deploy's rule: the scaling started from the
// count the target version says. The version nomad job scale made is the
// same release and is not the target: rollback returns to the release
// before.
func TestRollbackKeepsScaledCount(t *testing.T) {
	t.Parallel()
	s := newSite(t, "ktrbscale")
	ctx := testContext(t)
	deployRelease(t, s, ctx, "8.4.1")
	deployRelease(t, s, ctx, "8.4.2")
	if out, err := s.b.nomad.CLI(ctx, "job", "scale", s.job, "web", "3"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	s.b.nomad.WaitRunning(t, s.job, 6, 2*time.Minute)
	waitDeploymentsEnd(t, s, ctx)
	scaled := version(s.serviceJob())

	s.out.take()
	if err := s.cluster().Rollback(ctx, s.release(), false); err != nil {
		t.Fatalf("rollback: %v\n%s", err, s.b.nomad.AllocReport(s.job))
	}
	out := s.out.take()
	want := fmt.Sprintf("==> Rolling job ktrbscale back from version %d (Kantree 8.4.2) to version 0 (Kantree 8.4.1)", scaled)
	for _, w := range []string{want, "web: keeping count 3 set by nomad job scale (version 0 says 1"} {
		if !strings.Contains(out, w) {
			t.Errorf("rollback output lacks %q", w)
		}
	}
	checkRunning(t, s, "8.4.1")
	if got := num(findGroup(s.serviceJob(), "web").Count); got != 3 {
		t.Errorf("web count %d after rollback, want 3 (set by nomad job scale)", got)
	}
	// A second rollback does not go forward to 8.4.2 again.
	err := s.cluster().Rollback(ctx, s.release(), false)
	if err == nil || !strings.Contains(err.Error(), "nothing older to return to") {
		t.Errorf("second rollback: %v, want a refusal: nothing older", err)
	}
	checkRunning(t, s, "8.4.1")
}

// waitDeploymentsEnd waits until the job's latest deployment is over.
func waitDeploymentsEnd(t *testing.T, s *site, ctx context.Context) {
	t.Helper()
	for {
		dep, _, err := s.b.nomad.Client().Jobs().LatestDeployment(s.job, nil)
		if err == nil && (dep == nil || !active(dep.Status)) {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("deployment of job %s still %s", s.job, dep.Status)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
