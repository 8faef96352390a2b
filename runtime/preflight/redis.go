package preflight

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
)

const redisService = "redis"

// quietRedisOnce silences go-redis's own log lines (each dial and sentinel
// retry), which would break the one-line-per-attempt output; the diagnosis
// of each attempt says what they would have said. go-redis has only a
// global logger, so it is set once, by the package that owns the checks.
var quietRedisOnce sync.Once

type quietRedisLog struct{}

func (quietRedisLog) Printf(context.Context, string, ...any) {}

func quietRedis() { quietRedisOnce.Do(func() { redis.SetLogger(quietRedisLog{}) }) }

// checkRedis makes one attempt: PING, then require a master whose
// maxmemory-policy does not evict keys without expiry.
func checkRedis(ctx context.Context, rawURL string) (string, error) {
	target := diagnosis.RedactDSN(rawURL)
	client, err := NewRedisClient(rawURL)
	if err != nil {
		return "", err
	}
	defer client.Close()
	if err := client.Ping(ctx).Err(); err != nil {
		return "", classifyRedis(target, err)
	}
	repl, err := client.Info(ctx, "replication").Result()
	if err != nil {
		return "", classifyRedis(target, err)
	}
	if role := infoField(repl, "role"); role != "master" {
		return "", redisReplica(target, role, infoField(repl, "master_host")+":"+infoField(repl, "master_port"))
	}
	mem, err := client.Info(ctx, "memory").Result()
	if err != nil {
		return "", classifyRedis(target, err)
	}
	policy := infoField(mem, "maxmemory_policy")
	if strings.HasPrefix(policy, "allkeys-") {
		return "", redisEviction(target, policy)
	}
	return "master, maxmemory-policy " + policy, nil
}

// infoField returns the value of key in the text of an INFO reply.
func infoField(info, key string) string {
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), key+":"); ok {
			return v
		}
	}
	return ""
}

// classifyRedis turns a go-redis error into a Diagnosis for target.
func classifyRedis(target string, err error) *diagnosis.Diagnosis {
	d := &diagnosis.Diagnosis{Service: redisService, Target: target, Err: err}
	switch {
	case redis.HasErrorPrefix(err, "NOAUTH"):
		d.Kind, d.Summary = diagnosis.RedisNoAuth, "the server requires a password and none was given"
		d.Advice = "put the password in REDIS_URL: redis://:password@host:6379/0 (or user:password with ACLs)"
	case redis.HasErrorPrefix(err, "WRONGPASS"), redis.HasErrorPrefix(err, "invalid password"):
		d.Kind, d.Summary = diagnosis.RedisAuthFailed, "authentication failed: wrong user or password"
		d.Advice = "check the password (and ACL user) in REDIS_URL against the server's requirepass/ACL"
	case redis.HasErrorPrefix(err, "AUTH") && strings.Contains(err.Error(), "without any password configured"):
		d.Kind, d.Summary = diagnosis.RedisAuthFailed, "a password was given but the server has none configured"
		d.Advice = "remove the password from REDIS_URL or set requirepass on the server"
	case redis.HasErrorPrefix(err, "READONLY"):
		return redisReplica(target, "slave", "")
	case redis.HasErrorPrefix(err, "LOADING"):
		d.Kind, d.Summary = diagnosis.RedisLoading, "the server is loading its dataset into memory"
		d.Advice = "wait for it; a large dataset takes a while to load"
	case strings.Contains(err.Error(), "sentinel") || strings.Contains(err.Error(), "no master"):
		d.Kind, d.Summary = diagnosis.RedisMasterNotFound, "the sentinels do not know a master of that name, or none answers"
		d.Advice = "check the sentinel addresses and the master name in the redis-sentinel:// URL"
	default:
		if n := diagnosis.Network(redisService, target, err); n != nil {
			return n
		}
		d.Kind, d.Summary = diagnosis.Other, "the Redis check failed"
		d.Advice = "read the error and the Redis server log"
	}
	return d
}

func redisReplica(target, role, master string) *diagnosis.Diagnosis {
	summary := "the server is a read-only replica (role " + role + "), but Kantree needs the master"
	if master != ":" && master != "" {
		summary += "; its master is " + master
	}
	return &diagnosis.Diagnosis{Kind: diagnosis.RedisReplica, Service: redisService, Target: target,
		Summary: summary,
		Advice:  "point REDIS_URL at the master, or use a redis-sentinel:// URL so the current master is found"}
}

func redisEviction(target, policy string) *diagnosis.Diagnosis {
	return &diagnosis.Diagnosis{Kind: diagnosis.RedisEviction, Service: redisService, Target: target,
		Summary: fmt.Sprintf("maxmemory-policy is %s: under memory pressure Redis may evict any key, including Kantree's job queues", policy),
		Advice:  "set maxmemory-policy noeviction (or a volatile-* policy) in redis.conf or with CONFIG SET"}
}
