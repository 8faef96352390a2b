package preflight_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// startSentinel runs redis-server in sentinel mode on a free port,
// monitoring master as "kantree". The test bed has no sentinel helper, so
// the process is started and ended (by its pid) here.
func startSentinel(t *testing.T, master *testbed.Redis) string {
	t.Helper()
	bin := testbed.Binary(t, "redis-server")
	port := testbed.FreePort(t)
	host, mport, _ := strings.Cut(master.Addr, ":")
	conf := fmt.Sprintf("bind 127.0.0.1\nport %d\nprotected-mode no\ndir %s\n"+
		"sentinel monitor kantree %s %s 1\nsentinel auth-pass kantree %s\n",
		port, t.TempDir(), host, mport, master.Password)
	path := filepath.Join(t.TempDir(), "sentinel.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, path, "--sentinel")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitSentinel(t, addr)
	return addr
}

// waitSentinel waits until the sentinel at addr knows the master.
func waitSentinel(t *testing.T, addr string) {
	t.Helper()
	c := redis.NewSentinelClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := c.GetMasterAddrByName(ctx, "kantree").Result()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sentinel %s: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestPreflightFollowsRedisSentinel(t *testing.T) {
	pg, master := sharedPostgres(t), sharedRedis(t)
	sentinel := startSentinel(t, master)
	closed := fmt.Sprintf("127.0.0.1:%d", testbed.FreePort(t))
	sentinelURL := fmt.Sprintf("redis-sentinel://:%s@%s,%s/kantree/0", redisPassword, closed, sentinel)
	r := runPreflight(t, pg.CreateDatabase(t), sentinelURL, "-timeout", "20s")
	if r.code != 0 || !strings.Contains(r.output, "preflight: ok: redis redis-sentinel://:xxxxx@") {
		t.Fatalf("exit %d, want 0 through the sentinel (one sentinel address is down):\n%s", r.code, r.output)
	}
	assertNoSecrets(t, r.output, pg.Password, redisPassword)

	checkBroken(t, brokenCase{name: "unknown master name", dbURL: pg.CreateDatabase(t),
		redisURL: fmt.Sprintf("redis-sentinel://:%s@%s/nosuchmaster", redisPassword, sentinel),
		kind:     "redis-sentinel-master-unknown", says: "do not know a master of that name",
		secrets: []string{pg.Password, redisPassword}})
}
