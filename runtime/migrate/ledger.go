package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// LedgerTable is the table that records every migration attempt.
const LedgerTable = "kantree_nomad_migrations"

// Status values of a ledger row.
const (
	StatusRunning     = "running"     // the attempt's holder is (or was, if it died) running the command
	StatusSucceeded   = "succeeded"   // the command exited 0
	StatusFailed      = "failed"      // the command exited non-zero on its own
	StatusKilled      = "killed"      // migrate was asked to stop (SIGTERM/SIGINT) and stopped the command
	StatusInterrupted = "interrupted" // found "running" by a later holder: the holder died midway
)

const createLedger = `CREATE TABLE IF NOT EXISTS ` + LedgerTable + ` (
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
}

// ensureLedger creates the ledger table if it does not exist. It is called
// only while holding the advisory lock, so concurrent migrates never race
// on CREATE TABLE.
func ensureLedger(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, createLedger); err != nil {
		return fmt.Errorf("create ledger table %s: %w", LedgerTable, err)
	}
	return nil
}

// Entries returns the ledger rows of release (all releases when release is
// empty), oldest first. A missing ledger table means no entries.
func Entries(ctx context.Context, conn *pgx.Conn, release string) ([]Entry, error) {
	rows, err := conn.Query(ctx, `SELECT id, release, attempt, status, started_at, finished_at,
		host, backend_pid, exit_code, detail FROM `+LedgerTable+`
		WHERE $1 = '' OR release = $1 ORDER BY id`, release)
	if err != nil {
		return nil, missingIsEmpty(fmt.Errorf("read ledger %s: %w", LedgerTable, err))
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) {
		var e Entry
		err := r.Scan(&e.ID, &e.Release, &e.Attempt, &e.Status, &e.Started, &e.Finished,
			&e.Host, &e.BackendPID, &e.ExitCode, &e.Detail)
		return e, err
	})
	if err != nil {
		return nil, missingIsEmpty(fmt.Errorf("read ledger %s: %w", LedgerTable, err))
	}
	return entries, nil
}

// AppliedRelease returns the release of the most recent successful attempt:
// the release the schema is at, as far as migrate knows. found is false when
// no release has succeeded yet (or the ledger does not exist).
func AppliedRelease(ctx context.Context, conn *pgx.Conn) (release string, found bool, err error) {
	err = conn.QueryRow(ctx, `SELECT release FROM `+LedgerTable+`
		WHERE status = $1 ORDER BY finished_at DESC, id DESC LIMIT 1`, StatusSucceeded).Scan(&release)
	if errors.Is(err, pgx.ErrNoRows) || isUndefinedTable(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read applied release from %s: %w", LedgerTable, err)
	}
	return release, true, nil
}

func missingIsEmpty(err error) error {
	if isUndefinedTable(err) {
		return nil
	}
	return err
}

func isUndefinedTable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42P01"
}
