package backup_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/runtime/backup"
)

func TestMain(m *testing.M) { testbed.Main(m) }

func sharedPostgres(t testing.TB) *testbed.Postgres {
	return testbed.Shared(t, "postgres", testbed.StartPostgres)
}

// exec runs sql on dbURL.
func execSQL(t testing.TB, dbURL string, sql ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range sql {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// seed creates a table of n cards with some text in each.
func seed(t testing.TB, dbURL string, n int) {
	t.Helper()
	execSQL(t, dbURL, `CREATE TABLE cards (id bigint PRIMARY KEY, title text NOT NULL, body text, due date)`,
		fmt.Sprintf(`INSERT INTO cards SELECT i, 'card ' || i, repeat(md5(i::text), 8), date '2026-01-01' + (i %% 365)
			FROM generate_series(1, %d) AS i`, n))
}

// take runs backup.Take into dir at time at (names are by time).
func take(t *testing.T, dbURL, dir string, keep int, at time.Time, command ...string) (backup.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return backup.Take(ctx, backup.Config{DSN: dbURL, Release: "2.0.0", Dir: dir, Keep: keep, Command: command,
		Env: os.Environ(), Now: func() time.Time { return at }})
}

// names lists the files in dir.
func names(t *testing.T, dir string) string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return strings.Join(out, " ")
}

// sha256sum checks the archive with the sha256sum tool and its .sha256.
func sha256sum(t *testing.T, archive string) {
	t.Helper()
	cmd := exec.Command("sha256sum", "-c", filepath.Base(archive)+".sha256")
	cmd.Dir = filepath.Dir(archive)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
}

// dbName is the database name in a URL.
func dbName(t testing.TB, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}
