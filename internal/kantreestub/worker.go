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
// is done. A database outage does not lose a job: the worker retries, and
// requeues the job in hand if it is stopped meanwhile.
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
	w := &worker{c: c, rdb: rdb, conn: conn}
	defer w.close()
	keys := make([]string, len(qs))
	for i, q := range qs {
		keys[i] = QueuePrefix + q
	}
	c.log.Info("worker started", "queues", qs.String())
	return w.work(ctx, keys)
}

// worker holds a worker's connections; conn is nil after a database error
// until it reconnects.
type worker struct {
	c    command
	rdb  *redis.Client
	conn *pgx.Conn
}

func (w *worker) close() {
	if w.conn != nil {
		w.conn.Close(context.Background())
	}
}

func (w *worker) work(ctx context.Context, keys []string) error {
	c, rdb := w.c, w.rdb
	for ctx.Err() == nil {
		// Not ctx: a BLPOP cancelled by the stop may already have taken
		// a job off the list that the worker would then never record.
		// Its own 250ms bound keeps the stop prompt.
		res, err := rdb.BLPop(context.Background(), 250*time.Millisecond, keys...).Result()
		switch {
		case errors.Is(err, redis.Nil):
			continue
		case err != nil:
			c.log.Warn("redis BLPOP failed", "err", err)
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		if err := w.record(ctx, res[0], res[1]); err != nil {
			return err
		}
	}
	c.log.Info("worker stopped")
	return nil
}

// record stores a job taken from list key, retrying through database
// outages. If the worker is stopped before the job is stored, the job goes
// back to the head of its list.
func (w *worker) record(ctx context.Context, key, payload string) error {
	queue := strings.TrimPrefix(key, QueuePrefix)
	for {
		err := w.insert(ctx, queue, payload)
		if err == nil {
			return nil
		}
		w.c.log.Warn("record job failed; retrying", "queue", queue, "err", err)
		if !sleep(ctx, 200*time.Millisecond) {
			if err := w.rdb.LPush(context.Background(), key, payload).Err(); err != nil {
				return fmt.Errorf("run worker: job of queue %s neither recorded nor requeued: %w", queue, err)
			}
			return nil
		}
	}
}

func (w *worker) insert(ctx context.Context, queue, payload string) error {
	if w.conn == nil {
		conn, err := w.c.connect(ctx, JobTable)
		if err != nil {
			return err
		}
		w.conn = conn
	}
	ictx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := w.conn.Exec(ictx, "INSERT INTO kantree_stub_jobs (queue, payload, instance_id, done_at) VALUES ($1, $2, $3, clock_timestamp())",
		queue, payload, w.c.cfg.InstanceID)
	if err != nil {
		w.conn.Close(context.Background())
		w.conn = nil
	}
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
