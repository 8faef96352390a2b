package backup_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/runtime/backup"
)

var t0 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func TestTakeVerifiesSumsAndNamesTheArchive(t *testing.T) {
	db := sharedPostgres(t).CreateDatabase(t)
	seed(t, db, 100)
	dir := t.TempDir()
	res, err := take(t, db, dir, 3, t0)
	if err != nil {
		t.Fatal(err)
	}
	name := "kantree-" + dbName(t, db) + "-20261203T100000.000Z-2.0.0.dump"
	want := filepath.Join(dir, name)
	st, err := os.Stat(want)
	if err != nil || res.Location != want || res.Size != st.Size() || res.Size == 0 || res.Method != backup.MethodPgDump {
		t.Fatalf("result %+v, stat %v %v; want the archive %s", res, st, err, want)
	}
	if !strings.HasPrefix(res.Checksum, "sha256:") || res.Duration <= 0 {
		t.Fatalf("checksum %q duration %v", res.Checksum, res.Duration)
	}
	sha256sum(t, want)
	if got := names(t, dir); got != name+" "+name+".sha256" {
		t.Fatalf("dir holds %q", got)
	}
}

func TestRetentionKeepsExactlyNAndTheNewestGood(t *testing.T) {
	db := sharedPostgres(t).CreateDatabase(t)
	seed(t, db, 10)
	dir := t.TempDir()
	// An archive with no .sha256 was never verified: retention neither
	// counts nor deletes it.
	unverified := filepath.Join(dir, backup.ArchiveName(dbName(t, db), "1.0.0", t0.Add(-time.Hour)))
	if err := os.WriteFile(unverified, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	var all []string
	for i := range 5 {
		res, err := take(t, db, dir, 2, t0.Add(time.Duration(i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, res.Location)
		kept, err := backup.Verified(dir, dbName(t, db))
		if err != nil {
			t.Fatal(err)
		}
		want := all[max(0, len(all)-2):]
		if strings.Join(kept, " ") != strings.Join(want, " ") {
			t.Fatalf("after backup %d kept %v, want %v", i+1, kept, want)
		}
	}
	if _, err := os.Stat(unverified); err != nil {
		t.Fatalf("the unverified archive was touched: %v", err)
	}
	// A failed backup removes nothing: the newest good one stays.
	if _, err := take(t, db, dir, 1, t0.Add(time.Hour), "sh", "-c", "exit 3"); err == nil {
		t.Fatal("a command that exits 3 made a backup")
	}
	kept, _ := backup.Verified(dir, dbName(t, db))
	if strings.Join(kept, " ") != strings.Join(all[3:], " ") {
		t.Fatalf("after a failed backup kept %v, want %v", kept, all[3:])
	}
	// Another database's archives in the same directory are its own: they
	// neither count nor go.
	other := sharedPostgres(t).CreateDatabase(t)
	if _, err := take(t, other, dir, 1, t0.Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if kept, _ := backup.Verified(dir, dbName(t, db)); len(kept) != 2 {
		t.Fatalf("another database's backup changed this one's: %v", kept)
	}
	// keep 1: only the newest good one.
	res, err := take(t, db, dir, 1, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if kept, _ = backup.Verified(dir, dbName(t, db)); len(kept) != 1 || kept[0] != res.Location {
		t.Fatalf("keep 1 kept %v, want [%s]", kept, res.Location)
	}
	if kept, _ := backup.Verified(dir, dbName(t, other)); len(kept) != 1 {
		t.Fatalf("this database's retention removed another's backup: %v", kept)
	}
	if _, err := backup.Prune(dir, dbName(t, db), 0); err == nil {
		t.Fatal("Prune with keep 0 was accepted")
	}
}

func TestFailedBackupsNameTheCauseAndLeaveNothing(t *testing.T) {
	db := sharedPostgres(t).CreateDatabase(t)
	seed(t, db, 10)
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		dir     string
		command []string
		want    string
	}{
		{name: "destination unreachable", dir: filepath.Join(file, "sub"), want: "the destination is not writable"},
		{name: "command exits non-zero", command: []string{"sh", "-c", "echo no space left >&2; exit 3"}, want: "sh exited with code 3: no space left"},
		{name: "empty archive", command: []string{"true"}, want: "is empty"},
		{name: "not an archive", command: []string{"sh", "-c", `echo hello > "$KANTREE_BACKUP_FILE"`}, want: "the archive cannot be read"},
		{name: "command not found", command: []string{"/nonexistent/backup"}, want: "start /nonexistent/backup"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir
			if dir == "" {
				dir = t.TempDir()
			}
			_, err := take(t, db, dir, 2, t0, tc.command...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to say %q", err, tc.want)
			}
			if tc.dir == "" {
				if got := names(t, dir); got != "" {
					t.Fatalf("a failed backup left %q", got)
				}
			}
		})
	}
}

func TestCommandElsewhereReportsItsLocation(t *testing.T) {
	db := sharedPostgres(t).CreateDatabase(t)
	ctx := context.Background()
	cfg := backup.Config{DSN: db, Release: "2.0.0", Env: os.Environ(),
		Command: []string{"sh", "-c", `test -n "$DATABASE_URL" && test -n "$PGPASSWORD" && echo uploading && echo "s3://bucket/$KANTREE_BACKUP_RELEASE.dump"`}}
	res, err := backup.Take(ctx, cfg)
	if err != nil || res.Location != "s3://bucket/2.0.0.dump" || res.Method != backup.MethodCommand {
		t.Fatalf("result %+v, %v", res, err)
	}
	cfg.Command = []string{"true"}
	if _, err := backup.Take(ctx, cfg); err == nil || !strings.Contains(err.Error(), "printed no location") {
		t.Fatalf("a command that printed nothing: %v", err)
	}
}

func TestScratchRestoreOfTheSchema(t *testing.T) {
	pg := sharedPostgres(t)
	db, scratch := pg.CreateDatabase(t), pg.CreateDatabase(t)
	seed(t, db, 10)
	ctx := context.Background()
	cfg := backup.Config{DSN: db, Release: "2.0.0", Dir: t.TempDir(), ScratchDSN: scratch, Env: os.Environ()}
	if _, err := backup.Take(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	// The restore was rolled back: the scratch database stays empty, and
	// the next backup's schema restores there again.
	conn, err := pgx.Connect(ctx, scratch)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("scratch database has %d tables (%v), want 0", n, err)
	}
	// A scratch database that already has the table refuses the restore.
	execSQL(t, scratch, `CREATE TABLE cards (id int)`)
	cfg.Now = func() time.Time { return t0 }
	if _, err := backup.Take(ctx, cfg); err == nil || !strings.Contains(err.Error(), "does not restore into the scratch database") {
		t.Fatalf("restore into a non-empty scratch database: %v", err)
	}
}
