package testbed_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

func TestPgBouncerPoolModes(t *testing.T) {
	t.Parallel()
	pg := sharedPostgres(t)
	url := pg.CreateDatabase(t)
	db := url[len("postgres://"):]
	db = db[lastSlash(db)+1 : len(db)-len("?sslmode=disable")]
	for _, mode := range []string{"session", "transaction"} {
		t.Run(mode, func(t *testing.T) {
			b := testbed.StartPgBouncer(t, pg, mode)
			var one int
			if err := testbed.Connect(t, b.URL(db)).QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil {
				t.Fatalf("query through pgbouncer: %v", err)
			}
			cfg, err := pgx.ParseConfig(b.URL("pgbouncer"))
			if err != nil {
				t.Fatal(err)
			}
			cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
			admin, err := pgx.ConnectConfig(context.Background(), cfg)
			if err != nil {
				t.Fatalf("pgbouncer console: %v", err)
			}
			defer admin.Close(context.Background())
			if got := poolMode(t, admin, db); got != mode {
				t.Errorf("SHOW POOLS: pool_mode %q for %s, want %q", got, db, mode)
			}
			if err := b.Stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

// poolMode reads the pool_mode of database db from SHOW POOLS.
func poolMode(t *testing.T, admin *pgx.Conn, db string) string {
	t.Helper()
	rows, err := admin.Query(context.Background(), "SHOW POOLS")
	if err != nil {
		t.Fatalf("SHOW POOLS: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		row := map[string]any{}
		for i, f := range rows.FieldDescriptions() {
			row[f.Name] = vals[i]
		}
		if row["database"] == db {
			s, _ := row["pool_mode"].(string)
			return s
		}
	}
	t.Fatalf("SHOW POOLS: no pool for %s", db)
	return ""
}
