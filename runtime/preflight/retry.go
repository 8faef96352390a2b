package preflight

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
)

// check is one thing preflight waits for.
type check struct {
	name   string // "postgres" or "redis"
	target string // redacted
	// try makes one attempt; on success it says what it found.
	try func(ctx context.Context) (string, error)
}

// retrier runs checks until they pass or the deadline passes.
type retrier struct {
	clock    Clock
	backoff  Backoff
	deadline time.Time
	attempt  time.Duration // upper bound of one attempt
	log      *slog.Logger
}

// run retries c until it passes or the deadline is reached, logging one
// line per failed attempt. It returns what the check found, or the
// diagnosis so far: the last attempt's error, unless the deadline cut that
// attempt short (a timeout) after an earlier one had said more. A URL that
// cannot be parsed is not retried: it cannot change while preflight runs.
func (r *retrier) run(ctx context.Context, c check) (string, error) {
	var telling error
	for n := 1; ; n++ {
		found, err := r.once(ctx, c)
		if err == nil {
			r.log.Info("ready", "check", c.name, "attempt", n, "target", c.target, "found", found)
			return found, nil
		}
		if kindOf(err) != diagnosis.Timeout || telling == nil {
			telling = err
		}
		remaining := r.deadline.Sub(r.clock.Now())
		if remaining <= 0 || ctx.Err() != nil || kindOf(err) == diagnosis.BadURL {
			err = telling
			r.log.Error("giving up", "check", c.name, "attempt", n, "target", c.target,
				"kind", kindOf(err), "diagnosis", diagnosis.Redact(err.Error()))
			return "", err
		}
		wait := min(r.backoff.Delay(n), remaining)
		r.log.Info("not ready", "check", c.name, "attempt", n, "target", c.target,
			"kind", kindOf(err), "diagnosis", diagnosis.Redact(err.Error()), "retry_in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%s: %w (last: %w)", c.name, context.Cause(ctx), err)
		case <-r.clock.After(wait):
		}
	}
}

// once makes one attempt, bounded by the attempt timeout and the deadline.
func (r *retrier) once(ctx context.Context, c check) (string, error) {
	limit := min(r.attempt, r.deadline.Sub(r.clock.Now()))
	limit = max(limit, 100*time.Millisecond)
	actx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	return c.try(actx)
}

func kindOf(err error) diagnosis.Kind {
	var d *diagnosis.Diagnosis
	if errors.As(err, &d) {
		return d.Kind
	}
	return diagnosis.Other
}
