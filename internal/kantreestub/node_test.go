package kantreestub_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kantree-nomad/kantree-nomad/internal/kantreestub"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestInitNodeRunsAgainAndCountsItsRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config-prod.yml"), "server_name: kantree.test\n")
	var ids []string
	for i := 1; i <= 2; i++ {
		if out, code := runPlatform(t, dir, []string{"KANTREE_INSTANCE_ID=alloc-1"}, "init_node"); code != 0 {
			t.Fatalf("init_node #%d: exit %d: %s", i, code, out)
		}
		ni, err := kantreestub.ReadNodeMarker(dir)
		if err != nil || ni.Runs != i || ni.ServerName != "kantree.test" || ni.InstanceID != "alloc-1" || ni.At.IsZero() {
			t.Fatalf("marker after run %d: %+v, %v", i, ni, err)
		}
		ids = append(ids, ni.InitID)
	}
	if ids[0] == ids[1] {
		t.Errorf("two init_node runs wrote the same InitID %s", ids[0])
	}
	if st, err := os.Stat(filepath.Join(dir, "logs")); err != nil || !st.IsDir() {
		t.Errorf("logs dir: %v", err)
	}
}

func TestRunRefusesRootWithoutInitNode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config-prod.yml"), "server_name: kantree.test\n")
	for _, process := range []string{"web", "worker", "scheduler", "push"} {
		out, code := runPlatform(t, dir, nil, "run", process)
		if code != 1 || !strings.Contains(out, "platform: error: run "+process+": the Kantree root "+dir+" is not initialized") ||
			!strings.Contains(out, "platform: hint: run `./platform init_node` in "+dir) {
			t.Errorf("run %s on a root without init_node: exit %d, output %q; want exit 1 with a hint", process, code, out)
		}
	}
	if _, err := kantreestub.ReadNodeMarker(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadNodeMarker of a fresh root: %v; want fs.ErrNotExist", err)
	}
}

// TestInitNodeAndRunRecordInDatabase: what an end-to-end test reads back
// to prove that init_node ran once in an allocation before its process.
func TestInitNodeAndRunRecordInDatabase(t *testing.T) {
	t.Parallel()
	url := sharedPostgres(t).CreateDatabase(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config-prod.yml"), "server_name: kantree.test\n")
	env := []string{"DATABASE_URL=" + url, "KANTREE_INSTANCE_ID=alloc-7"}
	if out, code := runPlatform(t, dir, env, "init_node"); code != 0 {
		t.Fatalf("init_node: exit %d: %s", code, out)
	}
	port := testbed.FreePort(t)
	testbed.StartCommand(t, testbed.Command{Name: "web", Path: testbed.BuildPlatform(t), Dir: dir,
		Args: []string{"run", "web"}, Env: append(env, "PORT="+itoa(port)),
		Ready: testbed.HTTPReady("http://127.0.0.1:" + itoa(port) + "/health")})
	ctx := context.Background()
	conn := db(t, url)
	inits, err := kantreestub.NodeInitRuns(ctx, conn)
	if err != nil || len(inits) != 1 || inits[0].InstanceID != "alloc-7" || inits[0].Root != dir || inits[0].Run != 1 {
		t.Fatalf("init_node runs = %+v, %v", inits, err)
	}
	starts, err := kantreestub.ProcessStarts(ctx, conn)
	if err != nil || len(starts) != 1 {
		t.Fatalf("process starts = %+v, %v", starts, err)
	}
	s := starts[0]
	if s.InstanceID != "alloc-7" || s.Process != "web" || s.InitID != inits[0].InitID || s.InitRuns != 1 || !s.At.After(inits[0].At) {
		t.Errorf("start %+v does not follow init_node run %+v", s, inits[0])
	}
}

func TestGenConfigWritesReadableConfigWithoutSecretsAndNeverOverwrites(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := []string{"SERVER_NAME=kantree.example.com", "DATABASE_URL=postgres://k:s3cret@db/k"}
	if out, code := runPlatform(t, dir, env, "gen_config", "config-prod.yml"); code != 0 {
		t.Fatalf("gen_config: exit %d: %s", code, out)
	}
	file := filepath.Join(dir, "config-prod.yml")
	b, _ := os.ReadFile(file)
	if strings.Contains(string(b), "s3cret") {
		t.Errorf("gen_config wrote a secret:\n%s", b)
	}
	cfg, err := kantreestub.LoadConfig(func(string) string { return "" }, dir)
	if err != nil || cfg.ServerName != "kantree.example.com" || cfg.WebPort != 5000 || cfg.PushPort != 4000 || cfg.File != file {
		t.Errorf("config read back: %+v, %v", cfg, err)
	}
	out, code := runPlatform(t, dir, env, "gen_config", "config-prod.yml")
	if code != 1 || !strings.Contains(out, "exists") {
		t.Errorf("second gen_config: exit %d, %q; want a refusal", code, out)
	}
}
