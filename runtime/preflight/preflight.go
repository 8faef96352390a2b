package preflight

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
	"github.com/kantree-nomad/kantree-nomad/runtime/retry"
)

// Config says what to check and how long to wait.
type Config struct {
	PostgresDSN    string        // PostgreSQL URL or DSN (multi-host allowed)
	RedisURL       string        // redis://, rediss:// or redis-sentinel:// URL
	Release        string        // when set, the schema must be at this release
	Timeout        time.Duration // give up after this long (default 2m)
	AttemptTimeout time.Duration // bound of one attempt (default 10s)
	MaxBackoff     time.Duration // cap of the default backoff (default 10s)
	Backoff        retry.Backoff // default retry.DefaultBackoff(MaxBackoff)
	Clock          retry.Clock   // default retry.SystemClock
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
	loop := &retry.Loop{Clock: cfg.Clock, Backoff: cfg.Backoff, Attempt: cfg.AttemptTimeout,
		Deadline: cfg.Clock.Now().Add(cfg.Timeout), Log: cfg.Log}
	checks := []retry.Check{
		{Name: "postgres", Target: redactedOrEmpty(cfg.PostgresDSN),
			Try: func(ctx context.Context) (string, error) { return checkPostgres(ctx, cfg.PostgresDSN, cfg.Release) }},
		{Name: "redis", Target: redactedOrEmpty(cfg.RedisURL),
			Try: func(ctx context.Context) (string, error) { return checkRedis(ctx, cfg.RedisURL) }},
	}
	found := make([]string, len(checks))
	errs := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() { found[i], errs[i] = loop.Run(ctx, c) })
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
		c.Clock = retry.SystemClock{}
	}
	if c.Backoff.Rand == nil {
		c.Backoff = retry.DefaultBackoff(c.MaxBackoff)
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

func redactedOrEmpty(s string) string {
	if s == "" {
		return "(not set)"
	}
	return diagnosis.RedactDSN(s)
}
