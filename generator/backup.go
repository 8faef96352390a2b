package generator

import (
	"strconv"

	"github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// backupVolume is the upgrade-db group's name for the backup host volume.
const backupVolume = "backups"

// backupArgs are migrate's flags for the backup taken before the upgrade:
// none when backups are off (migrate then warns that it takes none).
func backupArgs(b jobspec.Backup) []string {
	if !b.Enabled {
		return nil
	}
	var args []string
	switch {
	case b.HostPath != "":
		args = append(args, "-backup-dir", b.HostPath)
	case b.Volume != "":
		args = append(args, "-backup-dir", jobspec.BackupMountPath)
	}
	for _, w := range b.Command {
		args = append(args, "-backup-command", w)
	}
	return append(args, "-backup-keep", strconv.Itoa(b.Keep), "-backup-timeout", b.Timeout.String())
}

// addBackupVolume asks for the backup host volume, so that the job is
// placed only on nodes that have it, and mounts it read-write in the
// upgrade-db task, so that archives outlive the allocation. A raw_exec task
// cannot mount it: it writes to the volume's host path (HostPath).
func addBackupVolume(g *api.TaskGroup, b jobspec.Backup) {
	if !b.Enabled || b.Volume == "" {
		return
	}
	g.Volumes = map[string]*api.VolumeRequest{backupVolume: {Name: backupVolume, Type: "host", Source: b.Volume}}
	if b.HostPath != "" {
		return
	}
	for _, t := range g.Tasks {
		t.VolumeMounts = append(t.VolumeMounts, &api.VolumeMount{Volume: new(backupVolume), Destination: new(jobspec.BackupMountPath)})
	}
}
