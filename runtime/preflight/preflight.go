package preflight

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
)

// Config says what to check and how long to wait.
type Config struct {
	PostgresDSN    string        // PostgreSQL URL or DSN (multi-host allowed)
	RedisURL       string        // redis://, rediss:// or redis-sentinel:// URL
	Release        string        // when set, the schema must be at this release
	Timeout        time.Duration // give up after this long (default 2m)
	AttemptTimeout time.Duration // bound of one attempt (default 10s)
	MaxBackoff     time.Duration // cap of the default backoff (default 10s)
	Backoff        Backoff       // default DefaultBackoff with math/rand and MaxBackoff
	Clock          Clock         // default SystemClock
	Log            *slog.Logger  // one line per attempt
}

// Report says what each check found once both passed.
type Report struct {
	Postgres string
	Redis    string
}

// Run checks PostgreSQL and Redis concurrently, each retried until it
// passes or the timeout passes. The error joins the last diagnosis of every
// check that did not pass; each is a *diagnosis.Diagnosis when the cause
// was recognised.
func Run(ctx context.Context, cfg Config) (Report, error) {
	cfg.defaults()
	r := &retrier{clock: cfg.Clock, backoff: cfg.Backoff, attempt: cfg.AttemptTimeout,
		deadline: cfg.Clock.Now().Add(cfg.Timeout), log: cfg.Log}
	checks := []check{
		{name: "postgres", target: redactedOrEmpty(cfg.PostgresDSN),
			try: func(ctx context.Context) (string, error) { return checkPostgres(ctx, cfg.PostgresDSN, cfg.Release) }},
		{name: "redis", target: redactedOrEmpty(cfg.RedisURL),
			try: func(ctx context.Context) (string, error) { return checkRedis(ctx, cfg.RedisURL) }},
	}
	found := make([]string, len(checks))
	errs := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() { found[i], errs[i] = r.run(ctx, c) })
	}
	wg.Wait()
	return Report{Postgres: found[0], Redis: found[1]}, errors.Join(errs...)
}

func (c *Config) defaults() {
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Minute
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = 10 * time.Second
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	if c.Backoff.Rand == nil {
		c.Backoff = DefaultBackoff(randFloat)
		if c.MaxBackoff > 0 {
			c.Backoff.Max = c.MaxBackoff
		}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

func redactedOrEmpty(s string) string {
	if s == "" {
		return "(not set)"
	}
	return diagnosis.Redact(s)
}
