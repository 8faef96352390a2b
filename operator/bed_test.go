package operator

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// bed is the services every test shares.
type bed struct {
	consul *testbed.Consul
	nomad  *testbed.Nomad
	pg     *testbed.Postgres
	redis  *testbed.Redis
	files  *testbed.FileServer
	kn     string // kantree-nomad built for the tasks
	cli    string // the same binary, run by the tests as the operator would
	// backups is the host directory of the node's backup volume.
	backups string
}

func sharedBed(t *testing.T) *bed {
	t.Helper()
	return testbed.Shared(t, "operator-bed", func(tb testing.TB) *bed {
		b := &bed{consul: testbed.StartConsul(tb)}
		// The node is of the load balancer's default node class, so that
		// the <job>-lb system job places on it as rendered (lb_test.go).
		// The upgrade-db job writes its backups to the host volume.
		b.backups = tb.TempDir()
		b.nomad = testbed.StartNomad(tb, b.consul, testbed.NomadOptions{ExtraHCL: "client {\n  node_class = \"lb\"\n}",
			HostVolumes: map[string]string{jobspec.DefaultBackupVolume: b.backups}})
		b.pg = testbed.StartPostgres(tb)
		b.redis = testbed.StartRedis(tb, testbed.RedisOptions{})
		b.files = testbed.ServeFiles(tb, tb.TempDir())
		b.kn = testbed.BuildKantreeNomad(tb)
		b.cli = b.kn
		return b
	})
}

// site is one Kantree deployment of a test: its own job, database and
// deployment file.
type site struct {
	t      *testing.T
	b      *bed
	job    string
	dir    string
	file   string
	marker string // while this file exists, the "failing" archive's upgrade_db fails
	// webMarker: while it exists, the "failing" archive's web does not
	// listen (its health check fails).
	webMarker string
	// slowMarker: while it exists, the "failing" archive's upgrade_db
	// takes as many seconds as the file says.
	slowMarker string
	// healthyDeadline replaces quickTimings' healthy deadline when set.
	healthyDeadline string
	// webExtra is added to the web process block (e.g. a health_path).
	webExtra string
	// realTimings keeps the generator's default deployment timings (see
	// quickTimings) instead of the short ones the tests use.
	realTimings bool
	// timingsHCL, when set, replaces quickTimings in every process block.
	timingsHCL string
	out        *lockedBuffer
	db         string // the site's database URL
	// backup is the file's backup block; "" writes the default one for
	// raw_exec: into the node's backup volume, by its host path.
	backup string
}

func newSite(t *testing.T, job string) *site {
	t.Helper()
	b := sharedBed(t)
	s := &site{t: t, b: b, job: job, dir: t.TempDir(), out: &lockedBuffer{t: t}}
	s.file = filepath.Join(s.dir, "kantree.hcl")
	s.marker = filepath.Join(s.dir, "fail-upgrade")
	s.webMarker = filepath.Join(s.dir, "fail-web")
	s.slowMarker = filepath.Join(s.dir, "slow-upgrade")
	db := b.pg.CreateDatabase(t)
	s.db = db
	v := &nomadapi.Variable{Path: "nomad/jobs/" + job, Items: nomadapi.VariableItems{
		"database_url": db, "redis_url": b.redis.URL(), "secret_key": "test-secret-" + job, "license": "test license",
	}}
	if _, _, err := b.nomad.Client().Variables().Create(v, nil); err != nil {
		t.Fatalf("put variables: %v", err)
	}
	return s
}

// archive is a release archive served to Nomad's artifact block.
type archive struct{ url, checksum string }

// stdArchive is the stand-in's archive of a release.
func (s *site) stdArchive(version string) archive {
	tb := testbed.PlatformTarball(s.t, s.b.files.Dir, version)
	return archive{s.b.files.URL + "/" + tb.Name, tb.Checksum}
}

// failingArchive is an archive whose ./platform is a shell wrapper around
// the stand-in: upgrade_db fails (KANTREE_STUB_UPGRADE_FAIL=1) while
// s.marker exists on the host, and `run web` never listens while
// s.webMarker exists.
func (s *site) failingArchive(version string) archive {
	s.t.Helper()
	bin, err := os.ReadFile(testbed.BuildPlatformStatic(s.t))
	if err != nil {
		s.t.Fatal(err)
	}
	script := fmt.Sprintf(`#!/bin/sh
if [ "$1" = upgrade_db ] && [ -e %[3]q ]; then
  KANTREE_STUB_UPGRADE_SECONDS=$(cat %[3]q); export KANTREE_STUB_UPGRADE_SECONDS
fi
if [ "$1" = upgrade_db ] && [ -e %[1]q ]; then
  echo "stand-in wrapper: this release's upgrade_db is set to fail" >&2
  KANTREE_STUB_UPGRADE_FAIL=1; export KANTREE_STUB_UPGRADE_FAIL
fi
if [ "$1 $2" = "run web" ] && [ -e %[2]q ]; then
  echo "stand-in wrapper: this release's web never listens, so its health check fails" >&2
  exec sleep 3600
fi
exec "$(dirname "$0")/platform.real" "$@"
`, s.marker, s.webMarker, s.slowMarker)
	name := fmt.Sprintf("kantree-%s-%s-wrapped.tar.gz", version, s.job)
	sum := writeArchive(s.t, filepath.Join(s.b.files.Dir, name), map[string][]byte{"platform": []byte(script), "platform.real": bin})
	return archive{s.b.files.URL + "/" + name, "sha256:" + sum}
}

// writeArchive writes a .tar.gz of executable files and returns its
// SHA-256.
func writeArchive(t *testing.T, path string, files map[string][]byte) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:])
}

// write writes the deployment file for a release from archive a, with
// extra HCL appended (process blocks...).
func (s *site) write(version string, a archive, extra string) {
	s.t.Helper()
	hcl := fmt.Sprintf(`job           = %q
nomad_version = "1.6"

kantree {
  version     = %q
  server_name = "kantree.test"
  archive {
    url      = %q
    checksum = %q
    driver   = "raw_exec"
  }
}

kantree_nomad {
  path = %q
}

consul {
  address = %q
}

process "web" {
  cpu            = 100
  memory         = 128
  check_interval = "1s"
  check_timeout  = "1s"
%[8]s%[7]s}

process "push" {
  cpu            = 100
  memory         = 128
  check_interval = "1s"
  check_timeout  = "1s"
%[8]s}

process "worker" {
  cpu    = 100
  memory = 128
%[8]s}

process "scheduler" {
  cpu    = 100
  memory = 128
%[8]s}
%[9]s
%[10]s`, s.job, version, a.url, a.checksum, s.b.kn, s.b.consul.HTTPAddr, s.webExtra, s.timings(), extra, s.backupBlock())
	if err := os.WriteFile(s.file, []byte(hcl), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// backupBlock is s.backup, or the default backup block.
func (s *site) backupBlock() string {
	if s.backup != "" {
		return s.backup
	}
	return fmt.Sprintf("backup {\n  path = %q\n}\n", s.b.backups)
}

// timings are the deployment timings of every process block: short ones
// unless realTimings (see quickTimings).
func (s *site) timings() string {
	if s.realTimings {
		return ""
	}
	if s.timingsHCL != "" {
		return s.timingsHCL
	}
	if s.healthyDeadline != "" {
		return strings.Replace(quickTimings, `"45s"`, fmt.Sprintf("%q", s.healthyDeadline), 1)
	}
	return quickTimings
}

// release loads the deployment file as the commands do.
func (s *site) release() *Release {
	s.t.Helper()
	dep, _, diags := jobspec.Load(s.file, jobspec.LoadOptions{})
	if diags.HasErrors() {
		s.t.Fatalf("load %s: %v", s.file, diags)
	}
	r, err := NewRelease(dep)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

// quickTimings are deployment timings for the tests, set in kantree.hcl
// as an operator could: min_healthy_time 2s (45s for the scheduler by
// default), a healthy deadline of 45s (5m) and no progress deadline (10m),
// so that the first unhealthy allocation fails a deployment at once
// instead of being rescheduled until the progress deadline. What deploy
// does with a deployment is the same; only Nomad's clocks are shorter.
// The healthy deadline is what a test of a failing check waits; 20s was
// too short on the 2-core machine while other test packages ran: tasks
// took 12-22s from received to started, and healthy deployments failed.
const quickTimings = `  min_healthy_time  = "2s"
  healthy_deadline  = "45s"
  progress_deadline = "0s"
`

// testContext bounds a test's calls to Nomad: 5 minutes.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// cluster is a Cluster on the shared agents writing to s.out.
func (s *site) cluster() *Cluster {
	s.t.Helper()
	cc := s.b.consul.Client()
	return &Cluster{Nomad: s.b.nomad.Client(), Consul: cc, Out: s.out, Now: time.Now, Poll: 250 * time.Millisecond}
}

// run runs the kantree-nomad command line as an operator would (NOMAD_ADDR
// and CONSUL_HTTP_ADDR set) and returns its output and exit code.
func (s *site) run(ctx context.Context, args ...string) (string, int) {
	s.t.Helper()
	return s.runEnv(ctx, nil, args...)
}

// runEnv is run with more environment variables (which win).
func (s *site) runEnv(ctx context.Context, env []string, args ...string) (string, int) {
	s.t.Helper()
	cmd := exec.CommandContext(ctx, s.b.cli, args...)
	cmd.Env = append(append(os.Environ(), "NOMAD_ADDR="+s.b.nomad.Addr(), "CONSUL_HTTP_ADDR="+s.b.consul.HTTPAddr), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatalf("run %v: %v", args, err)
	}
	return out.String(), code
}

// serviceJob returns the running service job.
func (s *site) serviceJob() *nomadapi.Job {
	s.t.Helper()
	j, _, err := s.b.nomad.Client().Jobs().Info(s.job, nil)
	if err != nil {
		s.t.Fatalf("read job %s: %v", s.job, err)
	}
	return j
}

// lockedBuffer collects a Cluster's output and logs each line.
type lockedBuffer struct {
	mu  sync.Mutex
	t   *testing.T
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.t.Logf("%s", strings.TrimRight(string(p), "\n"))
	return b.buf.Write(p)
}

// take returns what was written since the last take.
func (b *lockedBuffer) take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	b.buf.Reset()
	return s
}

var _ io.Writer = (*lockedBuffer)(nil)

// String returns everything written and not yet taken.
func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
