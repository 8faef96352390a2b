package operator

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kantree-nomad/kantree-nomad/runtime/ledger"
)

// Issue 17 on the job path: the upgrade-db job backs up into the node's
// host volume, then migrates; a failing backup stops the release before
// upgrade_db, deploy exits 1 with the reason and the service job is left
// alone; status shows the newest backup; rollback across a major release
// prints the steps to restore it.
func TestDeployBacksUpBeforeMigrating(t *testing.T) {
	t.Parallel()
	s := newSite(t, "ktbak")
	ctx := testContext(t)
	deployRelease(t, s, ctx, "7.9.0")
	archives := s.backupFiles(t)
	if len(archives) != 1 || !strings.HasSuffix(archives[0], "-7.9.0.dump") {
		t.Fatalf("backups on the volume after deploying 7.9.0: %v, want one", archives)
	}
	good := s.ledgerBackups(t, ledger.BackupGood)
	if len(good) != 1 || good[0].Size == 0 || !strings.HasPrefix(good[0].Checksum, "sha256:") || filepath.Base(good[0].Location) != filepath.Base(archives[0]) {
		t.Fatalf("ledger backups %+v", good)
	}
	out, code := s.run(ctx, "status", s.file)
	if code != 0 || !strings.Contains(out, "Backup: before release 7.9.0: "+good[0].Location) {
		t.Errorf("status (exit %d) lacks the backup line:\n%s", code, out)
	}

	t.Run("failing backup stops the release", func(t *testing.T) { checkFailingBackup(t, s, ctx) })
	t.Run("rollback across a major release prints the restore steps", func(t *testing.T) { checkRestoreSteps(t, s, ctx) })
}

func checkFailingBackup(t *testing.T, s *site, ctx context.Context) {
	before := s.serviceJob()
	s.backup = fmt.Sprintf(`backup {
  path    = %q
  command = ["sh", "-c", "echo upload refused: bucket is read-only >&2; exit 7"]
}
`, s.b.backups)
	s.write("8.4.1", s.stdArchive("8.4.1"), "")
	s.backup = ""
	out, code := s.run(ctx, "deploy", s.file)
	t.Logf("deploy with a failing backup (exit %d):\n%s", code, out)
	for _, want := range []string{"no verified backup", "sh exited with code 7: upload refused: bucket is read-only", "was not submitted"} {
		if !strings.Contains(out, want) {
			t.Errorf("deploy output lacks %q", want)
		}
	}
	if code != 1 {
		t.Errorf("deploy exit %d, want 1", code)
	}
	if n := upgradeRuns(t, s, "8.4.1"); n != 0 {
		t.Errorf("upgrade_db ran %d times after the backup failed", n)
	}
	if v := schemaVersion(t, s); v != "7.9.0" {
		t.Errorf("schema at %s, want 7.9.0 (unchanged)", v)
	}
	if after := s.serviceJob(); *after.JobModifyIndex != *before.JobModifyIndex {
		t.Errorf("service job changed after a failed backup")
	}
	if failed := s.ledgerBackups(t, ledger.BackupFailed); len(failed) != 1 || !strings.Contains(failed[0].Detail, "code 7") {
		t.Errorf("ledger's failed backups: %+v", failed)
	}
}

func checkRestoreSteps(t *testing.T, s *site, ctx context.Context) {
	deployRelease(t, s, ctx, "8.4.1") // the default backup again: it works
	if n := len(s.backupFiles(t)); n != 2 {
		t.Fatalf("%d backups on the volume, want 2", n)
	}
	newest := s.ledgerBackups(t, ledger.BackupGood)[1]
	s.out.take()
	err := s.cluster().Rollback(ctx, s.release(), false)
	out := s.out.take()
	t.Logf("rollback across 8.4.1 (%v):\n%s", err, out)
	if err == nil || !strings.Contains(err.Error(), "newer major release") {
		t.Fatalf("rollback across a major release: %v, want it refused", err)
	}
	for _, want := range []string{"Newest backup: before release 8.4.1: " + newest.Location, "nomad job stop ktbak",
		"sha256sum -c " + filepath.Base(newest.Location) + ".sha256", "pg_restore --exit-on-error --no-owner -d kantree_restore " + filepath.Base(newest.Location)} {
		if !strings.Contains(out, want) {
			t.Errorf("rollback output lacks %q", want)
		}
	}
}

// backupFiles lists the verified archives of the site's database on the
// node's backup volume.
func (s *site) backupFiles(t *testing.T) []string {
	t.Helper()
	u, _ := url.Parse(s.db)
	files, _ := filepath.Glob(filepath.Join(s.b.backups, "kantree-"+strings.TrimPrefix(u.Path, "/")+"-*.dump"))
	var out []string
	for _, f := range files {
		if _, err := os.Stat(f + ".sha256"); err == nil {
			out = append(out, f)
		}
	}
	return out
}

func (s *site) ledgerBackups(t *testing.T, status string) []ledger.BackupEntry {
	t.Helper()
	all, err := ledger.Backups(context.Background(), dbConn(t, s), "")
	if err != nil {
		t.Fatal(err)
	}
	var out []ledger.BackupEntry
	for _, b := range all {
		if b.Status == status {
			out = append(out, b)
		}
	}
	return out
}
