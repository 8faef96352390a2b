package testbed

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Redis is a redis-server on 127.0.0.1, without persistence.
type Redis struct {
	*Process
	Addr     string // "127.0.0.1:port"
	Password string // "" when none
	Dir      string // working directory, holds redis.conf
}

// RedisOptions configure StartRedis.
type RedisOptions struct {
	Password string   // requirepass; "" for none
	Config   []string // extra redis.conf lines, e.g. "maxmemory-policy allkeys-lru"
}

// StartRedis starts a redis-server on a free port and returns when it
// answers PING.
func StartRedis(t testing.TB, o RedisOptions) *Redis {
	t.Helper()
	bin := Binary(t, "redis-server")
	r := &Redis{Password: o.Password, Dir: t.TempDir()}
	r.Process = startRetrying(t, func() procSpec {
		port := FreePort(t)
		r.Addr = "127.0.0.1:" + strconv.Itoa(port)
		conf := []string{
			"bind 127.0.0.1", "port " + strconv.Itoa(port), "dir " + r.Dir,
			"daemonize no", "save \"\"", "appendonly no", "protected-mode no",
			"loglevel warning", "logfile \"\"", "repl-diskless-sync-delay 0",
		}
		if o.Password != "" {
			conf = append(conf, "requirepass "+strconv.Quote(o.Password))
		}
		conf = append(conf, o.Config...)
		path := writeFile(t, r.Dir, "redis.conf", strings.Join(conf, "\n")+"\n", 0o600)
		return procSpec{name: "redis", path: bin, args: []string{path}, dir: r.Dir, logDir: r.Dir, ready: r.ping}
	})
	return r
}

func (r *Redis) ping(ctx context.Context) error {
	c := r.Client()
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis PING %s: %w", r.Addr, err)
	}
	return nil
}

// URL returns redis://[:password@]127.0.0.1:port/0.
func (r *Redis) URL() string {
	u := url.URL{Scheme: "redis", Host: r.Addr, Path: "/0"}
	if r.Password != "" {
		u.User = url.UserPassword("", r.Password)
	}
	return u.String()
}

// Client returns a go-redis client for database 0 (the caller closes it).
func (r *Redis) Client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: r.Addr, Password: r.Password, MaxRetries: -1})
}
