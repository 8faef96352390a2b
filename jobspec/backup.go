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
	Keep    int           // verified archives kept on the volume (default rules.BackupKeep)
	Timeout time.Duration // how long a backup may take (default rules.BackupTimeout)
	Range   hcl.Range     // the block, or the file's start when absent
}

// volumeNameRE is what a Nomad host volume name may be.
var volumeNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// backup decodes the backup block; absent, backups are on with defaults.
func (d *decoder) backup(dep *Deployment, b *hcl.Block) {
	bk := &dep.Backup
	*bk = Backup{Enabled: true, Volume: DefaultBackupVolume, Keep: rules.BackupKeep,
		Timeout: rules.BackupTimeout, Range: fileStart(d.file)}
	if b == nil {
		return
	}
	bk.Range = b.DefRange
	a, _ := d.block(b, "backup", []field{
		{"enabled", boolean(&bk.Enabled)},
		{"volume", matching(&bk.Volume, volumeNameRE, "host volume name", "letters, digits and _ . - as in the Nomad client's host_volume block")},
		{"command", nonEmptyList(&bk.Command)},
		{"keep", integer(&bk.Keep, 1, 0)},
		{"timeout", duration(&bk.Timeout, true)},
	})
	switch {
	case !bk.Enabled:
		d.add(DiagBackupOff(a.rangeOf("enabled")))
	case a.decoded("command") && !a.has("volume"):
		bk.Volume = ""
		d.add(DiagBackupUnverified(a.rangeOf("command")))
	}
}
