package preflight_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// brokenCase is one broken set-up and the diagnosis preflight must print.
type brokenCase struct {
	name     string
	dbURL    string
	redisURL string
	kind     string // the diagnosis kind in the progress lines
	says     string // words of the final error line
	secrets  []string
	args     []string // extra preflight flags
}

func TestPreflightSucceedsAgainstHealthyServices(t *testing.T) {
	pg, rd := sharedPostgres(t), sharedRedis(t)
	r := runPreflight(t, pg.CreateDatabase(t), rd.URL(), "-timeout", "20s")
	if r.code != 0 || !strings.Contains(r.output, "preflight: ok: postgres") ||
		!strings.Contains(r.output, "preflight: ok: redis") || !strings.Contains(r.output, "maxmemory-policy noeviction") {
		t.Fatalf("exit %d, want 0 with two ok lines:\n%s", r.code, r.output)
	}
	assertNoSecrets(t, r.output, pg.Password, redisPassword)
}

func TestPreflightDiagnosesEachBrokenSetUp(t *testing.T) {
	pg, rd := sharedPostgres(t), sharedRedis(t)
	db := pg.CreateDatabase(t)
	closed := fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/x?sslmode=disable", pg.User, pg.Password, testbed.FreePort(t))
	cases := []brokenCase{
		{name: "connection refused", dbURL: closed, redisURL: rd.URL(),
			kind: "connection-refused", says: "connection refused"},
		{name: "name does not resolve", redisURL: rd.URL(),
			dbURL: fmt.Sprintf("postgres://%s:%s@kantree-db.invalid:5432/x", pg.User, pg.Password),
			kind:  "dns", says: `"kantree-db.invalid" does not resolve`},
		{name: "TLS required", dbURL: strings.Replace(db, "sslmode=disable", "sslmode=require", 1), redisURL: rd.URL(),
			kind: "tls-required", says: "does not offer it"},
		{name: "wrong password", dbURL: replacePassword(db, pg.Password, "wrong-pg-pw-1234"), redisURL: rd.URL(),
			kind: "postgres-auth-failed", says: "password authentication failed", secrets: []string{"wrong-pg-pw-1234"}},
		{name: "missing database", dbURL: strings.Replace(db, "/test_", "/nosuch_", 1), redisURL: rd.URL(),
			kind: "postgres-database-missing", says: "database does not exist"},
		{name: "redis wrong password", dbURL: db, redisURL: replacePassword(rd.URL(), redisPassword, "wrong-redis-pw-99"),
			kind: "redis-auth-failed", says: "wrong user or password", secrets: []string{"wrong-redis-pw-99"}},
		{name: "redis no password", dbURL: db, redisURL: "redis://" + rd.Addr + "/0",
			kind: "redis-noauth", says: "requires a password and none was given"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.secrets = append(tc.secrets, pg.Password, redisPassword)
			checkBroken(t, tc)
		})
	}
}

// checkBroken runs preflight with a short timeout and checks its diagnosis.
func checkBroken(t *testing.T, tc brokenCase) {
	t.Helper()
	args := append([]string{"-timeout", "1500ms", "-attempt-timeout", "1s"}, tc.args...)
	r := runPreflight(t, tc.dbURL, tc.redisURL, args...)
	t.Logf("%s: exit %d after %v:\n%s", tc.name, r.code, r.elapsed.Round(10e6), r.output)
	if r.code == 0 {
		t.Fatalf("exit 0, want non-zero")
	}
	if !strings.Contains(r.output, "kind="+tc.kind) {
		t.Errorf("progress lines lack kind=%s", tc.kind)
	}
	final := finalLines(r.output)
	if !strings.Contains(final, tc.says) || !strings.Contains(final, "kantree-nomad: hint: ") {
		t.Errorf("final error lines lack %q and a hint:\n%s", tc.says, final)
	}
	if strings.Count(r.output, `msg="not ready"`) < 1 {
		t.Errorf("no progress line per attempt")
	}
	assertNoSecrets(t, r.output, tc.secrets...)
}

// finalLines returns the "kantree-nomad: error/hint" lines.
func finalLines(output string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(output, "\n") {
		if strings.HasPrefix(line, "kantree-nomad: ") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func TestPreflightDiagnosesStandbyAndAcceptsMultiHost(t *testing.T) {
	pg := testbed.StartPostgres(t)
	sb := pg.StartStandby(t)
	rd := sharedRedis(t)
	checkBroken(t, brokenCase{name: "standby", dbURL: sb.URL("postgres"), redisURL: rd.URL(),
		kind: "postgres-standby", says: "read-only standby", secrets: []string{pg.Password, redisPassword}})

	u, _ := url.Parse(sb.URL("postgres"))
	multi := fmt.Sprintf("postgres://%s@%s:%d,%s:%d/postgres?sslmode=disable&target_session_attrs=read-write",
		u.User.String(), sb.Host, sb.Port, pg.Host, pg.Port)
	r := runPreflight(t, multi, rd.URL(), "-timeout", "20s")
	if r.code != 0 {
		t.Fatalf("multi-host DSN (standby first, primary second): exit %d, want 0:\n%s", r.code, r.output)
	}
	assertNoSecrets(t, r.output, pg.Password, redisPassword)

	onlyStandby := fmt.Sprintf("postgres://%s@%s:%d/postgres?sslmode=disable&target_session_attrs=read-write",
		u.User.String(), sb.Host, sb.Port)
	checkBroken(t, brokenCase{name: "standby via target_session_attrs", dbURL: onlyStandby, redisURL: rd.URL(),
		kind: "postgres-standby", says: "read-only standby", secrets: []string{pg.Password, redisPassword}})
}

func TestPreflightDiagnosesRedisReplicaAndEviction(t *testing.T) {
	pg, master := sharedPostgres(t), sharedRedis(t)
	db := pg.CreateDatabase(t)
	replica := testbed.StartRedis(t, testbed.RedisOptions{Password: redisPassword, Config: []string{
		"replicaof " + strings.Replace(master.Addr, ":", " ", 1), "masterauth " + redisPassword}})
	checkBroken(t, brokenCase{name: "redis replica", dbURL: db, redisURL: replica.URL(),
		kind: "redis-replica", says: "read-only replica", secrets: []string{pg.Password, redisPassword}})

	evicting := testbed.StartRedis(t, testbed.RedisOptions{Password: redisPassword,
		Config: []string{"maxmemory 64mb", "maxmemory-policy allkeys-lru"}})
	checkBroken(t, brokenCase{name: "redis evicting policy", dbURL: db, redisURL: evicting.URL(),
		kind: "redis-evicting-policy", says: "maxmemory-policy is allkeys-lru", secrets: []string{pg.Password, redisPassword}})

	volatile := testbed.StartRedis(t, testbed.RedisOptions{Config: []string{"maxmemory-policy volatile-lru"}})
	r := runPreflight(t, db, volatile.URL(), "-timeout", "20s")
	if r.code != 0 || !strings.Contains(r.output, "maxmemory-policy volatile-lru") {
		t.Fatalf("volatile-lru is accepted and named: exit %d:\n%s", r.code, r.output)
	}
}
