package pgcheck

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
)

// Service is the name diagnoses give PostgreSQL.
const Service = "postgres"

// Connect opens one connection to dsn (a postgres:// URL or a key=value
// DSN, multi-host forms included). Queries use the simple protocol, so the
// connection also works through poolers that do not keep prepared
// statements. On failure the error is a *diagnosis.Diagnosis.
func Connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	target := diagnosis.RedactDSN(dsn)
	if strings.TrimSpace(dsn) == "" {
		return nil, &diagnosis.Diagnosis{Kind: diagnosis.BadURL, Service: Service, Target: "(empty)",
			Summary: "no PostgreSQL URL given",
			Advice:  "set DATABASE_URL in the task's environment or pass -postgres"}
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, &diagnosis.Diagnosis{Kind: diagnosis.BadURL, Service: Service, Target: target,
			Summary: "the PostgreSQL URL cannot be parsed",
			Advice:  "write it as postgres://user:password@host:5432/database?sslmode=... (percent-encode special characters in the password)"}
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, Classify(target, err)
	}
	return conn, nil
}

// Classify turns a PostgreSQL error into a Diagnosis for target (redacted).
func Classify(target string, err error) *diagnosis.Diagnosis {
	d := &diagnosis.Diagnosis{Service: Service, Target: target, Err: err}
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr):
		d.Kind, d.Summary, d.Advice = classifySQLState(pgErr)
	case errors.Is(err, pgconn.ErrReadOnlyConnection):
		d.Kind, d.Summary, d.Advice = standby()
	case strings.Contains(err.Error(), "server refused TLS connection"):
		d.Kind = diagnosis.TLSRequired
		d.Summary = "this client requires TLS (sslmode=require or stricter) but the server does not offer it"
		d.Advice = "enable ssl on the server, or use sslmode=prefer/disable if the network is trusted"
	default:
		if n := diagnosis.Network(Service, target, err); n != nil {
			return n
		}
		d.Kind, d.Summary = diagnosis.Other, "the connection failed"
		d.Advice = "read the error above and the PostgreSQL server log"
	}
	return d
}

func classifySQLState(e *pgconn.PgError) (diagnosis.Kind, string, string) {
	switch e.Code {
	case "28P01":
		return diagnosis.PGAuthFailed, "password authentication failed for user " + quote(e.Message),
			"check the user and password in DATABASE_URL (the Vault/Nomad variable the job renders)"
	case "28000":
		if strings.Contains(e.Message, "no encryption") {
			return diagnosis.TLSRequired, "the server accepts this client only over TLS (pg_hba.conf hostssl)",
				"use sslmode=require (or verify-full with sslrootcert) in DATABASE_URL"
		}
		return diagnosis.PGAuthFailed, "the server rejects this user or host (pg_hba.conf)",
			"add a pg_hba.conf entry for this user, database and client address, or use the right user"
	case "3D000":
		return diagnosis.PGDatabaseMissing, "the database does not exist",
			"create it (createdb -O <user> <name>) or fix the database name in DATABASE_URL"
	case "57P03":
		return diagnosis.PGStarting, "the server is starting up or shutting down",
			"wait for it; if this lasts, check the PostgreSQL server log"
	case "53300":
		return diagnosis.PGTooManyConnections, "the server has no connection slots left",
			"raise max_connections or put a session-mode pooler in front; check for leaked connections"
	case "25006":
		return standby()
	}
	return diagnosis.Other, "the server refused: " + e.Message + " (SQLSTATE " + e.Code + ")",
		"look the SQLSTATE up in the PostgreSQL manual and check the server log"
}

func standby() (diagnosis.Kind, string, string) {
	return diagnosis.PGStandby, "the server is a read-only standby (in recovery), but a primary is needed",
		"point DATABASE_URL at the primary, or list all hosts with target_session_attrs=read-write"
}

func quote(msg string) string {
	// The server says: password authentication failed for user "name".
	if i := strings.Index(msg, "\""); i >= 0 {
		return msg[i:]
	}
	return "(unknown)"
}
