package kantreestub

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// QueuePrefix is the prefix of the Redis lists a worker takes jobs from:
// a job for queue NAME is pushed to the list QueuePrefix+NAME.
const QueuePrefix = "kantree:queue:"

// queues is a repeatable --queue flag.
type queues []string

func (q *queues) String() string     { return strings.Join(*q, ",") }
func (q *queues) Set(v string) error { *q = append(*q, v); return nil }

// runWorker takes jobs with BLPOP and records each in JobTable, until ctx
// is done; the job in hand is recorded before it stops.
func (c command) runWorker(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run worker", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var qs queues
	fs.Var(&qs, "queue", "queue `NAME` to take jobs from (repeatable; default: default)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("run worker: %w", err)
	}
	if len(qs) == 0 {
		qs = queues{"default"}
	}
	rdb, err := c.redis()
	if err != nil {
		return err
	}
	defer rdb.Close()
	conn, err := c.connect(ctx, JobTable)
	if err != nil {
		return fmt.Errorf("run worker: %w", err)
	}
	defer func() { conn.Close(context.Background()) }()
	keys := make([]string, len(qs))
	for i, q := range qs {
		keys[i] = QueuePrefix + q
	}
	c.log.Info("worker started", "queues", qs.String())
	return c.work(ctx, rdb, conn, keys)
}

func (c command) work(ctx context.Context, rdb *redis.Client, conn *pgx.Conn, keys []string) error {
	for ctx.Err() == nil {
		res, err := rdb.BLPop(ctx, time.Second, keys...).Result()
		switch {
		case errors.Is(err, redis.Nil) || ctx.Err() != nil:
			continue
		case err != nil:
			c.log.Warn("redis BLPOP failed", "err", err)
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		queue := strings.TrimPrefix(res[0], QueuePrefix)
		if err := c.record(conn, queue, res[1]); err != nil {
			return fmt.Errorf("run worker: record job of queue %s: %w", queue, err)
		}
	}
	c.log.Info("worker stopped")
	return nil
}

// record stores a job; it does not use ctx so that a job taken before
// SIGTERM is still recorded.
func (c command) record(conn *pgx.Conn, queue, payload string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := conn.Exec(ctx, "INSERT INTO kantree_stub_jobs (queue, payload, instance_id, done_at) VALUES ($1, $2, $3, clock_timestamp())",
		queue, payload, c.cfg.InstanceID)
	return err
}

// redis returns a client for REDIS_URL.
func (c command) redis() (*redis.Client, error) {
	if c.cfg.RedisURL == "" {
		return nil, errors.New("no redis: set REDIS_URL or redis_url")
	}
	opts, err := redis.ParseURL(c.cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("parse REDIS_URL %s: %w", redactURL(c.cfg.RedisURL), redactErr(err, c.cfg.RedisURL))
	}
	return redis.NewClient(opts), nil
}
