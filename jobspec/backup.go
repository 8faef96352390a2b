package jobspec

import (
	"regexp"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// Backup defaults.
const (
	// DefaultBackupVolume is the Nomad host volume backups go to.
	DefaultBackupVolume = "kantree-backups"
	// BackupMountPath is where the upgrade-db task sees the backup volume.
	BackupMountPath = "/kantree-backups"
	// DefaultBackupHostPath is the volume's directory on the host that a
	// raw_exec task writes to (raw_exec cannot mount volumes): the path of
	// the host_volume the runbook declares.
	DefaultBackupHostPath = "/var/lib/kantree-backups"
)

// Backup is the backup the upgrade-db job takes, and verifies, before the
// first attempt of a release the database has not applied.
type Backup struct {
	// Enabled is false when the operator turned backups off: migrations
	// then run without one (validate warns).
	Enabled bool
	// Volume is the Nomad host volume the archives go to, mounted at
	// BackupMountPath (default DefaultBackupVolume, unless a command is
	// given without one: the command then stores the backup elsewhere).
	Volume string
	// Command is the operator's backup command; nil means pg_dump -Fc.
	Command []string
	// HostPath is, under raw_exec (which cannot mount a volume), the
	// volume's directory on the host, which the task writes to directly;
	// "" for the other drivers.
	HostPath string
	Keep     int           // verified archives kept on the volume (default rules.BackupKeep)
	Timeout  time.Duration // how long a backup may take (default rules.BackupTimeout)
	Range    hcl.Range     // the block, or the file's start when absent
}

// volumeNameRE is what a Nomad host volume name may be.
var volumeNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// backup decodes the backup block; absent, backups are on with defaults.
func (d *decoder) backup(dep *Deployment, b *hcl.Block) {
	bk := &dep.Backup
	*bk = Backup{Enabled: true, Volume: DefaultBackupVolume, Keep: rules.BackupKeep,
		Timeout: rules.BackupTimeout, Range: fileStart(d.file)}
	rawExec := dep.Kantree.Archive != nil && dep.Kantree.Archive.Driver == "raw_exec"
	if rawExec {
		bk.HostPath = DefaultBackupHostPath
	}
	if b == nil {
		return
	}
	bk.Range = b.DefRange
	a, _ := d.block(b, "backup", []field{
		{"enabled", boolean(&bk.Enabled)},
		{"volume", matching(&bk.Volume, volumeNameRE, "host volume name", "letters, digits and _ . - as in the Nomad client's host_volume block")},
		{"command", nonEmptyList(&bk.Command)},
		{"path", guarded(func(a attrs, name string) *hcl.Diagnostic {
			if rawExec {
				return nil
			}
			return DiagBackupPath(a.rangeOf(name))
		}, valid(str, &bk.HostPath, absPath, "backup path", absPathPattern))},
		{"keep", integer(&bk.Keep, 1, 0)},
		{"timeout", duration(&bk.Timeout, true)},
	})
	switch {
	case !bk.Enabled:
		d.add(DiagBackupOff(a.rangeOf("enabled")))
	case a.decoded("command") && !a.has("volume") && !a.has("path"):
		bk.Volume, bk.HostPath = "", ""
		d.add(DiagBackupUnverified(a.rangeOf("command")))
	}
}
