package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrBusy is returned by Begin when another attempt is running.
var ErrBusy = errors.New("another attempt is running")

// Attempt describes a new attempt to record.
type Attempt struct {
	Release string
	Host    string // names the node (and allocation) for people
	BootID  string // the host's boot ID, to find what the attempt leaves behind
	Marker  string // the command's marker variable value
}

// Begin records a new running attempt with a lease of d from now (server
// time). It returns ErrBusy when a running row exists.
func Begin(ctx context.Context, conn *pgx.Conn, a Attempt, d time.Duration) (Entry, error) {
	row := conn.QueryRow(ctx, `INSERT INTO `+Table+`
		(release, attempt, status, host, backend_pid, backend_start, lease_until, boot_id, marker)
		SELECT $1, coalesce(max(attempt), 0) + 1, $2, $3, pg_backend_pid(),
		       (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()),
		       clock_timestamp() + make_interval(secs => $4), $5, $6
		FROM `+Table+` WHERE release = $1
		RETURNING `+columns, a.Release, StatusRunning, a.Host, d.Seconds(), a.BootID, a.Marker)
	e, err := scan(row)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return Entry{}, ErrBusy
	}
	if err != nil {
		return Entry{}, fmt.Errorf("record start of release %s in %s: %w", a.Release, Table, err)
	}
	return e, nil
}

// Renew extends the lease of running attempt id to d from now (server
// time), provided the lease has not already run out. ok is false when the
// attempt is no longer running or its lease ran out: someone may take over.
func Renew(ctx context.Context, conn *pgx.Conn, id int64, d time.Duration) (ok bool, err error) {
	tag, err := conn.Exec(ctx, `UPDATE `+Table+`
		SET lease_until = clock_timestamp() + make_interval(secs => $2)
		WHERE id = $1 AND status = $3 AND lease_until > clock_timestamp()`, id, d.Seconds(), StatusRunning)
	if err != nil {
		return false, fmt.Errorf("renew the lease of attempt %d in %s: %w", id, Table, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Finish records how attempt id ended. It also settles a row that a
// successor marked unknown meanwhile: the holder knows better. ok is false
// when the row was settled otherwise (an operator's decision).
func Finish(ctx context.Context, conn *pgx.Conn, id int64, status string, exitCode *int, detail string) (ok bool, err error) {
	tag, err := conn.Exec(ctx, `UPDATE `+Table+`
		SET status = $2, finished_at = clock_timestamp(), exit_code = $3, detail = $4, lease_until = NULL
		WHERE id = $1 AND status IN ($5, $6)`, id, status, exitCode, detail, StatusRunning, StatusUnknown)
	if err != nil {
		return false, fmt.Errorf("record end of attempt %d in %s: %w", id, Table, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Running returns the running attempt, if any, and how long until its lease
// plus margin has passed on the server's clock (zero or less: it has).
func Running(ctx context.Context, conn *pgx.Conn, margin time.Duration) (*Entry, time.Duration, error) {
	var left float64
	row := conn.QueryRow(ctx, `SELECT `+columns+`,
		extract(epoch FROM coalesce(lease_until, started_at) + make_interval(secs => $2) - clock_timestamp())::float8
		FROM `+Table+` WHERE status = $1`, StatusRunning, margin.Seconds())
	var e Entry
	err := row.Scan(&e.ID, &e.Release, &e.Attempt, &e.Status, &e.Started, &e.Finished, &e.Host,
		&e.BackendPID, &e.ExitCode, &e.Detail, &e.LeaseUntil, &e.BootID, &e.Marker, &left)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read the running attempt in %s: %w", Table, err)
	}
	return &e, time.Duration(left * float64(time.Second)), nil
}

// Expire marks running attempt id unknown if its lease plus margin has
// passed on the server's clock. ok is false when it has not (the holder
// renewed it meanwhile) or the row is no longer running.
func Expire(ctx context.Context, conn *pgx.Conn, id int64, margin time.Duration) (ok bool, err error) {
	tag, err := conn.Exec(ctx, `UPDATE `+Table+`
		SET status = $2, detail = 'the lease ran out with no end recorded: the holder died, hung or lost PostgreSQL for good'
		WHERE id = $1 AND status = $3
		  AND coalesce(lease_until, started_at) + make_interval(secs => $4) < clock_timestamp()`,
		id, StatusUnknown, StatusRunning, margin.Seconds())
	if err != nil {
		return false, fmt.Errorf("expire attempt %d in %s: %w", id, Table, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Unknown returns the attempts of release (all releases when empty) whose
// end is unknown, oldest first.
func Unknown(ctx context.Context, conn *pgx.Conn, release string) ([]Entry, error) {
	rows, err := conn.Query(ctx, `SELECT `+columns+` FROM `+Table+`
		WHERE status = $1 AND ($2 = '' OR release = $2) ORDER BY id`, StatusUnknown, release)
	if err != nil {
		return nil, fmt.Errorf("read unknown attempts in %s: %w", Table, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) { return scan(r) })
}

// Resolve settles unknown attempt id as status (an operator's decision)
// with detail.
func Resolve(ctx context.Context, conn *pgx.Conn, id int64, status, detail string) error {
	_, err := conn.Exec(ctx, `UPDATE `+Table+` SET status = $2, detail = detail || ' ' || $3,
		finished_at = coalesce(finished_at, clock_timestamp()) WHERE id = $1 AND status = $4`,
		id, status, detail, StatusUnknown)
	if err != nil {
		return fmt.Errorf("resolve attempt %d in %s: %w", id, Table, err)
	}
	return nil
}
