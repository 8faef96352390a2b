package preflight

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
)

// NewRedisClient returns a client for a redis://, rediss://,
// redis-sentinel:// or rediss-sentinel:// URL (see the package
// documentation), set up for checks: no retries inside the client, since
// preflight retries itself. A malformed URL gives a BadURL diagnosis.
func NewRedisClient(rawURL string) (redis.UniversalClient, error) {
	quietRedis()
	target := diagnosis.RedactDSN(rawURL)
	bad := func(why string) error {
		return &diagnosis.Diagnosis{Kind: diagnosis.BadURL, Service: redisService, Target: target,
			Summary: "the Redis URL cannot be used: " + why,
			Advice:  "write it as redis://[:password@]host:6379/0 or redis-sentinel://[:password@]host1:26379,host2:26379/mastername"}
	}
	if strings.TrimSpace(rawURL) == "" {
		return nil, bad("it is empty (set REDIS_URL or pass -redis)")
	}
	if strings.HasPrefix(rawURL, "redis-sentinel://") || strings.HasPrefix(rawURL, "rediss-sentinel://") {
		opts, err := ParseSentinelURL(rawURL)
		if err != nil {
			return nil, bad(diagnosis.Redact(err.Error()))
		}
		opts.MaxRetries, opts.DialerRetries = -1, 1
		return redis.NewFailoverClient(opts), nil
	}
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, bad(diagnosis.Redact(err.Error()))
	}
	opts.MaxRetries, opts.DialerRetries = -1, 1
	return redis.NewClient(opts), nil
}

// ParseSentinelURL parses
// redis-sentinel://[[user]:password@]host1:port1,host2:port2/mastername[/db][?db=N&sentinel_username=U&sentinel_password=P]
// (rediss-sentinel:// for TLS). The default sentinel port is 26379.
func ParseSentinelURL(rawURL string) (*redis.FailoverOptions, error) {
	scheme, rest, _ := strings.Cut(rawURL, "://")
	rest, rawQuery, _ := strings.Cut(rest, "?")
	at := strings.LastIndex(rest, "@")
	userinfo, hostpath := "", rest
	if at >= 0 {
		userinfo, hostpath = rest[:at], rest[at+1:]
	}
	hosts, path, _ := strings.Cut(hostpath, "/")
	o := &redis.FailoverOptions{}
	if err := sentinelCredentials(o, userinfo, rawQuery); err != nil {
		return nil, err
	}
	for h := range strings.SplitSeq(hosts, ",") {
		if h == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, "26379")
		}
		o.SentinelAddrs = append(o.SentinelAddrs, h)
	}
	if len(o.SentinelAddrs) == 0 {
		return nil, fmt.Errorf("no sentinel host in the URL")
	}
	if err := sentinelPath(o, path); err != nil {
		return nil, err
	}
	if scheme == "rediss-sentinel" {
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return o, nil
}

func sentinelCredentials(o *redis.FailoverOptions, userinfo, rawQuery string) error {
	if userinfo != "" {
		user, pass, _ := strings.Cut(userinfo, ":")
		var err error
		if o.Username, err = url.PathUnescape(user); err != nil {
			return fmt.Errorf("user name: %w", err)
		}
		if o.Password, err = url.PathUnescape(pass); err != nil {
			return fmt.Errorf("password is not validly percent-encoded")
		}
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	o.SentinelUsername, o.SentinelPassword = q.Get("sentinel_username"), q.Get("sentinel_password")
	if db := q.Get("db"); db != "" {
		if o.DB, err = strconv.Atoi(db); err != nil {
			return fmt.Errorf("db %q is not a number", db)
		}
	}
	return nil
}

func sentinelPath(o *redis.FailoverOptions, path string) error {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if parts[0] == "" {
		return fmt.Errorf("no master name: add /mastername after the sentinel hosts")
	}
	o.MasterName = parts[0]
	if len(parts) > 2 {
		return fmt.Errorf("path %q has more than /mastername/db", path)
	}
	if len(parts) == 2 {
		db, err := strconv.Atoi(parts[1])
		if err != nil {
			return fmt.Errorf("db %q is not a number", parts[1])
		}
		o.DB = db
	}
	return nil
}
