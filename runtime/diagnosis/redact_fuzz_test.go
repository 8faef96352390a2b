package diagnosis_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
	"github.com/kantree-nomad/kantree-nomad/runtime/pgcheck"
	"github.com/kantree-nomad/kantree-nomad/runtime/preflight"
)

// core is the part of every fuzzed password that must never be printed.
const core = "Zq9SECRETz"

// FuzzRedactHostilePasswords builds PostgreSQL and Redis URLs and key=value
// DSNs around a password pre+core+post, gets the errors the real clients
// give for them (pgcheck.Connect, preflight's Redis client, against a
// closed port), and prints target and error the way preflight and migrate
// do: through diagnosis.Output's logger (slog text, which quotes and
// escapes) and its Stderr as the CLI prints errors. The core never appears.
func FuzzRedactHostilePasswords(f *testing.F) {
	for _, s := range [][2]string{
		{`quo"te`, ``}, {`ss@`, ``}, {``, `@127.0.0.1`}, {`a b `, ` c`}, {`back\`, `\slash`},
		{`pct%41`, `%zz`}, {`üñí`, `©ødé`}, {`'`, `'`}, {`'qu'`, `oted`}, {`\ `, `\'`}, {`:`, `/x?y#z`},
		{"\x00\xff", "\t\n"}, {`password=`, `&password=`}, {`=`, ` host=h`}, {`@@`, `@@`},
	} {
		f.Add(s[0], s[1])
	}
	closed := closedPort(f)
	f.Fuzz(func(t *testing.T, pre, post string) {
		pw := pre + core + post
		for _, dsn := range hostileDSNs(pw, closed) {
			if out := printed(dsn); strings.Contains(out, core) {
				t.Fatalf("the password %q leaks from %q:\n%s", pw, dsn, out)
			}
		}
	})
}

// hostileDSNs writes pw into every form a URL or DSN takes.
func hostileDSNs(pw string, port int) []string {
	hp := fmt.Sprintf("127.0.0.1:%d", port)
	enc := url.UserPassword("kq", pw).String()
	kvQuoted := "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw) + "'"
	dsns := []string{
		"postgres://kq:" + pw + "@" + hp + "/db?sslmode=disable",
		"postgres://" + enc + "@" + hp + "/db?sslmode=disable",
		"postgres://" + hp + "/db?sslmode=disable&user=kq&password=" + url.QueryEscape(pw),
		fmt.Sprintf("host=127.0.0.1 port=%d user=kq password=%s dbname=db sslmode=disable", port, kvQuoted),
		"redis://:" + pw + "@" + hp + "/0",
		"redis://" + enc + "@" + hp + "/0",
		"redis-sentinel://" + enc + "@" + hp + "/mymaster?sentinel_password=" + url.QueryEscape(pw),
	}
	// Unquoted, a key=value password cannot hold spaces, quotes or
	// backslashes: such a DSN means something else.
	if !strings.ContainsAny(pw, " \t\n\r\f\v'\\") {
		dsns = append(dsns, fmt.Sprintf("host=127.0.0.1 port=%d user=kq password=%s sslmode=disable", port, pw))
	}
	return dsns
}

// printed returns everything the print paths wrote about dsn.
func printed(dsn string) string {
	var stdout, stderr bytes.Buffer
	o := diagnosis.NewOutput(&stdout, &stderr, diagnosis.Secrets(dsn)...)
	err := clientError(dsn)
	o.Log.Info("not ready", "target", diagnosis.RedactDSN(dsn), "diagnosis", err.Error(), "error", err)
	o.Log.Error(err.Error())
	fmt.Fprintf(o.Stdout, "preflight: ok: postgres %s: found\n", diagnosis.RedactDSN(dsn))
	fmt.Fprintf(o.Stderr, "kantree-nomad: error: %v\n", o.Error(err))
	fmt.Fprintf(o.Stderr, "kantree-nomad: error: %q\n", o.Error(err).Error())
	return stdout.String() + stderr.String()
}

// clientError is the error the real client gives for dsn.
func clientError(dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if strings.HasPrefix(dsn, "redis") {
		c, err := preflight.NewRedisClient(dsn)
		if err != nil {
			return err
		}
		defer c.Close()
		return errors.Join(c.Ping(ctx).Err(), fmt.Errorf("client %v", c))
	}
	conn, err := pgcheck.Connect(ctx, dsn)
	if err == nil {
		conn.Close(ctx)
		return errors.New("connected to a closed port")
	}
	return err
}
