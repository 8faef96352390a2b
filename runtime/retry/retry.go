package retry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
)

// Check is one thing to wait for.
type Check struct {
	Name   string // e.g. "postgres" or "redis"
	Target string // redacted URL, for the log lines
	// Try makes one attempt; on success it says what it found.
	Try func(ctx context.Context) (string, error)
}

// Loop runs checks until they pass or the deadline passes. It is safe for
// concurrent use when its Clock and Backoff.Rand are.
type Loop struct {
	Clock    Clock
	Backoff  Backoff
	Deadline time.Time
	Attempt  time.Duration // upper bound of one attempt
	Log      *slog.Logger
}

// Run retries c until it passes or the deadline is reached, logging one
// line per failed attempt. It returns what the check found, or the
// diagnosis so far: the last attempt's error, unless the deadline cut that
// attempt short (a timeout) after an earlier one had said more. A URL that
// cannot be parsed is not retried: it cannot change while preflight runs.
func (r *Loop) Run(ctx context.Context, c Check) (string, error) {
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var telling error
	for n := 1; ; n++ {
		found, err := r.once(ctx, c)
		if err == nil {
			log.Info("ready", "check", c.Name, "attempt", n, "target", c.Target, "found", found)
			return found, nil
		}
		if KindOf(err) != diagnosis.Timeout || telling == nil {
			telling = err
		}
		remaining := r.Deadline.Sub(r.Clock.Now())
		if remaining <= 0 || ctx.Err() != nil || KindOf(err) == diagnosis.BadURL {
			err = telling
			log.Error("giving up", "check", c.Name, "attempt", n, "target", c.Target,
				"kind", KindOf(err), "diagnosis", diagnosis.Redact(err.Error()))
			return "", err
		}
		wait := min(r.Backoff.Delay(n), remaining)
		log.Info("not ready", "check", c.Name, "attempt", n, "target", c.Target,
			"kind", KindOf(err), "diagnosis", diagnosis.Redact(err.Error()), "retry_in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%s: %w (last: %w)", c.Name, context.Cause(ctx), err)
		case <-r.Clock.After(wait):
		}
	}
}

// once makes one attempt, bounded by the attempt timeout and the deadline.
func (r *Loop) once(ctx context.Context, c Check) (string, error) {
	limit := min(r.Attempt, r.Deadline.Sub(r.Clock.Now()))
	limit = max(limit, 100*time.Millisecond)
	actx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	return c.Try(actx)
}

// KindOf returns the kind of the diagnosis err is or wraps, or
// diagnosis.Other.
func KindOf(err error) diagnosis.Kind {
	var d *diagnosis.Diagnosis
	if errors.As(err, &d) {
		return d.Kind
	}
	return diagnosis.Other
}
