package migrate

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// TestDeadSessionSettings: the lock connection's session asks the server
// to end it within deadSession(lease) of a silent peer: the settings took
// on a real PostgreSQL (over TCP, where they apply), and the detection
// (idle + count x interval, and the user timeout) ends before the lease.
func TestDeadSessionSettings(t *testing.T) {
	pg := testbed.Shared(t, "postgres", testbed.StartPostgres)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pg.CreateDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	shortenDeadSession(ctx, conn, DefaultLease, slog.New(slog.DiscardHandler))
	show := func(name string) time.Duration {
		var ms int64
		if err := conn.QueryRow(ctx, "SELECT setting::bigint * CASE unit WHEN 's' THEN 1000 ELSE 1 END FROM pg_settings WHERE name = $1", name).Scan(&ms); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return time.Duration(ms) * time.Millisecond
	}
	idle, interval, user := show("tcp_keepalives_idle"), show("tcp_keepalives_interval"), show("tcp_user_timeout")
	var count int
	if err := conn.QueryRow(ctx, "SELECT setting::int FROM pg_settings WHERE name = 'tcp_keepalives_count'").Scan(&count); err != nil {
		t.Fatal(err)
	}
	probe := idle + time.Duration(count)*interval
	t.Logf("figure: a silent lock holder's session ends after %s idle (keepalive %s + %d x %s) or %s unacknowledged; lease %s",
		probe, idle, count, interval, user, DefaultLease)
	if idle == 0 || probe > deadSession(DefaultLease) || user != deadSession(DefaultLease) || deadSession(DefaultLease)+takeoverMargin >= DefaultLease {
		t.Errorf("keepalive %s + %d x %s, user timeout %s: want all set, within %s, below the lease %s", idle, count, interval, user, deadSession(DefaultLease), DefaultLease)
	}
}
