package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// BackupTable records every backup taken before a release's upgrade: one
// row per backup, good or failed, next to the attempts in Table.
const BackupTable = "kantree_nomad_backups"

// Backup status values.
const (
	// BackupGood: the backup was taken and verified.
	BackupGood = "good"
	// BackupFailed: the backup failed or could not be verified; the upgrade
	// did not run.
	BackupFailed = "failed"
	// BackupRemoved: a good backup that retention has since deleted.
	BackupRemoved = "removed"
)

const createBackupTable = `CREATE TABLE IF NOT EXISTS ` + BackupTable + ` (
	id          bigserial PRIMARY KEY,
	release     text        NOT NULL,
	status      text        NOT NULL,
	taken_at    timestamptz NOT NULL DEFAULT now(),
	host        text        NOT NULL,
	method      text        NOT NULL,
	location    text        NOT NULL DEFAULT '',
	size_bytes  bigint      NOT NULL DEFAULT 0,
	duration_ms bigint      NOT NULL DEFAULT 0,
	checksum    text        NOT NULL DEFAULT '',
	detail      text        NOT NULL DEFAULT ''
)`

// BackupEntry is one row of BackupTable.
type BackupEntry struct {
	ID       int64
	Release  string
	Status   string
	Taken    time.Time
	Host     string
	Method   string // "pg_dump" or "command"
	Location string // file path on Host, or what the operator's command reported
	Size     int64  // bytes; 0 when the command reported no file
	Duration time.Duration
	Checksum string // "sha256:<hex>"; "" when there is no file to sum
	Detail   string // why it failed
}

// EnsureBackups creates BackupTable. Call it holding the migration lock.
func EnsureBackups(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, createBackupTable); err != nil {
		return fmt.Errorf("create backup table %s: %w", BackupTable, err)
	}
	return nil
}

const backupColumns = `id, release, status, taken_at, host, method, location, size_bytes, duration_ms, checksum, detail`

func scanBackup(r pgx.Row) (BackupEntry, error) {
	var b BackupEntry
	var ms int64
	err := r.Scan(&b.ID, &b.Release, &b.Status, &b.Taken, &b.Host, &b.Method, &b.Location,
		&b.Size, &ms, &b.Checksum, &b.Detail)
	b.Duration = time.Duration(ms) * time.Millisecond
	return b, err
}

// RecordBackup inserts b (its ID and Taken are set by the server).
func RecordBackup(ctx context.Context, conn *pgx.Conn, b BackupEntry) (BackupEntry, error) {
	row := conn.QueryRow(ctx, `INSERT INTO `+BackupTable+`
		(release, status, host, method, location, size_bytes, duration_ms, checksum, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING `+backupColumns,
		b.Release, b.Status, b.Host, b.Method, b.Location, b.Size, b.Duration.Milliseconds(), b.Checksum, b.Detail)
	e, err := scanBackup(row)
	if err != nil {
		return BackupEntry{}, fmt.Errorf("record backup of release %s in %s: %w", b.Release, BackupTable, err)
	}
	return e, nil
}

// Backups returns the rows of release (every release when it is empty),
// oldest first. A missing table means none.
func Backups(ctx context.Context, conn *pgx.Conn, release string) ([]BackupEntry, error) {
	rows, err := conn.Query(ctx, `SELECT `+backupColumns+` FROM `+BackupTable+`
		WHERE $1 = '' OR release = $1 ORDER BY id`, release)
	if err != nil {
		return nil, missingIsEmpty(fmt.Errorf("read backups from %s: %w", BackupTable, err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (BackupEntry, error) { return scanBackup(r) })
	if err != nil {
		return nil, missingIsEmpty(fmt.Errorf("read backups from %s: %w", BackupTable, err))
	}
	return out, nil
}

// GoodBackup returns release's newest good backup; found is false when it
// has none (or the table does not exist).
func GoodBackup(ctx context.Context, conn *pgx.Conn, release string) (b BackupEntry, found bool, err error) {
	row := conn.QueryRow(ctx, `SELECT `+backupColumns+` FROM `+BackupTable+`
		WHERE release = $1 AND status = $2 ORDER BY id DESC LIMIT 1`, release, BackupGood)
	b, err = scanBackup(row)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return BackupEntry{}, false, nil
	case err != nil:
		return BackupEntry{}, false, missingIsEmpty(fmt.Errorf("read backup of release %s from %s: %w", release, BackupTable, err))
	}
	return b, true, nil
}

// MarkRemoved records that retention deleted the good backups at
// locations (archive paths, unique by the time in their names).
func MarkRemoved(ctx context.Context, conn *pgx.Conn, locations []string) error {
	if len(locations) == 0 {
		return nil
	}
	_, err := conn.Exec(ctx, `UPDATE `+BackupTable+` SET status = $1
		WHERE status = $2 AND location = ANY($3)`, BackupRemoved, BackupGood, locations)
	if err != nil {
		return fmt.Errorf("mark removed backups in %s: %w", BackupTable, err)
	}
	return nil
}
