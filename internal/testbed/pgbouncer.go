package testbed

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"syscall"
	"testing"
)

// PgBouncer is a PgBouncer in front of a testbed PostgreSQL, listening on
// 127.0.0.1. It knows the password role (scram-sha-256) and forwards every
// database name to the PostgreSQL of the same name.
type PgBouncer struct {
	*Process
	Port     int
	PoolMode string // "session" or "transaction"
	Dir      string // holds pgbouncer.ini and userlist.txt
	pg       *Postgres
}

// StartPgBouncer starts PgBouncer with pool_mode poolMode ("session",
// "transaction" or "statement") in front of pg and returns when the
// password role can connect through it.
func StartPgBouncer(t testing.TB, pg *Postgres, poolMode string) *PgBouncer {
	t.Helper()
	bin := Binary(t, "pgbouncer")
	switch poolMode {
	case "session", "transaction", "statement":
	default:
		t.Fatalf("testbed: pgbouncer pool mode %q: want session, transaction or statement", poolMode)
	}
	b := &PgBouncer{PoolMode: poolMode, Dir: serviceDir(t, "pgbouncer"), pg: pg}
	writeFile(t, b.Dir, "userlist.txt", fmt.Sprintf("%q %q\n", pg.User, pg.Password), 0o600)
	logDir := t.TempDir()
	b.Process = startRetrying(t, func() procSpec {
		b.Port = FreePort(t)
		conf := writeFile(t, b.Dir, "pgbouncer.ini", b.ini(), 0o600)
		return procSpec{name: "pgbouncer", path: bin, args: []string{conf},
			dir: b.Dir, logDir: logDir, asUser: true, stopSig: syscall.SIGTERM, ready: b.ready}
	})
	return b
}

func (b *PgBouncer) ini() string {
	return fmt.Sprintf(`[databases]
* = host=%s port=%d

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir = %s
auth_type = scram-sha-256
auth_file = %s/userlist.txt
pool_mode = %s
max_client_conn = 500
default_pool_size = 20
ignore_startup_parameters = extra_float_digits
stats_users = %s
server_login_retry = 1
logfile =
pidfile =
`, b.pg.Host, b.pg.Port, b.Port, b.Dir, b.Dir, b.PoolMode, b.pg.User)
}

func (b *PgBouncer) ready(ctx context.Context) error {
	return probe(ctx, b.URL("postgres"))
}

// URL returns the URL of database db through PgBouncer for the password
// role: postgres://kantree:<password>@127.0.0.1:<port>/<db>?sslmode=disable.
func (b *PgBouncer) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(b.pg.User, b.pg.Password),
		Host: "127.0.0.1:" + strconv.Itoa(b.Port), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}
