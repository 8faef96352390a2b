package migrate_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/runtime/ledger"
)

func TestMain(m *testing.M) { testbed.Main(m) }

func sharedPostgres(t *testing.T) *testbed.Postgres {
	return testbed.Shared(t, "postgres", testbed.StartPostgres)
}

// proc is one running `kantree-nomad migrate`.
type proc struct {
	cmd   *exec.Cmd
	out   *bytes.Buffer
	start time.Time
	done  chan struct{}
	code  int
	ended time.Time
}

// startMigrate starts `kantree-nomad migrate -release V args... --
// ./platform upgrade_db` in a Kantree root whose platform is the stand-in,
// with DATABASE_URL=dbURL and extra env.
func startMigrate(t *testing.T, dbURL, release string, env []string, args ...string) *proc {
	t.Helper()
	return startMigrateCmd(t, dbURL, release, env, args, "./platform", "upgrade_db")
}

// fastLease are migrate flags for a short lease: a successor waits about
// 6s (lease + 2s margin) after its holder went silent.
var fastLease = []string{"-lease", "4s", "-check", "200ms", "-ping-timeout", "1s", "-kill-grace", "1s"}

// startMigrateCmd is startMigrate with another command.
func startMigrateCmd(t *testing.T, dbURL, release string, env, args []string, command ...string) *proc {
	t.Helper()
	return startProc(t, migrateCmd(t, dbURL, release, env, args, command...))
}

// migrateCmd is the command startMigrateCmd starts.
func migrateCmd(t *testing.T, dbURL, release string, env, args []string, command ...string) *exec.Cmd {
	t.Helper()
	bin := testbed.BuildKantreeNomad(t)
	argv := append([]string{"migrate", "-release", release, "-poll", "100ms"}, args...)
	argv = append(argv, "--")
	argv = append(argv, command...)
	cmd := exec.Command(bin, argv...)
	cmd.Dir = kantreeRoot(t)
	cmd.Env = append(append(os.Environ(), "DATABASE_URL="+dbURL), env...)
	return cmd
}

// startProc starts cmd, collecting its output; it is killed at the end of
// the test if still running.
func startProc(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, out: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := cmd.Wait()
		p.ended = time.Now()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			p.code = exit.ExitCode()
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-p.done
		}
	})
	return p
}

// wait waits for p to exit, at most d.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(d):
		t.Fatalf("migrate pid %d still running after %v:\n%s", p.cmd.Process.Pid, d, p.out.String())
		return -1
	}
}

// readLedger reads the ledger of release.
func readLedger(t *testing.T, dbURL, release string) []ledger.Entry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	entries, err := ledger.Entries(ctx, conn, release)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// statuses lists the status of each entry, oldest first.
func statuses(entries []ledger.Entry) string {
	var s []string
	for _, e := range entries {
		s = append(s, e.Status)
	}
	return strings.Join(s, ",")
}

// waitFor polls cond every 50ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
