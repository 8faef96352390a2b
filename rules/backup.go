package rules

import (
	"fmt"
	"strings"
	"time"
)

// BackupReport is the backup taken before a release's upgrade, as
// `kantree-nomad migrate` prints it on one line of its output (Line) and
// the operator side reads it back from the upgrade-db task's log
// (ParseBackupReport). The ledger holds the same facts.
type BackupReport struct {
	Release  string
	Location string // a path on Host, or what the operator's command printed
	Host     string // the node (and allocation) that took it
	Size     int64  // bytes; 0 when the command stored no file here
	Duration time.Duration
	Checksum string // "sha256:<hex>", or "none"
}

const backupLinePrefix = "kantree-nomad backup: "

// Line prints r on one line that ParseBackupReport reads back.
func (r BackupReport) Line() string {
	sum := r.Checksum
	if sum == "" {
		sum = "none"
	}
	return fmt.Sprintf("%srelease %s size %d duration %s checksum %s location %q host %q",
		backupLinePrefix, r.Release, r.Size, r.Duration.Round(time.Millisecond), sum, r.Location, r.Host)
}

// ParseBackupReport reads a line printed by Line; ok is false for any
// other line.
func ParseBackupReport(line string) (r BackupReport, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(line), backupLinePrefix)
	if !found {
		return BackupReport{}, false
	}
	var dur string
	n, err := fmt.Sscanf(rest, "release %s size %d duration %s checksum %s location %q host %q",
		&r.Release, &r.Size, &dur, &r.Checksum, &r.Location, &r.Host)
	if err != nil || n != 6 {
		return BackupReport{}, false
	}
	if r.Duration, err = time.ParseDuration(dur); err != nil {
		return BackupReport{}, false
	}
	return r, true
}

// LastBackupReport returns the last backup line in log text.
func LastBackupReport(log string) (BackupReport, bool) {
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if r, ok := ParseBackupReport(lines[i]); ok {
			return r, true
		}
	}
	return BackupReport{}, false
}

// Backup defaults, shared by kantree.hcl's backup block and migrate's flags.
const (
	// BackupKeep is how many verified backups are kept by default.
	BackupKeep = 5
	// BackupTimeout bounds one backup by default.
	BackupTimeout = time.Hour
)
