package kantreestub_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/internal/kantreestub"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// runPlatform runs `platform args...` in dir to completion.
func runPlatform(t *testing.T, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(testbed.BuildPlatform(t), args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("run platform: %v", err)
	}
	return out.String(), cmd.ProcessState.ExitCode()
}

func TestUpgradeDBFailsWithTheKnobsMessage(t *testing.T) {
	t.Parallel()
	url := sharedPostgres(t).CreateDatabase(t)
	dir := t.TempDir()
	writeFile(t, dir+"/config-prod.yml", "kantree_stub_upgrade_fail: 'column \"due\" already exists'\n")
	out, code := runPlatform(t, dir, []string{"DATABASE_URL=" + url, "KANTREE_STUB_UPGRADE_SECONDS=0"}, "upgrade_db")
	if code != 1 || !strings.Contains(out, `platform: error: upgrade_db: column "due" already exists`) {
		t.Errorf("knob in the config file: exit %d, output %q", code, out)
	}
	runs, err := kantreestub.UpgradeRuns(context.Background(), db(t, url))
	if err != nil || len(runs) != 1 || runs[0].Status != kantreestub.UpgradeFailed {
		t.Errorf("runs = %+v, %v; want one failed run", runs, err)
	}
}

func TestUpgradeDBRecordsEveryRunAndIsSlow(t *testing.T) {
	t.Parallel()
	url := sharedPostgres(t).CreateDatabase(t)
	conn := db(t, url)
	ctx := context.Background()
	env := []string{"DATABASE_URL=" + url, "KANTREE_VERSION=8.4.1", "KANTREE_STUB_UPGRADE_SECONDS=0.6", "KANTREE_FENCING_TOKEN=9"}
	start := time.Now()
	if out, code := runPlatform(t, t.TempDir(), env, "upgrade_db"); code != 0 {
		t.Fatalf("upgrade_db exit %d: %s", code, out)
	}
	if d := time.Since(start); d < 600*time.Millisecond {
		t.Errorf("upgrade_db took %v, want at least the configured 0.6s", d)
	}
	runPlatform(t, t.TempDir(), append(env, "KANTREE_STUB_UPGRADE_SECONDS=0"), "upgrade_db")
	if out, code := runPlatform(t, t.TempDir(), []string{"DATABASE_URL=" + url, "KANTREE_VERSION=9.0.0",
		"KANTREE_STUB_UPGRADE_SECONDS=0", "KANTREE_STUB_UPGRADE_FAIL=1"}, "upgrade_db"); code != 1 {
		t.Errorf("KANTREE_STUB_UPGRADE_FAIL=1: exit %d, want 1: %s", code, out)
	}
	runs, err := kantreestub.UpgradeRuns(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 || runs[0].Status != kantreestub.UpgradeDone || runs[0].Finished == nil ||
		runs[0].Finished.Sub(runs[0].Started) < 600*time.Millisecond || runs[0].FencingToken != "9" ||
		runs[2].Status != kantreestub.UpgradeFailed || runs[2].Version != "9.0.0" {
		t.Fatalf("runs = %+v", runs)
	}
	if n, _ := kantreestub.CountUpgradeRuns(ctx, conn, "8.4.1"); n != 2 {
		t.Errorf("CountUpgradeRuns(8.4.1) = %d, want 2", n)
	}
	if v, _ := kantreestub.SchemaVersion(ctx, conn); v != "8.4.1" {
		t.Errorf("schema version %q after a failed 9.0.0, want 8.4.1", v)
	}
}

func TestUpgradeDBInterruptedBySIGTERMRecordsIt(t *testing.T) {
	t.Parallel()
	url := sharedPostgres(t).CreateDatabase(t)
	conn := db(t, url)
	p := startPlatform(t, "upgrade_db", []string{"DATABASE_URL=" + url, "KANTREE_STUB_UPGRADE_SECONDS=60"}, nil, "upgrade_db")
	ctx := context.Background()
	eventually(t, 30*time.Second, "the run is recorded", func() bool {
		n, err := kantreestub.CountUpgradeRuns(ctx, conn, "")
		return err == nil && n == 1
	})
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	runs, _ := kantreestub.UpgradeRuns(ctx, conn)
	if p.ExitCode() != 1 || len(runs) != 1 || runs[0].Status != kantreestub.UpgradeInterrupted {
		t.Fatalf("exit %d, runs %+v; want exit 1 and one interrupted run", p.ExitCode(), runs)
	}
	if v, _ := kantreestub.SchemaVersion(ctx, conn); v != "" {
		t.Errorf("schema version %q after an interrupted run, want none", v)
	}
}

func TestUpgradeDBWithoutDatabaseFailsWithoutLeakingSecrets(t *testing.T) {
	t.Parallel()
	out, code := runPlatform(t, t.TempDir(), []string{"DATABASE_URL=postgres://kantree:topsecret@127.0.0.1:1/db?connect_timeout=2"}, "upgrade_db")
	if code != 1 || bytes.Contains([]byte(out), []byte("topsecret")) || !bytes.Contains([]byte(out), []byte("upgrade_db")) {
		t.Errorf("exit %d, output %q", code, out)
	}
}
