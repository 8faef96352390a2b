package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Table is the table that records every migration attempt.
const Table = "kantree_nomad_migrations"

// Status values of a ledger row.
const (
	// StatusRunning: the holder runs (or ran, if it died) the command.
	StatusRunning = "running"
	// StatusSucceeded: the command exited 0.
	StatusSucceeded = "succeeded"
	// StatusFailed: the command exited non-zero on its own.
	StatusFailed = "failed"
	// StatusKilled: migrate was asked to stop and stopped the command.
	StatusKilled = "killed"
	// StatusFenced: the holder could not renew its lease and stopped the
	// command before the lease ran out.
	StatusFenced = "fenced"
	// StatusUnknown: the lease ran out with no end recorded. The command may
	// have succeeded; nothing runs the release again without a decision.
	StatusUnknown = "unknown"
	// StatusInterrupted: a row left running by a migrate older than leases.
	StatusInterrupted = "interrupted"
	// StatusResolvedRerun: an unknown attempt that an operator chose to
	// run again (migrate -unknown rerun).
	StatusResolvedRerun = "unknown-rerun"
)

const createTable = `CREATE TABLE IF NOT EXISTS ` + Table + ` (
	id            bigserial PRIMARY KEY,
	release       text        NOT NULL,
	attempt       integer     NOT NULL,
	status        text        NOT NULL,
	started_at    timestamptz NOT NULL DEFAULT now(),
	finished_at   timestamptz,
	host          text        NOT NULL,
	backend_pid   integer     NOT NULL,
	backend_start timestamptz NOT NULL,
	exit_code     integer,
	detail        text        NOT NULL DEFAULT '',
	UNIQUE (release, attempt)
)`

// upgradeTable adds the lease columns to a table created by an older
// kantree-nomad, and the index that allows one running row at a time.
var upgradeTable = []string{
	`ALTER TABLE ` + Table + ` ADD COLUMN IF NOT EXISTS lease_until timestamptz`,
	`ALTER TABLE ` + Table + ` ADD COLUMN IF NOT EXISTS boot_id text NOT NULL DEFAULT ''`,
	`ALTER TABLE ` + Table + ` ADD COLUMN IF NOT EXISTS marker text NOT NULL DEFAULT ''`,
	`CREATE UNIQUE INDEX IF NOT EXISTS ` + Table + `_one_running ON ` + Table + ` ((true)) WHERE status = 'running'`,
}

// Entry is one ledger row: one attempt to apply one release.
type Entry struct {
	ID         int64
	Release    string
	Attempt    int
	Status     string
	Started    time.Time
	Finished   *time.Time
	Host       string
	BackendPID int
	ExitCode   *int
	Detail     string
	LeaseUntil *time.Time // server time; nil for rows older than leases
	BootID     string     // /proc/sys/kernel/random/boot_id of the holder's host
	Marker     string     // the value of the command's marker variable
}

// Ensure creates the table, or brings an older one up to date. Call it
// while holding the migration advisory lock, so that concurrent migrates
// never race on CREATE TABLE.
func Ensure(ctx context.Context, conn *pgx.Conn) error {
	for _, stmt := range append([]string{createTable}, upgradeTable...) {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("create ledger table %s: %w", Table, err)
		}
	}
	return nil
}

const columns = `id, release, attempt, status, started_at, finished_at, host, backend_pid,
	exit_code, detail, lease_until, boot_id, marker`

func scan(r pgx.Row) (Entry, error) {
	var e Entry
	err := r.Scan(&e.ID, &e.Release, &e.Attempt, &e.Status, &e.Started, &e.Finished, &e.Host,
		&e.BackendPID, &e.ExitCode, &e.Detail, &e.LeaseUntil, &e.BootID, &e.Marker)
	return e, err
}

// Entries returns the rows of release (all releases when release is empty),
// oldest first. A missing table means no entries.
func Entries(ctx context.Context, conn *pgx.Conn, release string) ([]Entry, error) {
	rows, err := conn.Query(ctx, `SELECT `+columns+` FROM `+Table+`
		WHERE $1 = '' OR release = $1 ORDER BY id`, release)
	if err != nil {
		return nil, missingIsEmpty(fmt.Errorf("read ledger %s: %w", Table, err))
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) { return scan(r) })
	if err != nil {
		return nil, missingIsEmpty(fmt.Errorf("read ledger %s: %w", Table, err))
	}
	return entries, nil
}

func missingIsEmpty(err error) error {
	if isUndefined(err) {
		return nil
	}
	return err
}

// isUndefined reports a missing table or column (a ledger older than this
// code, or none at all).
func isUndefined(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "42703")
}
