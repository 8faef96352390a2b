package testbed_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

func TestPostgresPasswordRoleOwnsFreshDatabase(t *testing.T) {
	t.Parallel()
	pg := sharedPostgres(t)
	url := pg.CreateDatabase(t)
	c := testbed.Connect(t, url)
	var user, db string
	var super bool
	err := c.QueryRow(context.Background(),
		"SELECT current_user, current_database(), rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&user, &db, &super)
	if err != nil {
		t.Fatal(err)
	}
	if user != pg.User || super || !strings.HasSuffix(url, "/"+db+"?sslmode=disable") {
		t.Fatalf("user %q (super %v) db %q for %s; want %q, not super", user, super, db, pg.URL(db), pg.User)
	}
	if _, err := c.Exec(context.Background(), "CREATE TABLE t (x int)"); err != nil {
		t.Fatalf("the role cannot create a table in its database: %v", err)
	}
	if other := pg.CreateDatabase(t); other == url {
		t.Fatalf("CreateDatabase returned %s twice", url)
	}
}

func TestPostgresRejectsWrongPassword(t *testing.T) {
	t.Parallel()
	pg := sharedPostgres(t)
	bad := strings.Replace(pg.URL("postgres"), ":"+pg.Password+"@", ":wrong@", 1)
	_, err := pgx.Connect(context.Background(), bad)
	if err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Fatalf("connect with a wrong password: %v, want password authentication failed", err)
	}
}

func TestPostgresRestartKeepsDataAndKillPauseWork(t *testing.T) {
	t.Parallel()
	pg := testbed.StartPostgres(t)
	url := pg.CreateDatabase(t)
	ctx := context.Background()
	c := testbed.Connect(t, url)
	if _, err := c.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('yes')"); err != nil {
		t.Fatal(err)
	}
	if err := pg.Pause(); err != nil {
		t.Fatal(err)
	}
	qctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err := c.Exec(qctx, "SELECT 1")
	cancel()
	if err == nil {
		t.Fatal("paused postgres answered a query on an open connection")
	}
	if err := pg.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := pg.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := pgx.Connect(ctx, url); err == nil {
		t.Fatal("killed postgres accepted a connection")
	}
	pg.Restart(t)
	var v string
	if err := testbed.Connect(t, url).QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != "yes" {
		t.Fatalf("after restart: %q, %v; want the row written before", v, err)
	}
}

func TestPostgresStandbyIsInRecoveryAndReplicates(t *testing.T) {
	t.Parallel()
	pg := sharedPostgres(t)
	url := pg.CreateDatabase(t)
	ctx := context.Background()
	if _, err := testbed.Connect(t, url).Exec(ctx, "CREATE TABLE r (v int); INSERT INTO r VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	sb := pg.StartStandby(t)
	db := url[strings.LastIndex(url, "/")+1 : strings.Index(url, "?")]
	c := testbed.Connect(t, sb.URL(db))
	var recovery bool
	if err := c.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&recovery); err != nil || !recovery {
		t.Fatalf("standby pg_is_in_recovery = %v, %v; want true", recovery, err)
	}
	var v int
	if err := c.QueryRow(ctx, "SELECT v FROM r").Scan(&v); err != nil || v != 42 {
		t.Fatalf("standby row = %d, %v; want 42", v, err)
	}
	if _, err := c.Exec(ctx, "INSERT INTO r VALUES (1)"); err == nil {
		t.Fatal("standby accepted a write")
	}
}
