package testbed_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/redis/go-redis/v9"
)

func TestRedisStartsAnswersStops(t *testing.T) {
	t.Parallel()
	r := testbed.StartRedis(t, testbed.RedisOptions{Password: "s3cret", Config: []string{"maxmemory-policy allkeys-lru"}})
	ctx := context.Background()
	c := r.Client()
	defer c.Close()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := c.ConfigGet(ctx, "maxmemory-policy").Result(); err != nil || got["maxmemory-policy"] != "allkeys-lru" {
		t.Fatalf("CONFIG GET maxmemory-policy = %v, %v; want allkeys-lru", got, err)
	}
	if !strings.HasPrefix(r.URL(), "redis://:s3cret@127.0.0.1:") {
		t.Errorf("URL() = %q, want redis://:s3cret@127.0.0.1:port/0", r.URL())
	}
	if err := r.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if r.Running() || r.PID() != 0 {
		t.Fatalf("after Stop: Running=%v PID=%d", r.Running(), r.PID())
	}
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING answered after Stop")
	}
}

func TestRedisWithoutPasswordRefusesNothingAndWithPasswordRefusesAnonymous(t *testing.T) {
	t.Parallel()
	r := testbed.StartRedis(t, testbed.RedisOptions{Password: "pw"})
	anon := *r
	anon.Password = ""
	c := anon.Client()
	defer c.Close()
	err := c.Ping(context.Background()).Err()
	if err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("PING without password: %v, want NOAUTH", err)
	}
}

func TestRedisPauseResumeKillRestart(t *testing.T) {
	t.Parallel()
	r := testbed.StartRedis(t, testbed.RedisOptions{})
	// go-redis bounds its connection handshake by its own timeouts, not ctx.
	c := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1,
		DialTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond})
	defer c.Close()
	if err := r.Pause(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.Ping(context.Background()).Err(); err == nil {
		t.Fatal("paused redis answered PING")
	}
	t.Logf("PING to paused redis failed after %v", time.Since(start).Round(time.Millisecond))
	if err := r.Resume(); err != nil {
		t.Fatal(err)
	}
	c = r.Client() // default timeouts: the machine may be busy
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("PING after Resume: %v", err)
	}
	pid := r.PID()
	if err := r.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(context.Background()).Err(); err == nil {
		t.Fatal("killed redis answered PING")
	}
	r.Restart(t)
	if r.PID() == pid || r.PID() == 0 {
		t.Fatalf("Restart: pid %d, was %d", r.PID(), pid)
	}
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("PING after Restart: %v", err)
	}
}

func TestRedisReplicaIsReadOnly(t *testing.T) {
	t.Parallel()
	primary := testbed.StartRedis(t, testbed.RedisOptions{Password: "pw"})
	host, port, _ := strings.Cut(primary.Addr, ":")
	replica := testbed.StartRedis(t, testbed.RedisOptions{Password: "pw",
		Config: []string{"replicaof " + host + " " + port, "masterauth pw"}})
	ctx := context.Background()
	p, r := primary.Client(), replica.Client()
	defer p.Close()
	defer r.Close()
	if err := p.Set(ctx, "k", "from-primary", 0).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for r.Get(ctx, "k").Val() != "from-primary" {
		if time.Now().After(deadline) {
			t.Fatal("the replica did not receive the key")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := r.Set(ctx, "k", "x", 0).Err(); err == nil || !strings.Contains(err.Error(), "READONLY") {
		t.Errorf("SET on the replica: %v, want READONLY", err)
	}
}
