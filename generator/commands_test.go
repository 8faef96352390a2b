package generator_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/generator"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// TestGeneratedCommandLinesRun runs the command lines of the generated jobs
// with the real kantree-nomad, the stand-in platform, PostgreSQL and Redis,
// the way Nomad would: the upgrade-db task (migrate -- ./platform
// upgrade_db) in the Kantree root, then a preflight task, which passes only
// once the database is at the job's release.
func TestGeneratedCommandLinesRun(t *testing.T) {
	pg := testbed.StartPostgres(t)
	rd := testbed.StartRedis(t, testbed.RedisOptions{Password: "r3dis-pw"})
	d, _, diags := jobspec.Load("../examples/basic/kantree.hcl", jobspec.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	b, err := generator.Generate(d)
	if err != nil {
		t.Fatal(err)
	}
	task := newTaskDir(t, pg.CreateDatabase(t), rd.URL())
	preflight := findTask(t, b.Service, "web", "preflight")

	if out, err := task.run(t, preflight, 3*time.Second); err == nil {
		t.Fatalf("preflight passed before the database was migrated to the release:\n%s", out)
	}
	upgrade := findTask(t, b.UpgradeDB, "upgrade-db", "upgrade-db")
	if out, err := task.run(t, upgrade, 60*time.Second); err != nil {
		t.Fatalf("upgrade-db task: %v\n%s", err, out)
	}
	// The backup went to the task's view of the backup volume, first.
	if got, _ := filepath.Glob(filepath.Join(task.backups, "kantree-*-8.4.1.dump")); len(got) != 1 {
		t.Fatalf("backups in the volume: %v, want one", got)
	}
	if out, err := task.run(t, preflight, 60*time.Second); err != nil {
		t.Fatalf("preflight after upgrade-db: %v\n%s", err, out)
	}
}

// taskDir stands for a Nomad task directory: local/kantree holds the
// stand-in platform, the secrets arrive as env (as from the env template).
type taskDir struct {
	dir, binary string
	backups     string // stands for the backup host volume
	secrets     []string
}

func newTaskDir(t *testing.T, databaseURL, redisURL string) *taskDir {
	td := &taskDir{dir: t.TempDir(), binary: testbed.BuildKantreeNomad(t), backups: t.TempDir(),
		secrets: []string{"DATABASE_URL=" + databaseURL, "REDIS_URL=" + redisURL}}
	root := filepath.Join(td.dir, "local", "kantree")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(testbed.BuildPlatform(t), filepath.Join(root, "platform")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "config-prod.yml"), []byte("server_name: \"kantree.example.com\"\n"))
	return td
}

// run executes a generated task's command as the exec driver would: its
// command (kantree-nomad, here the test build), args, work_dir and env,
// with Nomad's runtime variables interpolated.
func (td *taskDir) run(t *testing.T, task *api.Task, timeout time.Duration) (string, error) {
	t.Helper()
	vars := strings.NewReplacer("${NOMAD_TASK_DIR}", filepath.Join(td.dir, "local"), "${NOMAD_ALLOC_ID}", "alloc-1",
		jobspec.DefaultBinaryPath, td.binary, jobspec.BackupMountPath, td.backups)
	var args []string
	for _, a := range task.Config["args"].([]string) {
		args = append(args, vars.Replace(a))
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, td.binary, args...)
	cmd.Dir = td.dir
	if wd, ok := task.Config["work_dir"].(string); ok {
		cmd.Dir = vars.Replace(wd)
	}
	cmd.Env = append(os.Environ(), td.secrets...)
	for k, v := range task.Env {
		cmd.Env = append(cmd.Env, k+"="+vars.Replace(v))
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func findTask(t *testing.T, job *api.Job, group, task string) *api.Task {
	t.Helper()
	for _, g := range job.TaskGroups {
		for _, tk := range g.Tasks {
			if *g.Name == group && tk.Name == task {
				return tk
			}
		}
	}
	t.Fatalf("job %s has no task %s/%s", *job.ID, group, task)
	return nil
}
