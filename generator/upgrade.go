package generator

import (
	"time"

	"github.com/hashicorp/nomad/api"
)

// upgradeJob is the batch job that migrates the database to the release,
// to be run (and to complete) before the service job of that release. Its
// one task never restarts in place; Nomad may reschedule it twice, which is
// safe: `kantree-nomad migrate` runs upgrade_db at most once per release.
func (p *plan) upgradeJob() (*api.Job, error) {
	j := p.job(p.d.UpgradeJob, "batch")
	t, err := p.migrateTask()
	if err != nil {
		return nil, err
	}
	j.TaskGroups = []*api.TaskGroup{{
		Name:          new("upgrade-db"),
		Count:         new(1),
		RestartPolicy: &api.RestartPolicy{Attempts: new(0), Mode: new("fail")},
		ReschedulePolicy: &api.ReschedulePolicy{
			Attempts: new(2), Interval: new(time.Hour), Delay: new(30 * time.Second),
			DelayFunction: new("constant"), Unlimited: new(false),
		},
		Tasks: []*api.Task{t},
	}}
	addBackupVolume(j.TaskGroups[0], p.d.Backup)
	return j, nil
}
