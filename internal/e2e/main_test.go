package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/generator"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

func TestMain(m *testing.M) { testbed.Main(m) }

// cluster is what every test of the package shares: one Consul, one Nomad
// dev agent wired to it, PostgreSQL, Redis, the static kantree-nomad and
// a file server with the stand-in's release tarballs. Tests keep apart by
// job name, lock key and database.
type cluster struct {
	consul  *testbed.Consul
	nomad   *testbed.Nomad
	pg      *testbed.Postgres
	redis   *testbed.Redis
	files   *testbed.FileServer
	dir     string // served by files
	binary  string // static kantree-nomad, at /usr/local/bin/kantree-nomad in exec's chroot too
	tarball map[string]testbed.Tarball
	backups string // the node's backup host volume
}

// chrootBinary is where exec tasks find kantree-nomad, as on a node where
// it is installed at the default path.
const chrootBinary = jobspec.DefaultBinaryPath

// noVault declares a Vault that is not there, so that the agent accepts
// (validates and plans) jobs with a vault block, such as examples/ha; no
// test places one.
const noVault = `vault {
  enabled = true
  address = "http://127.0.0.1:1"
  token   = "none"
}`

func shared(t *testing.T) *cluster {
	return testbed.Shared(t, "cluster", startCluster)
}

func startCluster(t testing.TB) *cluster {
	c := &cluster{dir: t.TempDir(), tarball: map[string]testbed.Tarball{}}
	c.binary = testbed.BuildKantreeNomadStatic(t)
	c.consul = testbed.StartConsul(t)
	c.backups = t.TempDir()
	c.nomad = testbed.StartNomad(t, c.consul, testbed.NomadOptions{ChrootEnv: map[string]string{c.binary: chrootBinary},
		HostVolumes: map[string]string{jobspec.DefaultBackupVolume: c.backups}, ExtraHCL: noVault})
	c.pg = testbed.StartPostgres(t)
	c.redis = testbed.StartRedis(t, testbed.RedisOptions{Password: `r3d"is@pw`})
	c.files = testbed.ServeFiles(t, c.dir)
	for _, v := range []string{"8.4.1", "8.4.2"} {
		c.tarball[v] = testbed.PlatformTarball(t, c.dir, v)
	}
	return c
}

// spec is the part of a test deployment that varies between tests.
type spec struct {
	job      string
	version  string // Kantree release: "8.4.1" or "8.4.2"
	driver   string // "raw_exec" (default) or "exec"
	standbys int
	web      int // web count (default 2)
	extra    string
	consul   string // the scheduler's Consul address; default the test bed's agent
	// scheduler is added to the scheduler's process block.
	scheduler string
}

// kantreeHCL is the deployment file of s on c, as an operator would write
// it for this cluster.
func (c *cluster) kantreeHCL(s spec) string {
	tb := c.tarball[s.version]
	binary, consul := c.binary, s.consul
	if consul == "" {
		consul = c.consul.HTTPAddr
	}
	extra := s.extra
	if s.driver == "exec" {
		binary = chrootBinary
		// The test chroot has no PostgreSQL client tools (FullChroot
		// would, at ~20s per task); the backup is exercised under
		// raw_exec here and in operator's and runtime/migrate's tests.
		extra += "\nbackup {\n  enabled = false\n}\n"
	} else {
		extra += fmt.Sprintf("\nbackup {\n  path = %q\n}\n", c.backups) // raw_exec writes to the volume's host path
	}
	sched := s.scheduler
	if s.standbys > 0 {
		// One dev node: the standby shares the holder's node, which the
		// default (distinct_hosts) would refuse to place.
		sched = "  distinct_hosts = false\n" + sched
	}
	return fmt.Sprintf(`job           = %q
nomad_version = "1.6"
datacenters   = ["dc1"]

kantree {
  version     = %q
  server_name = "kantree.test"
  archive {
    url      = %q
    checksum = %q
    driver   = %q
  }
}

process "web" {
  count          = %d
  cpu            = 100
  memory         = 128
  check_interval = "1s"
}
process "push" {
  cpu            = 100
  memory         = 128
  check_interval = "1s"
}
process "worker" {
  cpu    = 100
  memory = 128
}
process "scheduler" {
  cpu    = 100
  memory = 128
%s}
scheduler_lock {
  standbys = %d
}
consul {
  address = %q
}
kantree_nomad {
  path = %q
}
%s
`, s.job, s.version, c.files.URL+"/"+tb.Name, tb.Checksum, s.driver, s.web, sched, s.standbys, consul, binary, extra)
}

// deployment is a test deployment rendered for the cluster, with its own
// database whose URL and the other secrets are in the job's Nomad Variable.
type deployment struct {
	spec
	c      *cluster
	dbURL  string
	bundle *generator.Bundle
	dep    *jobspec.Deployment
}

func (c *cluster) deploy(t *testing.T, s spec) *deployment {
	t.Helper()
	if s.driver == "" {
		s.driver = "raw_exec"
	}
	if s.web == 0 {
		s.web = 2
	}
	d := &deployment{spec: s, c: c, dbURL: c.pg.CreateDatabase(t)}
	d.render(t)
	c.putSecrets(t, d.dep.Secrets.Path, d.dbURL)
	return d
}

// render loads and renders the deployment file of d.spec.
func (d *deployment) render(t *testing.T) {
	t.Helper()
	dep, _, diags := jobspec.Parse(d.job+".hcl", []byte(d.c.kantreeHCL(d.spec)), jobspec.LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags)
	}
	b, err := generator.Generate(dep)
	if err != nil {
		t.Fatal(err)
	}
	d.dep, d.bundle = dep, b
}

// putSecrets stores the secrets the tasks read, as the runbook says.
func (c *cluster) putSecrets(t *testing.T, path, dbURL string) {
	t.Helper()
	v := &nomadapi.Variable{Path: path, Items: nomadapi.VariableItems{
		"database_url": dbURL, "redis_url": c.redis.URL(), "secret_key": `s3cr"et{{x}}`, "license": "LICENSE " + path,
	}}
	if _, _, err := c.nomad.Client().Variables().Create(v, nil); err != nil {
		t.Fatalf("nomad var put %s: %v", path, err)
	}
}

// writeJob writes a rendered job in format ("hcl" or "json") and returns
// its path, for the nomad command line.
func (d *deployment) writeJob(t *testing.T, job *nomadapi.Job, format string) string {
	t.Helper()
	encode := generator.EncodeHCL
	if format == "json" {
		encode = generator.EncodeJSON
	}
	data, err := encode(job)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), *job.ID+".nomad."+format)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// run submits a job file with `nomad job run -detach` and returns the
// evaluation's output.
func (c *cluster) run(t *testing.T, path string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := c.nomad.CLI(ctx, append(append([]string{"job", "run", "-detach"}, args...), path)...)
	if err != nil {
		t.Fatalf("nomad job run %s: %v\n%s", filepath.Base(path), err, out)
	}
	return out
}

// stop purges a job at the end of a test, so that the shared agent stays light.
func (c *cluster) purgeAtEnd(t *testing.T, jobID string) {
	t.Cleanup(func() {
		if _, _, err := c.nomad.Client().Jobs().Deregister(jobID, true, nil); err != nil && !strings.Contains(err.Error(), "not found") {
			t.Logf("purge %s: %v", jobID, err)
		}
	})
}
