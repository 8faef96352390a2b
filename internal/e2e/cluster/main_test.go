//go:build cluster

package cluster_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/generator"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

func TestMain(m *testing.M) { testbed.Main(m) }

// env is what the package's tests share: the cluster, the static
// kantree-nomad and the stand-in's release tarball served on the hub.
type env struct {
	cl      *testbed.NomadCluster
	binary  string
	files   *testbed.FileServer
	tarball testbed.Tarball // Kantree 8.4.1, the release kantreeHCL names
	dir     string          // what files serves
}

func shared(t *testing.T) *env {
	return testbed.Shared(t, "cluster", startEnv)
}

func startEnv(t testing.TB) *env {
	e := &env{binary: testbed.BuildKantreeNomadStatic(t)}
	e.cl = testbed.StartNomadCluster(t, testbed.ClusterOptions{RedisPassword: `r3d"is@pw`, NodeClasses: nodeClasses,
		Client: testbed.NomadOptions{ChrootEnv: map[string]string{e.binary: jobspec.DefaultBinaryPath}}})
	fmt.Fprintf(os.Stderr, "figure: cluster of %d nodes started in %s\n", len(e.cl.Nodes), e.cl.Startup.Round(10*time.Millisecond))
	e.dir = t.TempDir()
	e.files = testbed.ServeFilesOn(t, e.cl.Net.HubIP, e.dir)
	e.tarball = testbed.PlatformTarball(t, e.dir, "8.4.1")
	return e
}

// nodeClasses are the nodes' classes (node1, node2, node3): the placement
// test places groups by class.
var nodeClasses = []string{"edge", "app", "app"}

// spec is what varies between the deployments of the tests.
type spec struct {
	job       string
	standbys  int
	listen    int    // nginx port
	extra     string // appended to the file
	processes string // the process blocks, instead of defaultProcesses
}

// defaultProcesses: web 3, push 2, worker 2, the scheduler.
const defaultProcesses = `process "web" {
  count          = 3
  cpu            = 100
  memory         = 128
  check_interval = "1s"
}
process "push" {
  count          = 2
  cpu            = 100
  memory         = 128
  check_interval = "1s"
}
process "worker" {
  count  = 2
  cpu    = 100
  memory = 128
}
process "scheduler" {
  cpu    = 100
  memory = 128
}
`

// kantreeHCL is the deployment file an operator would write for this
// cluster: web 3, push 2, worker 2, the scheduler with standbys.
func (e *env) kantreeHCL(s spec) string {
	procs := s.processes
	if procs == "" {
		procs = defaultProcesses
	}
	return fmt.Sprintf(`job           = %q
nomad_version = "1.6"
datacenters   = ["dc1"]

kantree {
  version     = "8.4.1"
  server_name = "kantree.test"
  archive {
    url      = %q
    checksum = %q
    driver   = "raw_exec"
  }
}

%sscheduler_lock {
  standbys = %d
}
kantree_nomad {
  path = %q
}
load_balancer {
  listen = %d
}
# The scenarios are about nodes, not backups (runtime/backup and the e2e
# package test those); the clients declare no kantree-backups host volume.
backup {
  enabled = false
}
%s
`, s.job, e.files.URL+"/"+e.tarball.Name, e.tarball.Checksum, procs, s.standbys, e.binary, s.listen, s.extra)
}

// deployment is one rendered deployment with its own database.
type deployment struct {
	spec
	e      *env
	dbURL  string // as the test reaches it (loopback)
	dep    *jobspec.Deployment
	bundle *generator.Bundle
	file   string // its deployment file, once cli wrote it
}

func (e *env) render(t *testing.T, s spec) *deployment {
	t.Helper()
	if s.listen == 0 {
		s.listen = testbed.FreePort(t)
	}
	d := &deployment{spec: s, e: e, dbURL: e.cl.PG.CreateDatabase(t)}
	dep, _, diags := jobspec.Parse(s.job+".hcl", []byte(e.kantreeHCL(s)), jobspec.LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags)
	}
	b, err := generator.Generate(dep)
	if err != nil {
		t.Fatal(err)
	}
	d.dep, d.bundle = dep, b
	v := &nomadapi.Variable{Path: dep.Secrets.Path, Items: nomadapi.VariableItems{
		"database_url": e.cl.HubURL(d.dbURL), "redis_url": e.cl.HubURL(e.cl.Redis.URL()),
		"secret_key": `s3cr"et{{x}}`, "license": "LICENSE",
	}}
	if _, _, err := e.nomad().Variables().Create(v, nil); err != nil {
		t.Fatalf("nomad var put %s: %v", v.Path, err)
	}
	t.Cleanup(func() {
		for _, j := range []string{dep.Job, dep.UpgradeJob} {
			_, _, _ = e.nomad().Jobs().Deregister(j, true, nil)
		}
	})
	return d
}

func (e *env) nomad() *nomadapi.Client { return e.cl.Server.Client() }

// start runs the migration, then the service job, and waits for its
// deployment to succeed.
func (d *deployment) start(t *testing.T) {
	t.Helper()
	e := d.e
	d.register(t, d.bundle.UpgradeDB)
	e.waitBatch(t, d.dep.UpgradeJob, 3*time.Minute)
	d.register(t, d.bundle.Service)
	start := time.Now()
	status := e.waitDeployment(t, d.dep.Job, 6*time.Minute)
	if !strings.HasPrefix(status, "successful") {
		t.Fatalf("deployment of %s: %s\n%s", d.dep.Job, status, e.cl.Server.AllocReport(d.dep.Job))
	}
	t.Logf("%s: deployment successful %.1fs after submit", d.dep.Job, time.Since(start).Seconds())
}

func (d *deployment) register(t *testing.T, job *nomadapi.Job) {
	t.Helper()
	if _, _, err := d.e.nomad().Jobs().Register(job, nil); err != nil {
		t.Fatalf("register %s: %v", *job.ID, err)
	}
}

func (e *env) waitBatch(t *testing.T, jobID string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		summary, _, err := e.nomad().Jobs().Summary(jobID, nil)
		if err == nil {
			for _, s := range summary.Summary {
				switch {
				case s.Complete > 0 && s.Running == 0 && s.Starting == 0 && s.Queued == 0:
					return
				case s.Failed > 0 && s.Running == 0 && s.Starting == 0:
					t.Fatalf("job %s failed:\n%s", jobID, e.cl.Server.AllocReport(jobID))
				}
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("job %s not complete after %s:\n%s", jobID, timeout, e.cl.Server.AllocReport(jobID))
}

// waitDeployment waits for the latest deployment of the job to end.
func (e *env) waitDeployment(t *testing.T, jobID string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		d, _, err := e.nomad().Jobs().LatestDeployment(jobID, nil)
		if err == nil && d != nil && d.Status != "running" && d.Status != "pending" && d.Status != "initializing" {
			return d.Status + ": " + d.StatusDescription
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("deployment of %s not done after %s:\n%s", jobID, timeout, e.cl.Server.AllocReport(jobID))
	return ""
}

// running lists the job's running allocations (by group).
func (e *env) running(t *testing.T, jobID string) map[string][]*nomadapi.AllocationListStub {
	t.Helper()
	all, _, err := e.nomad().Jobs().Allocations(jobID, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]*nomadapi.AllocationListStub{}
	for _, a := range all {
		if a.DesiredStatus == "run" && a.ClientStatus == "running" {
			out[a.TaskGroup] = append(out[a.TaskGroup], a)
		}
	}
	return out
}

// db connects to the deployment's database.
func (d *deployment) db(t *testing.T) *pgx.Conn { return testbed.Connect(t, d.dbURL) }

// writeFile writes data to a fresh file in a temporary directory.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
