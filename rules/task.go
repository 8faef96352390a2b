package rules

import "time"

// Defaults of the runtime tasks that the generator also relies on. The
// tasks' flags default to these, and the generator derives what it writes
// (a flag value, a Nomad kill_timeout) from them: one statement each.
const (
	// PreflightTimeout is how long a preflight task waits for PostgreSQL,
	// Redis and the schema at the job's release before it fails (and Nomad
	// restarts it).
	PreflightTimeout = 5 * time.Minute
	// PreflightAttemptTimeout bounds one connection attempt of preflight.
	PreflightAttemptTimeout = 10 * time.Second
	// PreflightMaxBackoff is the longest wait between preflight attempts.
	PreflightMaxBackoff = 10 * time.Second

	// MigrateKillGrace is how long migrate gives upgrade_db between
	// SIGTERM and SIGKILL when it must stop it.
	MigrateKillGrace = 10 * time.Second
	// MigrateRecordFor is how long migrate keeps trying to record how the
	// command ended.
	MigrateRecordFor = 2 * time.Minute
	// MigrateKillTimeout is the upgrade-db task's Nomad kill_timeout:
	// migrate's kill grace, then room to record the attempt and unlock.
	MigrateKillTimeout = MigrateKillGrace + 20*time.Second
)
