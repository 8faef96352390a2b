package preflight_test

import (
	"strings"
	"testing"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

func TestPreflightThroughPgBouncer(t *testing.T) {
	pg, rd := sharedPostgres(t), sharedRedis(t)
	transaction := testbed.StartPgBouncer(t, pg, "transaction")
	checkBroken(t, brokenCase{name: "pgbouncer transaction mode", dbURL: transaction.URL("postgres"), redisURL: rd.URL(),
		kind: "postgres-transaction-pooling", says: "pool_mode=transaction", secrets: []string{pg.Password, redisPassword}})

	session := testbed.StartPgBouncer(t, pg, "session")
	r := runPreflight(t, session.URL("postgres"), rd.URL(), "-timeout", "20s")
	if r.code != 0 || !strings.Contains(r.output, "preflight: ok: postgres") {
		t.Fatalf("PgBouncer in session mode: exit %d, want 0:\n%s", r.code, r.output)
	}
}
