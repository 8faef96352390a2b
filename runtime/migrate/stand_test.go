package migrate_test

// TEMPORARY development stand-in (a shell script using psql) until the
// kantreestub platform lands; replaced by testbed.BuildPlatform.

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const devScript = `#!/bin/sh
set -e
psql -q -X "$DATABASE_URL" -c "CREATE TABLE IF NOT EXISTS dev_runs (id serial, v text, started timestamptz default now(), finished timestamptz)" 2>/dev/null || true
id=$(psql -q -X -t -A "$DATABASE_URL" -c "INSERT INTO dev_runs (v) VALUES ('$KANTREE_VERSION') RETURNING id")
sleep "${KANTREE_STUB_UPGRADE_SECONDS:-1}"
psql -q -X "$DATABASE_URL" -c "UPDATE dev_runs SET finished = now() WHERE id = $id"
`

func upgradeCommand(t *testing.T) []string {
	path := filepath.Join(t.TempDir(), "platform")
	if err := os.WriteFile(path, []byte(devScript), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{path, "upgrade_db"}
}

func upgradeEnv(dbURL string, seconds int) []string {
	return []string{"DATABASE_URL=" + dbURL, "KANTREE_STUB_UPGRADE_SECONDS=" + strconv.Itoa(seconds),
		"PATH=/usr/lib/postgresql/15/bin:" + os.Getenv("PATH")}
}

func upgradeRuns(t *testing.T, dbURL string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM dev_runs").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func terminateBackend(t *testing.T, dbURL string, pid int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, ok, err)
	}
}
