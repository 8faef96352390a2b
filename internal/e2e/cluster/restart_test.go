//go:build cluster

package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// TestServerRestartDuringDeploy is issue 19, scenario 5: the Nomad server
// restarts (on its data dir, ports and configuration) while
// `kantree-nomad deploy` watches a rolling deployment with a canary. The
// deploy must not end early with a false result: within its -outage it
// watches on and reports the deployment's true outcome (compared with
// Nomad's record afterwards), exit 0 for a success; beyond it, it stops
// with exit 3 and a last line naming the command that watches the
// deployment to its end, and that command works once the server is back.
// Last, rollback rides out a restart the same way.
func TestServerRestartDuringDeploy(t *testing.T) {
	e := shared(t)
	o := e.newOperator(t, spec{job: "kt-restart", standbys: 1})
	first := o.deploy(t, 1, nil)
	if code := first.wait(t, 8*time.Minute); code != 0 {
		t.Fatalf("the first release: exit %d, want 0:\n%s\n%s", code, first.out, e.cl.Server.AllocReport(o.job))
	}
	for i, tc := range []struct {
		name   string
		hard   bool          // SIGKILL, not SIGTERM
		down   time.Duration // from the server's exit to its start again
		outage time.Duration // deploy's -outage (0: its default)
	}{
		{name: "SIGTERM", down: 8 * time.Second},
		{name: "SIGKILL", hard: true, down: 8 * time.Second},
		{name: "SIGTERM beyond -outage", down: 20 * time.Second, outage: 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var args []string
			if tc.outage > 0 {
				args = []string{"-outage", tc.outage.String()}
			}
			run := o.deploy(t, i+2, args)
			depID := e.deploymentID(t, run, 5*time.Minute)
			time.Sleep(3 * time.Second) // the watch is under way
			if run.exited() {
				t.Fatalf("deploy ended before the restart:\n%s", run.out)
			}
			rs := e.cl.RestartServer(t, tc.hard, tc.down)
			code := run.wait(t, 8*time.Minute)
			if tc.outage > 0 {
				e.checkGaveUp(t, run, rs, code, depID, tc.outage)
			} else {
				e.checkRodeOut(t, run, rs, code, depID)
			}
		})
	}
	// rollback watches its deployment with the same watch: it rides out
	// a restart too, and reports the deployment's true outcome. It
	// returns to the previous Kantree release, so there must be a newer
	// one to return from: 8.4.2 (its migration and deployment first).
	t.Run("rollback, SIGTERM", func(t *testing.T) {
		next := testbed.PlatformTarball(t, e.dir, "8.4.2")
		hcl := strings.NewReplacer(`version     = "8.4.1"`, `version     = "8.4.2"`, e.tarball.Name, next.Name, e.tarball.Checksum, next.Checksum).Replace(o.hcl)
		if err := os.WriteFile(o.file, []byte(hcl), 0o644); err != nil {
			t.Fatal(err)
		}
		if code := e.startDeploy(t, o.file).wait(t, 8*time.Minute); code != 0 {
			t.Fatalf("deploy of Kantree 8.4.2: exit %d, want 0", code)
		}
		run := e.startCLI(t, "rollback", o.file)
		depID := e.deploymentID(t, run, 5*time.Minute)
		time.Sleep(3 * time.Second)
		if run.exited() {
			t.Fatalf("rollback ended before the restart:\n%s", run.out)
		}
		rs := e.cl.RestartServer(t, false, 8*time.Second)
		code := run.wait(t, 8*time.Minute)
		e.checkRodeOut(t, run, rs, code, depID)
		if want := "==> Rolling job " + o.job + " back from version"; !strings.Contains(run.text(), want) {
			t.Errorf("rollback's output lacks %q", want)
		}
	})
}

// checkRodeOut: deploy watched across the outage, said so, and its exit
// code and verdict are the deployment's outcome in Nomad.
func (e *env) checkRodeOut(t *testing.T, run *cliRun, rs testbed.ServerRestart, code int, depID string) {
	t.Helper()
	dep := e.deploymentInfo(t, depID)
	lost, okLost := run.out.when("kantree-nomad: warning: Nomad does not answer")
	back, okBack := run.out.when("kantree-nomad: Nomad answers again")
	figure(t, "server restart (hard %v): API down %.1fs (exited %.2fs after the signal); %s blind %.1fs, took %.1fs, exit %d; deployment %s %s (%s)",
		rs.Hard, rs.Down().Seconds(), rs.Stop.Seconds(), run.name(), back.Sub(lost).Seconds(), run.took().Seconds(), code, depID[:8], dep.Status, dep.StatusDescription)
	t.Logf("what deploy saw first: %s", run.out.line("kantree-nomad: warning: Nomad does not answer"))
	if !okLost || !okBack {
		t.Errorf("deploy did not say that Nomad stopped answering (%v) and answers again (%v): the restart missed the watch?", okLost, okBack)
	}
	if run.end.Before(rs.Leader) {
		t.Errorf("deploy ended at %s, before the server was back (%s)", run.end.Format(time.StampMilli), rs.Leader.Format(time.StampMilli))
	}
	want := map[string]int{nomadapi.DeploymentStatusSuccessful: 0, nomadapi.DeploymentStatusFailed: 1}
	if w, ok := want[dep.Status]; !ok || code != w {
		t.Errorf("deploy exit %d, but Nomad says deployment %s is %s (want exit 0 for successful, 1 for failed):\n%s", code, depID[:8], dep.Status, run.out)
	}
	if verdict := fmt.Sprintf("==> Deployment %s %s after", depID[:8], dep.Status); !strings.Contains(run.out.String(), verdict) {
		t.Errorf("deploy's output lacks %q:\n%s", verdict, run.out)
	}
	if dep.Status != nomadapi.DeploymentStatusSuccessful {
		t.Errorf("deployment %s %s after a server restart: %s\n%s", depID[:8], dep.Status, dep.StatusDescription, e.cl.Server.AllocReport(dep.JobID))
	}
}

// checkGaveUp: beyond -outage deploy stopped while the server was still
// down, exit 3, its last line naming the command to watch again; that
// command, run once the server is back, reports the true outcome.
func (e *env) checkGaveUp(t *testing.T, run *cliRun, rs testbed.ServerRestart, code int, depID string, outage time.Duration) {
	t.Helper()
	last := lastLine(run.out.String())
	lost, _ := run.out.when("kantree-nomad: warning: Nomad does not answer")
	resume := "nomad deployment status -monitor " + depID
	if code != 3 || !strings.HasSuffix(last, resume) {
		t.Errorf("deploy beyond -outage: exit %d, last line %q; want exit 3 and a last line ending with %q:\n%s", code, last, resume, run.out)
	}
	if run.end.After(rs.Started) || run.end.Sub(lost) < outage {
		t.Errorf("deploy gave up %.1fs after Nomad stopped answering (server started again %.1fs after that); want within [%s, the server's return]",
			run.end.Sub(lost).Seconds(), rs.Started.Sub(lost).Seconds(), outage)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := e.cl.Server.CLI(ctx, strings.Fields(resume)[1:]...)
	monitorCode := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		monitorCode = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	dep := e.deploymentInfo(t, depID)
	figure(t, "server down %.1fs (SIGTERM), deploy -outage %s: gave up %.1fs after Nomad stopped answering, exit %d, deploy took %.1fs; `%s` after the return: exit %d after %.1fs; deployment %s",
		rs.Down().Seconds(), outage, run.end.Sub(lost).Seconds(), code, run.took().Seconds(), "nomad deployment status -monitor ID", monitorCode, time.Since(start).Seconds(), dep.Status)
	// Its exit code is no verdict (nomad 1.6.1 exits 0 on a cancelled
	// deployment too); the status it prints is.
	if !regexp.MustCompile(`(?m)^Status\s+= ` + dep.Status + `$`).MatchString(out) {
		t.Errorf("the resume command (exit %d) does not end on deployment %s's status, %s:\n%s", monitorCode, depID[:8], dep.Status, out)
	}
	if dep.Status != nomadapi.DeploymentStatusSuccessful {
		t.Errorf("deployment %s %s: %s", depID[:8], dep.Status, dep.StatusDescription)
	}
}

// deploymentInfo waits until Nomad has the deployment's outcome and
// returns it.
func (e *env) deploymentInfo(t *testing.T, id string) *nomadapi.Deployment {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		dep, _, err := e.nomad().Deployments().Info(id, nil)
		if err == nil && dep.Status != nomadapi.DeploymentStatusRunning && dep.Status != "pending" && dep.Status != "initializing" {
			return dep
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment %s: no outcome after 5m (%v)", id, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// operator deploys one job as a person would: kantree-nomad deploy on a
// deployment file, with NOMAD_ADDR and CONSUL_HTTP_ADDR set.
type operator struct {
	e    *env
	job  string
	hcl  string // the deployment file of the spec
	file string
}

func (e *env) newOperator(t *testing.T, s spec) *operator {
	t.Helper()
	d := e.render(t, s) // the database and the job's variables
	return &operator{e: e, job: d.dep.Job, hcl: e.kantreeHCL(d.spec), file: writeFile(t, "kantree.hcl", nil)}
}

// webBlock is the web process block of kantreeHCL.
const webBlock = "process \"web\" {\n  count          = 3\n  cpu            = 100\n  memory         = 128\n"

// deploy writes release n's deployment file and starts deploy on it. From
// release 2 on, web has 128+n MB (a new version of the job) and a
// min_healthy_time of 12s: its rolling deployment (a canary, promoted
// when healthy, then the other instances one at a time) lasts about a
// minute.
func (o *operator) deploy(t *testing.T, n int, args []string) *cliRun {
	t.Helper()
	hcl := o.hcl
	if n > 1 {
		web := strings.Replace(webBlock, "128", fmt.Sprint(128+n), 1) + "  min_healthy_time = \"12s\"\n"
		if hcl = strings.Replace(hcl, webBlock, web, 1); hcl == o.hcl {
			t.Fatal("the deployment file has no web block to change")
		}
	}
	if err := os.WriteFile(o.file, []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	return o.e.startCLI(t, append(append([]string{"deploy"}, args...), o.file)...)
}

var watchRE = regexp.MustCompile(`==> Deployment ([0-9a-f]{8}) of job`)

// deploymentID waits until deploy watches a deployment and returns its
// full ID (deploy prints the first 8 characters, as the nomad CLI does).
func (e *env) deploymentID(t *testing.T, r *cliRun, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && !r.exited() {
		if m := watchRE.FindStringSubmatch(r.out.String()); m != nil {
			deps, _, err := e.nomad().Deployments().PrefixList(m[1])
			if err != nil || len(deps) != 1 {
				t.Fatalf("deployment %s: %v (%d found)", m[1], err, len(deps))
			}
			return deps[0].ID
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("deploy watches no deployment (exited: %v):\n%s", r.exited(), r.out)
	return ""
}

// TestServerRestartDuringMigration is scenario 5 at deploy's first wait:
// the Nomad server restarts while the migration runs (upgrade_db takes
// upgradeSeconds; the client runs it on while the server is away). Within
// -outage deploy waits on, sees the migration end and completes the
// release; beyond it deploy stops with exit 3 while the server is still
// down, submits no service job, and its last line says to run the same
// deploy again, which, once the server is back, completes the release
// without running upgrade_db again.
func TestServerRestartDuringMigration(t *testing.T) {
	e := shared(t)
	for i, tc := range []struct {
		name   string
		down   time.Duration
		outage time.Duration // deploy's -outage (0: its default)
	}{
		{name: "SIGTERM", down: 8 * time.Second},
		{name: "SIGTERM beyond -outage", down: 20 * time.Second, outage: 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := e.render(t, spec{job: fmt.Sprintf("kt-rmig%d", i+1), extra: fmt.Sprintf("config {\n  settings = {\n    kantree_stub_upgrade_seconds = %q\n  }\n}\n", strconv.Itoa(upgradeSeconds))})
			file := writeFile(t, "kantree.hcl", []byte(e.kantreeHCL(d.spec)))
			db := d.db(t)
			var args []string
			if tc.outage > 0 {
				args = []string{"-outage", tc.outage.String()}
			}
			run := e.startDeploy(t, append(args, file)...)
			up := firstUpgradeRun(t, db, 3*time.Minute)
			time.Sleep(time.Until(up.Started.Add(3 * time.Second)))
			rs := e.cl.RestartServer(t, false, tc.down)
			code := run.wait(t, 8*time.Minute)
			lost, okLost := run.out.when("kantree-nomad: warning: Nomad does not answer")
			back, okBack := run.out.when("kantree-nomad: Nomad answers again")
			if !okLost {
				t.Fatalf("deploy never said that Nomad stopped answering: the restart missed the migration's wait?\n%s", run.text())
			}
			if tc.outage == 0 {
				figure(t, "server restart during the migration: API down %.1fs; deploy blind %.1fs; deploy took %.1fs, exit %d, last line %q",
					rs.Down().Seconds(), back.Sub(lost).Seconds(), run.took().Seconds(), code, run.last())
				if code != 0 || !okBack {
					t.Fatalf("deploy across a server restart during the migration: exit %d (said Nomad answers again: %v), want 0", code, okBack)
				}
				checkMigrated(t, d, db, run, "")
			} else {
				last := run.last()
				figure(t, "server down %.1fs during the migration, deploy -outage %s: gave up %.1fs after Nomad stopped answering, exit %d, last line %q",
					rs.Down().Seconds(), tc.outage, run.end.Sub(lost).Seconds(), code, last)
				if code != 3 || !strings.Contains(last, "run the same deploy again") || !strings.Contains(run.text(), fmt.Sprintf("the service job %s was not submitted", d.dep.Job)) {
					t.Errorf("deploy beyond -outage during the migration: exit %d, last line %q; want exit 3, the service job not submitted, and a last line saying to run the same deploy again", code, last)
				}
				if run.end.After(rs.Started) || run.end.Sub(lost) < tc.outage {
					t.Errorf("deploy gave up %.1fs after Nomad stopped answering (server started again %.1fs after that); want within [%s, the server's return]",
						run.end.Sub(lost).Seconds(), rs.Started.Sub(lost).Seconds(), tc.outage)
				}
				again := e.startDeploy(t, file)
				code2 := again.wait(t, 8*time.Minute)
				figure(t, "the same deploy again, after the server's return: exit %d after %.1fs, last line %q", code2, again.took().Seconds(), again.last())
				if code2 != 0 {
					t.Fatalf("the same deploy again: exit %d, want 0", code2)
				}
				checkMigrated(t, d, db, again, "")
			}
			if runs := upgradeRuns(t, db); len(runs) != 1 {
				t.Errorf("upgrade_db ran %d times, want once: %+v", len(runs), runs)
			}
		})
	}
}
