package kantreestub

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Tables the stand-in writes. Tests read them with the functions of
// report.go.
const (
	HeartbeatTable  = "kantree_stub_heartbeats"
	JobTable        = "kantree_stub_jobs"
	UpgradeRunTable = "kantree_stub_upgrade_runs"
	SchemaTable     = "kantree_stub_schema"
	// NodeInitTable has a row per init_node run (when it has a database).
	NodeInitTable = "kantree_stub_node_inits"
	// ProcessStartTable has a row per `run X` on an initialized root (when
	// it has a database), naming the init_node run it started on.
	ProcessStartTable = "kantree_stub_process_starts"
	// AdminTable has a row per `platform admin_note TEXT` (a stand-in
	// admin command), with the secret key's fingerprint it ran with.
	AdminTable = "kantree_stub_admin_notes"
)

var ddl = map[string]string{
	HeartbeatTable: `CREATE TABLE IF NOT EXISTS kantree_stub_heartbeats (
	id bigserial PRIMARY KEY, run_id text NOT NULL, instance_id text NOT NULL,
	fencing_token text NOT NULL, lock_held boolean NOT NULL,
	kind text NOT NULL, at timestamptz NOT NULL)`,
	JobTable: `CREATE TABLE IF NOT EXISTS kantree_stub_jobs (
	id bigserial PRIMARY KEY, queue text NOT NULL, payload text NOT NULL,
	instance_id text NOT NULL, done_at timestamptz NOT NULL)`,
	UpgradeRunTable: `CREATE TABLE IF NOT EXISTS kantree_stub_upgrade_runs (
	id bigserial PRIMARY KEY, instance_id text NOT NULL, version text NOT NULL,
	fencing_token text NOT NULL, started_at timestamptz NOT NULL,
	finished_at timestamptz, status text NOT NULL)`,
	SchemaTable: `CREATE TABLE IF NOT EXISTS kantree_stub_schema (
	id int PRIMARY KEY CHECK (id = 1), version text NOT NULL, applied_at timestamptz NOT NULL)`,
	NodeInitTable: `CREATE TABLE IF NOT EXISTS kantree_stub_node_inits (
	id bigserial PRIMARY KEY, instance_id text NOT NULL, root text NOT NULL,
	init_id text NOT NULL, run int NOT NULL, at timestamptz NOT NULL)`,
	AdminTable: `CREATE TABLE IF NOT EXISTS kantree_stub_admin_notes (
	id bigserial PRIMARY KEY, note text NOT NULL, secret_key_id text NOT NULL,
	instance_id text NOT NULL, at timestamptz NOT NULL)`,
	ProcessStartTable: `CREATE TABLE IF NOT EXISTS kantree_stub_process_starts (
	id bigserial PRIMARY KEY, instance_id text NOT NULL, process text NOT NULL, root text NOT NULL,
	init_id text NOT NULL, init_runs int NOT NULL, at timestamptz NOT NULL)`,
}

// ddlLock serializes table creation between stand-in processes
// (CREATE TABLE IF NOT EXISTS races otherwise).
const ddlLock = 0x6b616e74

// connect opens a connection to DATABASE_URL and creates the tables.
func (c command) connect(ctx context.Context, tables ...string) (*pgx.Conn, error) {
	if c.cfg.DatabaseURL == "" {
		return nil, errors.New("no database: set DATABASE_URL or database_url")
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, c.cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL %s: %w", redactURL(c.cfg.DatabaseURL), redactErr(err, c.cfg.DatabaseURL))
	}
	if err := ensureTables(cctx, conn, tables...); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// record runs one INSERT into table when the command has a database, best
// effort: a database that does not answer in 5 s gets a warning on stderr,
// and the command goes on.
func (c command) record(ctx context.Context, table, sql string, args ...any) {
	if c.cfg.DatabaseURL == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := c.connect(ctx, table)
	if err == nil {
		_, err = conn.Exec(ctx, sql, args...)
		conn.Close(context.Background())
	}
	if err != nil {
		fmt.Fprintf(c.env.Stderr, "platform: warning: record in %s: %v\n", table, redactErr(err, c.cfg.DatabaseURL))
	}
}

func ensureTables(ctx context.Context, conn *pgx.Conn, tables ...string) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", ddlLock); err != nil {
			return fmt.Errorf("lock for table creation: %w", err)
		}
		for _, t := range tables {
			if _, err := tx.Exec(ctx, ddl[t]); err != nil {
				return fmt.Errorf("create table %s: %w", t, err)
			}
		}
		return nil
	})
}

// redactURL returns u without its password, for messages.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	return p.Redacted()
}

// redactErr removes the password of URL u from err's text.
func redactErr(err error, u string) error {
	p, perr := url.Parse(u)
	if perr != nil || p.User == nil {
		return err
	}
	pw, ok := p.User.Password()
	if !ok || pw == "" {
		return err
	}
	return redactedError{err: err, secret: pw}
}

type redactedError struct {
	err    error
	secret string
}

func (e redactedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.secret, "xxxxx")
}

func (e redactedError) Unwrap() error { return e.err }

// isUndefinedTable reports PostgreSQL error 42P01 (no such table yet).
func isUndefinedTable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42P01"
}
