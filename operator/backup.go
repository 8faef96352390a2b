package operator

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// backupAllocs bounds how many of the upgrade job's newest allocations
// are searched for the line migrate prints about its backup.
const backupAllocs = 5

// latestBackup returns the newest backup the upgrade job's allocations
// report in their stdout (rules.BackupReport); found is false when none of
// the newest backupAllocs does.
func (c *Cluster) latestBackup(ctx context.Context, r *Release) (b rules.BackupReport, found bool, err error) {
	id := r.Dep.UpgradeJob
	stubs, _, err := c.Nomad.Jobs().Allocations(id, true, r.query(ctx))
	if isNotFound(err) {
		return b, false, nil
	}
	if err != nil {
		return b, false, nomadError("list allocations of "+id, err)
	}
	sort.Slice(stubs, func(i, j int) bool { return stubs[i].CreateIndex > stubs[j].CreateIndex })
	for _, s := range stubs[:min(len(stubs), backupAllocs)] {
		a, _, err := c.Nomad.Allocations().Info(s.ID, r.query(ctx))
		if err != nil {
			return b, false, nomadError("read allocation "+short(s.ID), err)
		}
		log, _ := c.readLog(ctx, a, "upgrade-db", "stdout")
		if b, found = rules.LastBackupReport(log); found {
			return b, true, nil
		}
	}
	return b, false, nil
}

// printBackup prints status's line about the newest backup.
func (c *Cluster) printBackup(ctx context.Context, r *Release) {
	if !r.Dep.Backup.Enabled {
		c.printf("Backup: off in kantree.hcl (backup { enabled = false }): migrations run without a backup")
		return
	}
	b, found, err := c.latestBackup(ctx, r)
	switch {
	case err != nil:
		c.printf("Backup: %v", err)
	case !found:
		c.printf("Backup: none reported by the newest allocations of job %s", r.Dep.UpgradeJob)
	default:
		c.printf("Backup: %s", describeBackup(b))
	}
}

func describeBackup(b rules.BackupReport) string {
	size := "size unknown (stored by the backup command)"
	if b.Size > 0 {
		size = fmt.Sprintf("%d bytes, %s", b.Size, b.Checksum)
	}
	return fmt.Sprintf("before release %s: %s on %s (%s, took %s)", b.Release, b.Location, b.Host, size, b.Duration)
}

// printRestoreSteps prints how to restore the newest backup, for a
// rollback that cannot go back across the schema without it.
func (c *Cluster) printRestoreSteps(ctx context.Context, r *Release, target uint64) {
	b, found, err := c.latestBackup(ctx, r)
	if err != nil || !found {
		c.printf("    No backup found in the logs of job %s (%v): restore the one you took before the upgrade.", r.Dep.UpgradeJob, err)
		return
	}
	c.printf("    Newest backup: %s", describeBackup(b))
	for i, step := range restoreSteps(r.Dep.Job, r.Dep.Backup.Volume, target, b) {
		c.printf("    %d. %s", i+1, step)
	}
}

// restoreSteps are the commands an operator runs to put the database back
// as the backup b holds it. The password never goes on a command line:
// libpq reads it from PGPASSWORD.
func restoreSteps(job, volume string, target uint64, b rules.BackupReport) []string {
	revert := fmt.Sprintf("nomad job revert %s %d   (the version before the upgrade; the restored ledger is at that release)", job, target)
	stop := fmt.Sprintf("nomad job stop %s   (nothing may write while the database is replaced)", job)
	if !strings.HasPrefix(b.Location, "/") {
		return []string{stop, fmt.Sprintf("restore %s with the tool your backup command uploaded it with", b.Location),
			revert}
	}
	name := path.Base(b.Location)
	return []string{
		stop,
		fmt.Sprintf("on the node of %s, in the directory of host volume %q: sha256sum -c %s.sha256", b.Host, volume, name),
		"export PGHOST, PGPORT, PGUSER and PGPASSWORD with the values in DATABASE_URL (not on the command line)",
		fmt.Sprintf("createdb kantree_restore && pg_restore --exit-on-error --no-owner -d kantree_restore %s", name),
		"psql -d postgres -c 'ALTER DATABASE <database> RENAME TO <database>_before_restore' -c 'ALTER DATABASE kantree_restore RENAME TO <database>'",
		revert,
	}
}
