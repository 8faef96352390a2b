package migrate_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/internal/kantreestub"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// kantreeRoot returns a directory laid out like a Kantree root for the
// stand-in: ./platform is the stand-in. migrate runs `./platform upgrade_db`
// there, as the generated upgrade-db job does.
func kantreeRoot(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(testbed.BuildPlatform(t), filepath.Join(dir, "platform")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// upgradeEnv is the environment of the stand-in's upgrade_db: its database
// and how many seconds it takes.
func upgradeEnv(dbURL string, seconds int) []string {
	return []string{"DATABASE_URL=" + dbURL, "KANTREE_STUB_UPGRADE_SECONDS=" + strconv.Itoa(seconds)}
}

// upgradeRuns returns the upgrade_db runs the stand-in recorded for
// version, and their statuses, oldest first.
func upgradeRuns(t *testing.T, dbURL, version string) (int, string) {
	t.Helper()
	var statuses []string
	withConn(t, dbURL, func(ctx context.Context, conn *pgx.Conn) error {
		runs, err := kantreestub.UpgradeRuns(ctx, conn)
		for _, r := range runs {
			if r.Version == version {
				statuses = append(statuses, r.Status)
			}
		}
		return err
	})
	return len(statuses), strings.Join(statuses, ",")
}

// terminateBackend ends a PostgreSQL session as the same role would.
func terminateBackend(t *testing.T, dbURL string, pid int) {
	t.Helper()
	withConn(t, dbURL, func(ctx context.Context, conn *pgx.Conn) error {
		var ok bool
		if err := conn.QueryRow(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&ok); err != nil || !ok {
			return fmt.Errorf("pg_terminate_backend(%d) = %v, %v", pid, ok, err)
		}
		return nil
	})
}
