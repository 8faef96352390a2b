package migrate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

func TestMigrateRefusesTransactionPoolingAndWorksInSessionMode(t *testing.T) {
	pg := sharedPostgres(t)
	dbURL := pg.CreateDatabase(t)
	db := dbURL[strings.LastIndex(dbURL, "/")+1 : strings.Index(dbURL, "?")]

	transaction := testbed.StartPgBouncer(t, pg, "transaction").URL(db)
	p := startMigrate(t, transaction, "9.5.0", upgradeEnv(transaction, 0), "-wait", "1s")
	if code := p.wait(t, 30*time.Second); code == 0 || !strings.Contains(p.out.String(), "pool_mode=transaction") ||
		strings.Contains(p.out.String(), pg.Password) {
		t.Fatalf("through transaction pooling: exit %d, want a refusal without the password:\n%s", code, p.out.String())
	}
	if runs, _ := upgradeRuns(t, dbURL, "9.5.0"); runs != 0 || len(readLedger(t, dbURL, "9.5.0")) != 0 {
		t.Fatalf("the refused migrate ran the upgrade (%d runs)", runs)
	}

	session := testbed.StartPgBouncer(t, pg, "session").URL(db)
	procs := []*proc{
		startMigrate(t, session, "9.5.0", upgradeEnv(session, 1)),
		startMigrate(t, session, "9.5.0", upgradeEnv(session, 1)),
	}
	for i, p := range procs {
		if code := p.wait(t, 60*time.Second); code != 0 {
			t.Fatalf("migrate %d through session pooling: exit %d:\n%s", i, code, p.out.String())
		}
	}
	if runs, st := upgradeRuns(t, dbURL, "9.5.0"); runs != 1 || st != "done" {
		t.Fatalf("stand-in recorded %d runs (%s) through session pooling, want 1 (done)", runs, st)
	}
}
