package migrate

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// succeeded returns the successful attempt of release, if there is one.
func succeeded(ctx context.Context, conn *pgx.Conn, release string) (*Entry, error) {
	entries, err := Entries(ctx, conn, release)
	if err != nil {
		return nil, err
	}
	for i := range entries {
		if entries[i].Status == StatusSucceeded {
			return &entries[i], nil
		}
	}
	return nil, nil
}

// markInterrupted marks as interrupted every row left "running" by a
// session that no longer exists (same pid and start time in
// pg_stat_activity). The caller holds the lock, so such a holder died
// midway. Rows whose session still exists mean another migrate runs with a
// different lock key: that is an error.
func markInterrupted(ctx context.Context, conn *pgx.Conn) (int64, error) {
	tag, err := conn.Exec(ctx, `UPDATE `+LedgerTable+` l
		SET status = $1, finished_at = now(),
		    detail = 'the migrate holding the lock died or lost its connection while the command ran'
		WHERE status = $2 AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a
		    WHERE a.pid = l.backend_pid AND a.backend_start = l.backend_start)`,
		StatusInterrupted, StatusRunning)
	if err != nil {
		return 0, fmt.Errorf("mark interrupted attempts in %s: %w", LedgerTable, err)
	}
	var host string
	var attempt int
	var release string
	err = conn.QueryRow(ctx, `SELECT release, attempt, host FROM `+LedgerTable+`
		WHERE status = $1 LIMIT 1`, StatusRunning).Scan(&release, &attempt, &host)
	if err == nil {
		return 0, &hintError{
			err:  fmt.Errorf("release %s attempt %d is still running on %s, under another lock key", release, attempt, host),
			hint: "run every migrate of this database with the same -lock-key",
		}
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("check running attempts in %s: %w", LedgerTable, err)
	}
	return tag.RowsAffected(), nil
}

// begin records the start of a new attempt of release and returns its row.
func begin(ctx context.Context, conn *pgx.Conn, release, host string) (Entry, error) {
	e := Entry{Release: release, Host: host, Status: StatusRunning}
	err := conn.QueryRow(ctx, `INSERT INTO `+LedgerTable+`
		(release, attempt, status, host, backend_pid, backend_start)
		SELECT $1, coalesce(max(attempt), 0) + 1, $2, $3, pg_backend_pid(),
		       (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())
		FROM `+LedgerTable+` WHERE release = $1
		RETURNING id, attempt, started_at, backend_pid`, release, StatusRunning, host).
		Scan(&e.ID, &e.Attempt, &e.Started, &e.BackendPID)
	if err != nil {
		return e, fmt.Errorf("record start of release %s in %s: %w", release, LedgerTable, err)
	}
	return e, nil
}

// finish records how attempt id ended.
func finish(ctx context.Context, conn *pgx.Conn, id int64, status string, exitCode *int, detail string) error {
	_, err := conn.Exec(ctx, `UPDATE `+LedgerTable+`
		SET status = $2, finished_at = now(), exit_code = $3, detail = $4 WHERE id = $1`,
		id, status, exitCode, detail)
	if err != nil {
		return fmt.Errorf("record end of attempt %d in %s: %w", id, LedgerTable, err)
	}
	return nil
}

// hintError is an error with a hint of what to do.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// Hint returns what the user can do about the error.
func (e *hintError) Hint() string { return e.hint }
