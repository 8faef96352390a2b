package preflight_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

func TestMain(m *testing.M) { testbed.Main(m) }

const redisPassword = "redis-pw-7f3a9c"

func sharedPostgres(t *testing.T) *testbed.Postgres {
	return testbed.Shared(t, "postgres", testbed.StartPostgres)
}

func sharedRedis(t *testing.T) *testbed.Redis {
	return testbed.Shared(t, "redis", func(tb testing.TB) *testbed.Redis {
		return testbed.StartRedis(tb, testbed.RedisOptions{Password: redisPassword})
	})
}

// result is what one run of `kantree-nomad preflight` did.
type result struct {
	code    int
	output  string // stdout and stderr
	elapsed time.Duration
}

// preflightCmd prepares `kantree-nomad preflight args...` with DATABASE_URL
// and REDIS_URL in its environment (as the generated jobs pass them).
func preflightCmd(t *testing.T, dbURL, redisURL string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	bin := testbed.BuildKantreeNomad(t)
	cmd := exec.Command(bin, append([]string{"preflight"}, args...)...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "REDIS_URL="+redisURL)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

func runPreflight(t *testing.T, dbURL, redisURL string, args ...string) result {
	t.Helper()
	cmd, out := preflightCmd(t, dbURL, redisURL, args...)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return wait(t, cmd, out, start)
}

func wait(t *testing.T, cmd *exec.Cmd, out *bytes.Buffer, start time.Time) result {
	t.Helper()
	err := cmd.Wait()
	r := result{output: out.String(), elapsed: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("preflight: %v", err)
	}
	return r
}

// assertNoSecrets fails when output contains any of the secrets.
func assertNoSecrets(t *testing.T, output string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(output, s) {
			t.Errorf("output contains the secret %q:\n%s", s, output)
		}
	}
}

// replacePassword returns rawURL with its password replaced.
func replacePassword(rawURL, old, repl string) string {
	return strings.Replace(rawURL, ":"+old+"@", ":"+repl+"@", 1)
}
