package preflight

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kantree-nomad/kantree-nomad/rules"
	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
	"github.com/kantree-nomad/kantree-nomad/runtime/retry"
)

// Config says what to check and how long to wait.
type Config struct {
	PostgresDSN    string        // PostgreSQL URL or DSN (multi-host allowed)
	RedisURL       string        // redis://, rediss:// or redis-sentinel:// URL
	Release        string        // when set, the schema must be at this release
	Timeout        time.Duration // give up after this long (default rules.PreflightTimeout)
	AttemptTimeout time.Duration // bound of one attempt (default rules.PreflightAttemptTimeout)
	MaxBackoff     time.Duration // cap of the default backoff (default rules.PreflightMaxBackoff)
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
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
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

// Validate refuses a configuration preflight cannot run with: a -release
// that is not a release (rules.ParseVersion, the grammar validate uses).
func (c *Config) Validate() error {
	if c.Release == "" {
		return nil
	}
	if _, err := rules.ParseVersion(c.Release); err != nil {
		return rules.WithHint(fmt.Errorf("preflight: -release: %w", err), "give the Kantree release as major.minor[.patch], e.g. 8.4.1")
	}
	return nil
}

func (c *Config) defaults() {
	if c.Timeout <= 0 {
		c.Timeout = rules.PreflightTimeout
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = rules.PreflightAttemptTimeout
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
