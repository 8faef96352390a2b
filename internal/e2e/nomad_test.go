package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/generator"
	"github.com/kantree-nomad/kantree-nomad/internal/examples"
	"github.com/kantree-nomad/kantree-nomad/internal/kantreestub"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// TestExamplesValidateAndPlan: `nomad job validate` and `nomad job plan`
// accept every job of every example rendered for Nomad 1.6, HCL and JSON.
// Plan's exit code 1 (changes) is expected; 255 is an error.
func TestExamplesValidateAndPlan(t *testing.T) {
	c := shared(t)
	for _, e := range examples.ForNomad(t, "1.6") {
		// The test cluster is one region, namespace and node pool: the
		// examples' own would make plan fail for want of them, not of
		// anything in the jobs.
		e.Dep.Region, e.Dep.Namespace, e.Dep.NodePool = "", "", ""
		b, err := generator.Generate(e.Dep)
		if err != nil {
			t.Fatal(err)
		}
		d := &deployment{c: c}
		for _, format := range []string{"hcl", "json"} {
			for _, job := range b.Jobs() {
				path := d.writeJob(t, job, format)
				flags := []string{}
				if format == "json" {
					flags = append(flags, "-json")
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				out, err := c.nomad.CLI(ctx, append(append([]string{"job", "validate"}, flags...), path)...)
				if err != nil {
					t.Errorf("%s: nomad job validate %s: %v\n%s", e.Name, *job.ID+"."+format, err, out)
				}
				out, err = c.nomad.CLI(ctx, append(append([]string{"job", "plan"}, flags...), path)...)
				cancel()
				if code := exitCode(err); code != 0 && code != 1 {
					t.Errorf("%s: nomad job plan %s: exit %d\n%s", e.Name, *job.ID+"."+format, code, out)
				}
			}
		}
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -1
}

// TestReleaseOnNomad runs a release the way the runbook says: the
// upgrade-db job, then the service job. Then, under load through nginx
// (consul-template following the catalog), a second release with a new
// tarball: canaries promoted, no failed request, never two schedulers.
func TestReleaseOnNomad(t *testing.T) {
	c := shared(t)
	port := testbed.FreePort(t)
	d := c.deploy(t, spec{job: "kt-release", version: "8.4.1", extra: fmt.Sprintf("load_balancer {\n  listen = %d\n}\n", port)})
	c.purgeAtEnd(t, d.dep.Job)
	c.purgeAtEnd(t, d.dep.UpgradeJob)
	db := d.db(t)
	ctx := context.Background()

	c.run(t, d.writeJob(t, d.bundle.UpgradeDB, "hcl"))
	took := c.waitBatch(t, d.dep.UpgradeJob, 3*time.Minute)
	t.Logf("upgrade-db 8.4.1 complete %.1fs after submit", took.Seconds())
	if n, err := kantreestub.CountUpgradeRuns(ctx, db, "8.4.1"); err != nil || n != 1 {
		t.Fatalf("upgrade_db ran %d times for 8.4.1 (%v), want 1", n, err)
	}
	fetched := c.files.Fetches("/kantree-8.4.1.tar.gz")
	start := time.Now()
	c.run(t, d.writeJob(t, d.bundle.Service, "hcl"))
	status, _ := c.waitDeployment(t, d.dep.Job, c.jobVersion(t, d.dep.Job), 5*time.Minute)
	if !strings.HasPrefix(status, "successful") {
		t.Fatalf("deployment: %s\n%s", status, c.nomad.AllocReport(d.dep.Job))
	}
	t.Logf("service job 8.4.1: deployment successful %.1fs after submit", time.Since(start).Seconds())
	d.checkPassing(t, 2, 1)
	d.checkInitNode(t, db)
	if n, want := c.files.Fetches("/kantree-8.4.1.tar.gz")-fetched, len(c.allocs(t, d.dep.Job)); n != want {
		t.Errorf("the release archive was fetched %d times for %d allocations, want once each", n, want)
	}

	files, err := d.bundle.Render("hcl")
	if err != nil {
		t.Fatal(err)
	}
	balancer := c.startLB(t, files, port)
	ld := balancer.StartLoad(2, 20*time.Millisecond)
	status = d.release(t, "8.4.2")
	requests, failures, samples := ld.Stop()
	t.Logf("release 8.4.1 -> 8.4.2 under load: %d requests through nginx, %d failed", requests, failures)
	if !strings.HasPrefix(status, "successful") {
		t.Fatalf("release deployment: %s\n%s", status, c.nomad.AllocReport(d.dep.Job))
	}
	if failures > 0 {
		t.Errorf("%d of %d requests failed during the release:\n%s", failures, requests, samples)
	}
	d.checkPromoted(t)
	if n, _ := kantreestub.CountUpgradeRuns(ctx, db, "8.4.2"); n != 1 {
		t.Errorf("upgrade_db ran %d times for 8.4.2, want 1", n)
	}
	if ov := kantreestub.Overlap(schedulerRuns(t, db)); ov > 0 {
		t.Errorf("two schedulers ran at once for %s during the release", ov)
	}
	d.checkPassing(t, 2, 1)

	// nomad alloc stop of a web instance under load: Nomad deregisters it,
	// waits shutdown_delay while nginx drops it, stops it and places a
	// replacement.
	ld = balancer.StartLoad(2, 20*time.Millisecond)
	stopped := d.webAlloc(t)
	d.allocStop(t, stopped)
	d.waitWebReplaced(t, stopped)
	requests, failures, samples = ld.Stop()
	t.Logf("nomad alloc stop of a web instance under load: %d requests through nginx, %d failed", requests, failures)
	if failures > 0 {
		t.Errorf("%d of %d requests failed around nomad alloc stop:\n%s", failures, requests, samples)
	}

	// SIGKILL of a web task's process under load: nginx retries the
	// refused requests (GETs here) on the other instance until the Consul
	// check fails and consul-template drops it; Nomad restarts the task.
	ld = balancer.StartLoad(2, 20*time.Millisecond)
	killed := d.webAlloc(t)
	killProcess(t, killed, "run", "web")
	d.waitWebRestarted(t, killed)
	requests, failures, samples = ld.Stop()
	t.Logf("SIGKILL of a web task under load: %d GET requests through nginx, %d failed", requests, failures)
	if failures > 0 {
		t.Errorf("%d of %d requests failed around the SIGKILL:\n%s", failures, requests, samples)
	}
}

// waitWebRestarted waits until the allocation's web task has restarted
// and two web instances pass their checks again.
func (d *deployment) waitWebRestarted(t *testing.T, alloc string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		a, _, err := d.c.nomad.Client().Allocations().Info(alloc, nil)
		if err == nil && a.TaskStates["web"] != nil && a.TaskStates["web"].Restarts > 0 &&
			a.TaskStates["web"].State == "running" && len(d.c.passing(t, d.dep.Job+"-web")) == 2 {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("web task of %s not restarted and passing within 2m\n%s", alloc[:8], d.c.nomad.AllocReport(d.dep.Job))
}

// webAlloc is a running web allocation.
func (d *deployment) webAlloc(t *testing.T) string {
	t.Helper()
	for _, a := range d.c.allocs(t, d.dep.Job) {
		if a.TaskGroup == "web" && a.ClientStatus == "running" {
			return a.ID
		}
	}
	t.Fatal("no running web allocation")
	return ""
}

// waitWebReplaced waits until two web instances other than old pass
// their checks in Consul.
func (d *deployment) waitWebReplaced(t *testing.T, old string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		running := 0
		for _, a := range d.c.allocs(t, d.dep.Job) {
			if a.TaskGroup == "web" && a.ID != old && a.ClientStatus == "running" {
				running++
			}
		}
		if running == 2 && len(d.c.passing(t, d.dep.Job+"-web")) == 2 {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("web allocation %s not replaced within 2m\n%s", old[:8], d.c.nomad.AllocReport(d.dep.Job))
}

// checkPassing checks the Consul checks of web and push.
func (d *deployment) checkPassing(t *testing.T, web, push int) {
	t.Helper()
	for svc, want := range map[string]int{d.dep.Job + "-web": web, d.dep.Job + "-push": push} {
		if got := d.c.passing(t, svc); len(got) != want {
			t.Errorf("Consul: %d passing instances of %s (%v), want %d", len(got), svc, got, want)
		}
	}
}

// checkPromoted checks that the latest deployment promoted its canaries.
func (d *deployment) checkPromoted(t *testing.T) {
	t.Helper()
	dep, _, err := d.c.nomad.Client().Jobs().LatestDeployment(d.dep.Job, nil)
	if err != nil || dep == nil {
		t.Fatalf("latest deployment: %v", err)
	}
	for name, g := range dep.TaskGroups {
		if g.DesiredCanaries > 0 && !g.Promoted {
			t.Errorf("group %s: %d canaries not promoted", name, g.DesiredCanaries)
		}
	}
}

// release migrates d to version and rolls the service job to it, and
// returns the deployment's status.
func (d *deployment) release(t *testing.T, version string) string {
	t.Helper()
	d.version = version
	d.render(t)
	d.c.run(t, d.writeJob(t, d.bundle.UpgradeDB, "hcl"))
	d.c.waitBatch(t, d.dep.UpgradeJob, 3*time.Minute)
	d.c.run(t, d.writeJob(t, d.bundle.Service, "hcl"))
	status, took := d.c.waitDeployment(t, d.dep.Job, d.c.jobVersion(t, d.dep.Job), 8*time.Minute)
	t.Logf("release %s: deployment %s after %.1fs", version, status, took.Seconds())
	return status
}

// checkInitNode checks, from the stand-in's records, that init_node ran
// once in every allocation of the service job, and that the allocation's
// process started on that initialisation, after it.
func (d *deployment) checkInitNode(t *testing.T, db *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	inits, err := kantreestub.NodeInitRuns(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	starts, err := kantreestub.ProcessStarts(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	allocs := d.c.allocs(t, d.dep.Job)
	for _, a := range allocs {
		var mine []kantreestub.NodeInitRun
		for _, in := range inits {
			if in.InstanceID == a.ID {
				mine = append(mine, in)
			}
		}
		if len(mine) != 1 || mine[0].Run != 1 {
			t.Errorf("allocation %s (%s): init_node runs %+v, want exactly one, the root's first", a.ID[:8], a.TaskGroup, mine)
			continue
		}
		started := 0
		for _, s := range starts {
			if s.InstanceID != a.ID {
				continue
			}
			started++
			if s.InitID != mine[0].InitID || s.InitRuns != 1 || s.At.Before(mine[0].At) {
				t.Errorf("allocation %s: %s started on init %s (runs %d) at %s; init_node %s ran at %s", a.ID[:8], s.Process, s.InitID, s.InitRuns, s.At, mine[0].InitID, mine[0].At)
			}
		}
		if started == 0 {
			t.Errorf("allocation %s (%s): no recorded process start", a.ID[:8], a.TaskGroup)
		}
	}
	t.Logf("init_node ran once in each of %d allocations, before its process", len(allocs))
}

// TestExecDriverOnNomad runs the deployment under the exec driver (its
// chroot holds kantree-nomad at the default path, as a node would): the
// migration, then a successful deployment with its checks passing and
// init_node in every allocation.
func TestExecDriverOnNomad(t *testing.T) {
	c := shared(t)
	d := c.deploy(t, spec{job: "kt-exec", version: "8.4.1", driver: "exec", web: 1})
	d.start(t)
	d.checkPassing(t, 1, 1)
	d.checkInitNode(t, d.db(t))
}
