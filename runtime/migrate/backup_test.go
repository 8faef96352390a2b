package migrate_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"github.com/kantree-nomad/kantree-nomad/rules"
	"github.com/kantree-nomad/kantree-nomad/runtime/ledger"
)

// seedCards gives the stand-in's database data to back up.
func seedCards(t *testing.T, dbURL string, n int) {
	t.Helper()
	withConn(t, dbURL, func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, fmt.Sprintf(`CREATE TABLE cards (id bigint PRIMARY KEY, title text NOT NULL, due date);
			INSERT INTO cards SELECT i, 'card ' || i || ' "quoted" @ {{x}} ${y}', date '2026-01-01' + (i %% 365)
			FROM generate_series(1, %d) AS i`, n))
		return err
	})
}

// fingerprint is every user table's row count and a checksum of its rows,
// in order: "table=count:md5 ..." (the ledger's own tables excluded).
func fingerprint(t *testing.T, dbURL string) string {
	t.Helper()
	var out []string
	withConn(t, dbURL, func(ctx context.Context, conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public'
			AND tablename NOT LIKE 'kantree_nomad_%' ORDER BY 1`)
		if err != nil {
			return err
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, tb := range tables {
			var n int
			var sum string
			q := fmt.Sprintf(`SELECT count(*), coalesce(md5(string_agg(t::text, E'\n' ORDER BY t::text)), '') FROM %q t`, tb)
			if err := conn.QueryRow(ctx, q).Scan(&n, &sum); err != nil {
				return err
			}
			out = append(out, fmt.Sprintf("%s=%d:%s", tb, n, sum))
		}
		return nil
	})
	return strings.Join(out, " ")
}

func readBackups(t *testing.T, dbURL, release string) []ledger.BackupEntry {
	t.Helper()
	var b []ledger.BackupEntry
	withConn(t, dbURL, func(ctx context.Context, conn *pgx.Conn) (err error) {
		b, err = ledger.Backups(ctx, conn, release)
		return err
	})
	return b
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(s[:])
}

// restoreInto restores archive into a fresh database and returns its URL.
// The URL reaches pg_restore through libpq's variables, as in production.
func restoreInto(t *testing.T, pg *testbed.Postgres, archive string) string {
	t.Helper()
	fresh := pg.CreateDatabase(t)
	u, _ := url.Parse(fresh)
	pass, _ := u.User.Password()
	cmd := exec.Command("pg_restore", "--no-owner", "--exit-on-error", "-d", strings.TrimPrefix(u.Path, "/"), archive)
	cmd.Env = append(os.Environ(), "PGHOST="+u.Hostname(), "PGPORT="+u.Port(), "PGUSER="+u.User.Username(), "PGPASSWORD="+pass)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	return fresh
}

func TestBackupThenMigrateThenRerunTakesNone(t *testing.T) {
	pg := sharedPostgres(t)
	db := pg.CreateDatabase(t)
	seedCards(t, db, 500)
	before := fingerprint(t, db)
	dir := t.TempDir()
	args := []string{"-backup-dir", dir, "-backup-keep", "2"}
	p := startMigrate(t, db, "2.0.0", upgradeEnv(db, 0), args...)
	if code := p.wait(t, time.Minute); code != 0 {
		t.Fatalf("migrate exited %d:\n%s", code, p.out)
	}
	backups, attempts := readBackups(t, db, "2.0.0"), readLedger(t, db, "2.0.0")
	if len(backups) != 1 || backups[0].Status != ledger.BackupGood || len(attempts) != 1 {
		t.Fatalf("backups %+v attempts %+v", backups, attempts)
	}
	b := backups[0]
	st, err := os.Stat(b.Location)
	if err != nil || filepath.Dir(b.Location) != dir || b.Size != st.Size() || b.Checksum != fileSHA(t, b.Location) ||
		b.Duration <= 0 || b.Method != "pg_dump" || b.Host == "" {
		t.Fatalf("ledger backup %+v, file %v %v", b, st, err)
	}
	if !b.Taken.Before(attempts[0].Started) {
		t.Fatalf("backup taken at %v, upgrade started at %v: the backup must come first", b.Taken, attempts[0].Started)
	}
	report, ok := rules.LastBackupReport(p.out.String())
	if !ok || report.Location != b.Location || report.Checksum != b.Checksum || report.Size != b.Size {
		t.Fatalf("migrate printed backup %+v (%v), the ledger has %+v:\n%s", report, ok, b, p.out)
	}
	if n, _ := upgradeRuns(t, db, "2.0.0"); n != 1 {
		t.Fatalf("upgrade_db ran %d times", n)
	}

	// A rerun of the same release: nothing to do, no second backup.
	p = startMigrate(t, db, "2.0.0", upgradeEnv(db, 0), args...)
	if code := p.wait(t, time.Minute); code != 0 || !strings.Contains(p.out.String(), "nothing to do") {
		t.Fatalf("rerun exited %d:\n%s", code, p.out)
	}
	if got := readBackups(t, db, "2.0.0"); len(got) != 1 {
		t.Fatalf("a rerun took another backup: %+v", got)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.dump")); len(files) != 1 {
		t.Fatalf("dir holds %v", files)
	}

	// The backup restores into a fresh database with the data as it was
	// before the migration (the stand-in's schema version included).
	restored := restoreInto(t, pg, b.Location)
	if got := fingerprint(t, restored); got != before {
		t.Fatalf("restored data differs:\n got %s\nwant %s", got, before)
	}
	if after := fingerprint(t, db); after == before {
		t.Fatalf("the migration changed nothing, so the restore test proves nothing: %s", after)
	}
}

func TestFailedBackupStopsTheReleaseBeforeUpgrade(t *testing.T) {
	pg := sharedPostgres(t)
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args func(t *testing.T) []string
		want string
	}{
		{name: "destination unreachable", want: "the destination is not writable",
			args: func(*testing.T) []string { return []string{"-backup-dir", filepath.Join(file, "backups")} }},
		{name: "command exits non-zero", want: "exited with code 7: upload refused",
			args: func(t *testing.T) []string {
				return []string{"-backup-dir", t.TempDir(), "-backup-command", "sh", "-backup-command", "-c",
					"-backup-command", "echo upload refused >&2; exit 7"}
			}},
		{name: "command prints the password and fails", want: "exited with code 9: xxxxx",
			args: func(t *testing.T) []string {
				return []string{"-backup-dir", t.TempDir(), "-backup-command", "sh", "-backup-command", "-c",
					"-backup-command", `echo "$PGPASSWORD" >&2; exit 9`}
			}},
		{name: "elsewhere, command exits non-zero", want: "false exited with code 1",
			args: func(*testing.T) []string { return []string{"-backup-command", "false", "-backup-command", "x"} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := pg.CreateDatabase(t)
			seedCards(t, db, 10)
			before := fingerprint(t, db)
			p := startMigrate(t, db, "2.0.0", upgradeEnv(db, 0), tc.args(t)...)
			code := p.wait(t, time.Minute)
			assertStopped(t, db, code, p.out.String(), tc.want, before)
		})
	}
}

// assertStopped checks that a migrate whose backup failed exited 1 naming
// the cause, ran no upgrade, and left the data and schema as they were.
func assertStopped(t *testing.T, db string, code int, out, want, before string) {
	t.Helper()
	if code != 1 || !strings.Contains(out, want) || !strings.Contains(out, "not applied: no verified backup") {
		t.Fatalf("migrate exited %d, want 1 saying %q:\n%s", code, want, out)
	}
	if n, _ := upgradeRuns(t, db, "2.0.0"); n != 0 {
		t.Fatalf("upgrade_db ran %d times after a failed backup", n)
	}
	if a := readLedger(t, db, "2.0.0"); len(a) != 0 {
		t.Fatalf("attempts recorded after a failed backup: %+v", a)
	}
	u, _ := url.Parse(db)
	pass, _ := u.User.Password()
	if b := readBackups(t, db, "2.0.0"); len(b) != 1 || b[0].Status != ledger.BackupFailed || b[0].Detail == "" || strings.Contains(b[0].Detail, pass) {
		t.Fatalf("ledger backups %+v, want one failed with its cause (and no password)", b)
	}
	if strings.Contains(out, pass) {
		t.Fatalf("migrate's output holds the password:\n%s", out)
	}
	if after := fingerprint(t, db); after != before {
		t.Fatalf("data changed: %s, was %s", after, before)
	}
}

// TestBackupOnAFullDiskStopsTheRelease mounts a 64 KiB tmpfs (the archive is about 160 KiB) as the
// backup directory in a mount namespace of migrate's own.
func TestBackupOnAFullDiskStopsTheRelease(t *testing.T) {
	if err := exec.Command("unshare", "-m", "true").Run(); err != nil {
		t.Skipf("unshare -m is not allowed here (%v): no private tmpfs to fill", err)
	}
	db := sharedPostgres(t).CreateDatabase(t)
	seedCards(t, db, 20000)
	before := fingerprint(t, db)
	dir := t.TempDir()
	script := `mount -t tmpfs -o size=64k tmpfs "$1" && shift && exec "$@"`
	cmd := migrateCmd(t, db, "2.0.0", upgradeEnv(db, 0), []string{"-backup-dir", dir}, "./platform", "upgrade_db")
	wrapped := exec.Command("unshare", append([]string{"-m", "sh", "-c", script, "_", dir}, cmd.Args...)...)
	wrapped.Dir, wrapped.Env = cmd.Dir, cmd.Env
	q := startProc(t, wrapped)
	code := q.wait(t, time.Minute)
	assertStopped(t, db, code, q.out.String(), "No space left on device", before)
}

// trickyPassword has what breaks naive quoting and templating.
const trickyPassword = `p'a"s s@{{ .x }}${HOME}%40\`

// trickyDatabase creates a role whose password is trickyPassword and a
// database it owns, and returns the database's URL.
func trickyDatabase(t *testing.T, pg *testbed.Postgres) string {
	t.Helper()
	role := fmt.Sprintf("tricky_%d", time.Now().UnixNano())
	withConn(t, pg.SuperURL("postgres"), func(ctx context.Context, conn *pgx.Conn) error {
		lit := "'" + strings.ReplaceAll(trickyPassword, "'", "''") + "'"
		if _, err := conn.Exec(ctx, "CREATE ROLE "+role+" LOGIN PASSWORD "+lit); err != nil {
			return err
		}
		_, err := conn.Exec(ctx, "CREATE DATABASE "+role+" OWNER "+role)
		return err
	})
	u := url.URL{Scheme: "postgres", User: url.UserPassword(role, trickyPassword),
		Host: fmt.Sprintf("%s:%d", pg.Host, pg.Port), Path: "/" + role, RawQuery: "sslmode=disable"}
	return u.String()
}

// argvShim puts a pg_dump and pg_restore first in PATH that append their
// argument lists to a log, then run the real ones.
func argvShim(t *testing.T) (pathEnv, log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "argv.log")
	for _, name := range []string{"pg_dump", "pg_restore"} {
		real, err := exec.LookPath(name)
		if err != nil {
			t.Fatal(err)
		}
		script := fmt.Sprintf("#!/bin/sh\necho %s \"$@\" >> %s\nexec %s \"$@\"\n", name, log, real)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return "PATH=" + dir + ":" + os.Getenv("PATH"), log
}

func TestBackupKeepsTheSecretOutOfArgvAndLogs(t *testing.T) {
	pg := sharedPostgres(t)
	secrets := []string{trickyPassword, url.QueryEscape(trickyPassword), url.PathEscape(trickyPassword)}
	cases := []struct {
		name string
		args func(dir, log string) []string
	}{
		{name: "pg_dump", args: func(dir, _ string) []string { return []string{"-backup-dir", dir} }},
		{name: "command", args: func(dir, log string) []string {
			// The operator's command gets the URL (DATABASE_URL) and libpq's
			// PG* variables in its environment: pg_dump needs no argument.
			script := `echo backup-command "$@" >> ` + log + `; test -n "$DATABASE_URL" && pg_dump -Fc -f "$KANTREE_BACKUP_FILE"`
			return []string{"-backup-dir", dir, "-backup-command", "sh", "-backup-command", "-c", "-backup-command", script}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := trickyDatabase(t, pg)
			seedCards(t, db, 10)
			path, log := argvShim(t)
			env := append(upgradeEnv(db, 0), path)
			p := startMigrate(t, db, "2.0.0", env, tc.args(t.TempDir(), log)...)
			if code := p.wait(t, time.Minute); code != 0 {
				t.Fatalf("migrate exited %d:\n%s", code, p.out)
			}
			argv, err := os.ReadFile(log)
			if err != nil || !strings.Contains(string(argv), "pg_restore --list") {
				t.Fatalf("the shim saw no verification (%v):\n%s", err, argv)
			}
			for _, s := range secrets {
				if strings.Contains(p.out.String(), s) {
					t.Fatalf("migrate's output holds the password %q:\n%s", s, p.out)
				}
				if strings.Contains(string(argv), s) {
					t.Fatalf("an argument list holds the password %q:\n%s", s, argv)
				}
			}
			if b := readBackups(t, db, "2.0.0"); len(b) != 1 || strings.Contains(b[0].Detail+b[0].Location, "p'a") {
				t.Fatalf("ledger backups %+v", b)
			}
		})
	}
}
