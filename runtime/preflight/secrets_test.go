package preflight_test

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// hostileCore is in the hostile password; it must never be printed.
const hostileCore = "K7vSECRETq"

// hostilePassword holds what breaks naive redaction: quotes, '@', '%',
// spaces, a backslash and non-ASCII letters.
const hostilePassword = `qu"o'te@%41 sp\ace ünï ` + hostileCore + `@end`

// hostileRole creates a role with hostilePassword owning a new database, and
// returns its URL (password percent-encoded) and key=value DSN (quoted).
func hostileRole(t *testing.T, pg *testbed.Postgres) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pg.SuperURL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	role := fmt.Sprintf("hostile_%d", time.Now().UnixNano())
	var ddl string
	if err := conn.QueryRow(ctx, "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)",
		role, hostilePassword).Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, ddl); err != nil {
		t.Fatal("create the hostile role failed (the error is not printed: it may hold the password)")
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+role+" OWNER "+role); err != nil {
		t.Fatal(err)
	}
	u := url.URL{Scheme: "postgres", User: url.UserPassword(role, hostilePassword),
		Host: fmt.Sprintf("%s:%d", pg.Host, pg.Port), Path: "/" + role, RawQuery: "sslmode=disable"}
	quoted := "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(hostilePassword) + "'"
	kv := fmt.Sprintf("host=%s port=%d user=%s password=%s dbname=%s sslmode=disable", pg.Host, pg.Port, role, quoted, role)
	return u.String(), kv
}

// Issue 10 #10: a password holding quotes, '@', '%', spaces, a backslash
// and unicode is never printed, neither on success nor in the errors, by
// preflight or migrate, in URL and key=value form, nor when written raw
// (unencoded) in a URL.
func TestHostilePasswordIsNeverPrinted(t *testing.T) {
	pg, rd := sharedPostgres(t), sharedRedis(t)
	dbURL, kv := hostileRole(t, pg)
	raw := strings.Replace(dbURL, url.UserPassword("x", hostilePassword).String()[2:], hostilePassword, 1)
	wrongKV := strings.Replace(kv, hostileCore, hostileCore+"x", 1)
	cases := []struct {
		name string
		args []string
		dsn  string
		ok   bool
	}{
		{"preflight url", []string{"preflight", "-timeout", "20s"}, dbURL, true},
		{"preflight key=value", []string{"preflight", "-timeout", "20s"}, kv, true},
		{"migrate url", []string{"migrate", "-release", "1.0.0", "--", "/bin/true"}, dbURL, true},
		{"migrate key=value", []string{"migrate", "-release", "1.0.1", "--", "/bin/true"}, kv, true},
		{"preflight raw url", []string{"preflight", "-timeout", "1500ms", "-attempt-timeout", "1s"}, raw, false},
		{"preflight wrong password", []string{"preflight", "-timeout", "1500ms", "-attempt-timeout", "1s"}, wrongKV, false},
		{"migrate raw url", []string{"migrate", "-release", "1.0.2", "-wait", "1s", "--", "/bin/true"}, raw, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd, out := preflightCmd(t, tc.dsn, rd.URL())
			cmd.Args = append([]string{cmd.Args[0]}, tc.args...)
			err := cmd.Run()
			if _, failed := err.(*exec.ExitError); (err == nil) != tc.ok || (err != nil && !failed) {
				t.Fatalf("%v: %v, want ok=%v:\n%s", tc.args, err, tc.ok, out.String())
			}
			for _, secret := range []string{hostileCore, hostilePassword, `qu\"o'te`, "ünï"} {
				if strings.Contains(out.String(), secret) {
					t.Errorf("output holds %q:\n%s", secret, out.String())
				}
			}
		})
	}
}
