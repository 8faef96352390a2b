package testbed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is a PostgreSQL cluster listening on 127.0.0.1 and on a unix
// socket in its own directory. TCP connections authenticate with
// scram-sha-256; the unix socket trusts the superuser.
type Postgres struct {
	*Process
	Host      string // "127.0.0.1"
	Port      int
	User      string // password role: LOGIN CREATEDB, not a superuser
	Password  string
	SuperUser string // superuser, reachable without password on the socket
	SocketDir string // unix_socket_directories
	DataDir   string
	// Listen are more addresses postgres listens on (besides 127.0.0.1),
	// e.g. a cluster's hub address; see StartPostgresOn.
	Listen []string
	bin    string // directory of initdb, postgres, pg_basebackup
	root   string // directory owned by the service user
	dbSeq  atomic.Int64
}

// pgRole is the password role every testbed PostgreSQL has.
const pgRole = "kantree"

// StartPostgres creates a cluster with initdb (fsync off), starts postgres
// on a free port and creates the password role. It returns when the role
// can connect over TCP.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	return StartPostgresOn(t, "")
}

// StartPostgresOn is StartPostgres that also listens on ip and accepts the
// password role from its /24 (a cluster's nodes); "" is StartPostgres.
func StartPostgresOn(t testing.TB, ip string) *Postgres {
	t.Helper()
	initdb := postgresBinary(t, "initdb")
	pg := &Postgres{
		Host: "127.0.0.1", User: pgRole, Password: randomHex(t, 16),
		SuperUser: "postgres", bin: filepath.Dir(initdb), root: serviceDir(t, "postgres"),
	}
	pg.DataDir = filepath.Join(pg.root, "data")
	pg.SocketDir = filepath.Join(pg.root, "sock")
	if err := runAs(t, pg.root, initdb, "-D", pg.DataDir, "-U", pg.SuperUser, "-A", "trust",
		"--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		t.Fatalf("testbed: initdb: %v", err)
	}
	if err := runAs(t, pg.root, "/bin/mkdir", "-m", "0700", pg.SocketDir); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	if ip != "" {
		pg.Listen = []string{ip}
		hba := "host all " + pgRole + " " + ip + "/24 scram-sha-256\n"
		f, err := os.OpenFile(filepath.Join(pg.DataDir, "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
		if err == nil {
			_, err = f.WriteString(hba)
			f.Close()
		}
		if err != nil {
			t.Fatalf("testbed: pg_hba.conf: %v", err)
		}
	}
	pg.Process = pg.start(t, "postgres", pg.DataDir, pg.superReady)
	pg.createRole(t)
	return pg
}

// start runs postgres on pg's data directory and socket directory, on a
// port it picks (late: initdb takes a while).
func (pg *Postgres) start(t testing.TB, name, dataDir string, ready func(context.Context) error) *Process {
	t.Helper()
	logDir := t.TempDir()
	return startRetrying(t, func() procSpec {
		pg.Port = FreePort(t)
		args := []string{"-D", dataDir, "-p", strconv.Itoa(pg.Port), "-k", pg.SocketDir,
			"-c", "listen_addresses=" + strings.Join(append([]string{"127.0.0.1"}, pg.Listen...), ","), "-c", "fsync=off",
			"-c", "full_page_writes=off", "-c", "max_connections=200", "-c", "shared_buffers=16MB",
			"-c", "logging_collector=off", "-c", "log_min_messages=warning", "-c", "max_wal_senders=5",
			"-c", "wal_level=replica", "-c", "hot_standby=on", "-c", "password_encryption=scram-sha-256"}
		return procSpec{name: name, path: filepath.Join(pg.bin, "postgres"), args: args, dir: pg.root,
			logDir: logDir, asUser: true, stopSig: syscall.SIGINT, ready: ready}
	})
}

func (pg *Postgres) createRole(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, pg.SuperURL("postgres"))
	if err != nil {
		t.Fatalf("testbed: connect to postgres as superuser: %v", err)
	}
	defer c.Close(ctx)
	// The password is random hex, so quoting it is safe.
	q := fmt.Sprintf("CREATE ROLE %s LOGIN CREATEDB PASSWORD '%s'", pg.User, pg.Password)
	if _, err := c.Exec(ctx, q); err != nil {
		t.Fatalf("testbed: create role %s: %v", pg.User, redact(err, pg.Password))
	}
	pg.ready = pg.roleReady
}

// superReady probes the unix socket as the superuser (used before the
// password role exists).
func (pg *Postgres) superReady(ctx context.Context) error {
	return probe(ctx, pg.SuperURL("postgres"))
}

// roleReady probes TCP as the password role.
func (pg *Postgres) roleReady(ctx context.Context) error {
	return probe(ctx, pg.URL("postgres"))
}

func probe(ctx context.Context, dsn string) error {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer c.Close(ctx)
	return c.Ping(ctx)
}

// URL returns the URL of database db for the password role over TCP:
// postgres://kantree:<password>@127.0.0.1:<port>/<db>?sslmode=disable.
func (pg *Postgres) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(pg.User, pg.Password),
		Host: pg.Host + ":" + strconv.Itoa(pg.Port), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// SuperURL returns the URL of database db for the superuser over the unix
// socket (trust authentication).
func (pg *Postgres) SuperURL(db string) string {
	q := url.Values{"host": {pg.SocketDir}, "port": {strconv.Itoa(pg.Port)}, "sslmode": {"disable"}}
	u := url.URL{Scheme: "postgres", User: url.User(pg.SuperUser), Path: "/" + db, RawQuery: q.Encode()}
	return u.String()
}

// CreateDatabase creates a fresh database owned by the password role and
// returns its URL (see URL). Tests sharing one Postgres isolate themselves
// this way.
func (pg *Postgres) CreateDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test_%d_%s", pg.dbSeq.Add(1), randomHex(t, 4))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, pg.SuperURL("postgres"))
	if err != nil {
		t.Fatalf("testbed: create database: connect as superuser: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name+" OWNER "+pg.User); err != nil {
		t.Fatalf("testbed: create database %s: %v", name, err)
	}
	return pg.URL(name)
}

// Connect opens a connection to the database at url for the rest of t.
func Connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("testbed: connect to the database: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// DBNow is PostgreSQL's clock: the one the stand-in stamps its records
// with, to compare them with.
func DBNow(t testing.TB, db *pgx.Conn) time.Time {
	t.Helper()
	var now time.Time
	if err := db.QueryRow(context.Background(), "SELECT clock_timestamp()").Scan(&now); err != nil {
		t.Fatalf("testbed: read PostgreSQL's clock: %v", err)
	}
	return now
}

// StartStandby makes a hot standby of pg with pg_basebackup -R (streaming
// from pg over its unix socket) and starts it on its own port. It returns
// when the password role can connect to it; it is in recovery (read-only).
func (pg *Postgres) StartStandby(t testing.TB) *Postgres {
	t.Helper()
	sb := &Postgres{Host: pg.Host, User: pg.User, Password: pg.Password,
		SuperUser: pg.SuperUser, bin: pg.bin, root: serviceDir(t, "postgres-standby")}
	sb.DataDir = filepath.Join(sb.root, "data")
	sb.SocketDir = filepath.Join(sb.root, "sock")
	if err := runAs(t, sb.root, filepath.Join(pg.bin, "pg_basebackup"), "-D", sb.DataDir, "-R",
		"-X", "stream", "-c", "fast", "--no-sync", "-h", pg.SocketDir, "-p", strconv.Itoa(pg.Port),
		"-U", pg.SuperUser); err != nil {
		t.Fatalf("testbed: standby: %v", err)
	}
	if err := runAs(t, sb.root, "/bin/mkdir", "-m", "0700", sb.SocketDir); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	sb.Process = sb.start(t, "postgres-standby", sb.DataDir, sb.roleReady)
	return sb
}

// postgresBinary finds a PostgreSQL server program, following symbolic
// links so that its siblings (postgres, pg_basebackup) of the same version
// are found next to it.
func postgresBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := filepath.EvalSymlinks(Binary(t, name))
	if err != nil {
		t.Fatalf("testbed: resolve %s: %v", name, err)
	}
	for _, sibling := range []string{"postgres", "pg_basebackup"} {
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), sibling)); err != nil {
			Missing(t, "program "+sibling+" next to "+p)
		}
	}
	return p
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("testbed: random: %v", err)
	}
	return hex.EncodeToString(b)
}
