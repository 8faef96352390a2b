package e2e_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/generator"
	"github.com/kantree-nomad/kantree-nomad/internal/examples"
	"github.com/kantree-nomad/kantree-nomad/internal/kantreestub"
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
			for _, job := range []*nomadapi.Job{b.Service, b.UpgradeDB} {
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
// upgrade-db job, then the service job. Then a second release (new
// tarball) under load through nginx.
func TestReleaseOnNomad(t *testing.T) {
	c := shared(t)
	d := c.deploy(t, spec{job: "kt-release", version: "8.4.1"})
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

	start := time.Now()
	c.run(t, d.writeJob(t, d.bundle.Service, "hcl"))
	status, _ := c.waitDeployment(t, d.dep.Job, c.jobVersion(t, d.dep.Job), 5*time.Minute)
	if !strings.HasPrefix(status, "successful") {
		t.Fatalf("deployment: %s\n%s", status, c.nomad.AllocReport(d.dep.Job))
	}
	t.Logf("service job 8.4.1: deployment successful %.1fs after submit", time.Since(start).Seconds())
	for _, svc := range []string{d.dep.Job + "-web", d.dep.Job + "-push"} {
		want := map[string]int{d.dep.Job + "-web": 2, d.dep.Job + "-push": 1}[svc]
		if got := c.passing(t, svc); len(got) != want {
			t.Errorf("Consul: %d passing instances of %s (%v), want %d", len(got), svc, got, want)
		}
	}
}
