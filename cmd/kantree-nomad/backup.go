package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/kantree-nomad/kantree-nomad/rules"
	"github.com/kantree-nomad/kantree-nomad/runtime/backup"
	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
	"github.com/kantree-nomad/kantree-nomad/runtime/migrate"
)

// ScratchVar names the environment variable that holds the URL of an
// empty scratch database: when set, migrate restores each backup's schema
// there (in a transaction it rolls back) before it trusts the backup.
const ScratchVar = "KANTREE_BACKUP_SCRATCH_URL"

// backupFlags are migrate's flags for the backup taken before an upgrade.
type backupFlags struct {
	dir     *string
	command repeated
	keep    *int
	timeout *time.Duration
}

func addBackupFlags(fs *flag.FlagSet) *backupFlags {
	b := &backupFlags{
		dir:     fs.String("backup-dir", "", "back up into this directory (pg_dump -Fc, or -backup-command writing $KANTREE_BACKUP_FILE) before a release's first attempt"),
		keep:    fs.Int("backup-keep", backup.DefaultKeep, "verified backups kept in -backup-dir; the newest is never removed"),
		timeout: fs.Duration("backup-timeout", backup.DefaultTimeout, "how long the backup may take"),
	}
	fs.Var(&b.command, "backup-command", "the operator's backup command, one argument per flag (repeatable); it gets DATABASE_URL and PG* in its environment")
	return b
}

// config returns the backup settings, or nil when no backup was asked for.
func (b *backupFlags) config(env []string) *backup.Config {
	if *b.dir == "" && len(b.command) == 0 {
		return nil
	}
	return &backup.Config{Dir: *b.dir, Command: b.command, Keep: *b.keep, Timeout: *b.timeout,
		ScratchDSN: os.Getenv(ScratchVar), Env: env}
}

// printBackup prints the release's backup in the line status and rollback
// read back from the task's log.
func printBackup(out *diagnosis.Output, b *migrate.BackupEntry) {
	if b == nil {
		return
	}
	r := rules.BackupReport{Release: b.Release, Location: b.Location, Host: b.Host, Size: b.Size,
		Duration: b.Duration, Checksum: b.Checksum}
	fmt.Fprintln(out.Stdout, r.Line())
}
