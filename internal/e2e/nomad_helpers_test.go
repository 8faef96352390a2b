package e2e_test

import (
	"fmt"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// waitBatch waits for the batch job's allocation to finish, and fails the
// test with the allocations' events when it fails.
func (c *cluster) waitBatch(t *testing.T, jobID string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		summary, _, err := c.nomad.Client().Jobs().Summary(jobID, nil)
		if err == nil {
			for _, s := range summary.Summary {
				switch {
				case s.Complete > 0 && s.Running == 0 && s.Starting == 0 && s.Queued == 0:
					return time.Since(start)
				case s.Failed > 0 && s.Running == 0 && s.Starting == 0:
					t.Fatalf("job %s failed:\n%s", jobID, c.nomad.AllocReport(jobID))
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("job %s not complete after %s:\n%s", jobID, timeout, c.nomad.AllocReport(jobID))
	return 0
}

// waitDeployment waits for the deployment of the job's version to end and
// returns its status ("successful", "failed", ...) and how long it took.
func (c *cluster) waitDeployment(t *testing.T, jobID string, version uint64, timeout time.Duration) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		deps, _, err := c.nomad.Client().Jobs().Deployments(jobID, false, nil)
		if err == nil {
			for _, d := range deps {
				if d.JobVersion == version && d.Status != "running" && d.Status != "pending" && d.Status != "initializing" {
					return d.Status + ": " + d.StatusDescription, time.Since(start)
				}
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("deployment of %s v%d not done after %s:\n%s", jobID, version, timeout, c.nomad.AllocReport(jobID))
	return "", 0
}

// jobVersion is the job's current version.
func (c *cluster) jobVersion(t *testing.T, jobID string) uint64 {
	t.Helper()
	j, _, err := c.nomad.Client().Jobs().Info(jobID, nil)
	if err != nil {
		t.Fatal(err)
	}
	return *j.Version
}

// passing lists the Consul instances of service whose checks pass.
func (c *cluster) passing(t *testing.T, service string) []string {
	t.Helper()
	entries, _, err := c.consul.Client().Health().Service(service, "", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, fmt.Sprintf("%s:%d", e.Service.Address, e.Service.Port))
	}
	return out
}

// db connects to the deployment's database, for the stand-in's records.
func (d *deployment) db(t *testing.T) *pgx.Conn { return testbed.Connect(t, d.dbURL) }

// allocs lists the job's allocations that Nomad wants running.
func (c *cluster) allocs(t *testing.T, jobID string) []*nomadapi.AllocationListStub {
	t.Helper()
	all, _, err := c.nomad.Client().Jobs().Allocations(jobID, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []*nomadapi.AllocationListStub
	for _, a := range all {
		if a.DesiredStatus == "run" {
			out = append(out, a)
		}
	}
	return out
}
