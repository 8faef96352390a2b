package kantreestub_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

func TestMain(m *testing.M) { testbed.Main(m) }

func sharedPostgres(t *testing.T) *testbed.Postgres {
	return testbed.Shared(t, "postgres", testbed.StartPostgres)
}

func sharedRedis(t *testing.T) *testbed.Redis {
	return testbed.Shared(t, "redis", func(tb testing.TB) *testbed.Redis {
		return testbed.StartRedis(tb, testbed.RedisOptions{Password: "redis-pw"})
	})
}

// startPlatform runs `platform args...` as a service with env, ready when
// ready says so.
func startPlatform(t *testing.T, name string, env []string, ready func(context.Context) error, args ...string) *testbed.Process {
	t.Helper()
	return testbed.StartCommand(t, testbed.Command{Name: name, Path: testbed.BuildPlatform(t),
		Args: args, Env: env, Ready: ready})
}

// db connects to url for the test.
func db(t *testing.T, url string) *pgx.Conn { return testbed.Connect(t, url) }

// eventually polls cond every 50 ms for up to d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
