package supervise

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hashicorp/consul/api"
)

// Supervisor holds the lock and runs the command. Make one with New.
type Supervisor struct {
	cfg    Config
	client *api.Client
	log    *slog.Logger
	clock  Clock
}

// New checks cfg (see Config.Validate) and returns a Supervisor.
func New(cfg Config) (*Supervisor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Consul == nil || cfg.Logger == nil || cfg.Clock == nil || len(cfg.Watchdog) == 0 {
		return nil, errors.New("supervise: Consul, Logger, Clock and Watchdog must be set")
	}
	log := cfg.Logger.With("key", cfg.Key)
	return &Supervisor{cfg: cfg, client: cfg.Consul, log: log, clock: cfg.Clock}, nil
}

// outcome is how one hold of the lock ended.
type outcome int

const (
	outShutdown outcome = iota // ctx ended: the supervisor is asked to stop
	outExited                  // the command exited on its own
	outLost                    // Consul said the lock is no longer ours
	outFenced                  // no confirmation before the fence deadline
)

// result is an outcome with the command's exit code.
type result struct {
	out  outcome
	code int
}

// Run waits for the lock, runs the command while holding it and returns
// the exit code the supervisor should exit with: 0 after a shutdown asked
// through ctx, the command's own code when it exits on its own. A lost or
// fenced lock sends the supervisor back to waiting.
func (s *Supervisor) Run(ctx context.Context) (int, error) {
	if err := s.registerService(ctx); err != nil {
		if ctx.Err() != nil {
			return 0, nil
		}
		return 1, err
	}
	// The check stays passing until the lock is released, even after ctx
	// ends, so that the session is not invalidated under a stopping child.
	checkCtx, stopCheck := context.WithCancel(context.WithoutCancel(ctx))
	go s.keepCheckPassing(checkCtx)
	defer func() {
		stopCheck()
		s.deregisterService(context.WithoutCancel(ctx))
	}()
	for {
		id, err := s.createSession(ctx)
		if err != nil {
			return 0, nil // only ctx ends the retries
		}
		res, err := s.cycle(ctx, id)
		s.destroySession(context.WithoutCancel(ctx), id)
		switch {
		case err != nil:
			return 1, err
		case res.out == outShutdown:
			return 0, nil
		case res.out == outExited:
			return res.code, nil
		}
	}
}

// cycle waits for the lock with session id and holds it until the
// command ends or the lock is lost. It releases the key on the way out,
// always after the command has been reaped.
func (s *Supervisor) cycle(ctx context.Context, id string) (result, error) {
	sctx, gone := context.WithCancelCause(ctx)
	defer gone(nil)
	go s.keepSessionAlive(sctx, id, gone)

	f, err := s.startFence()
	if err != nil {
		return result{out: outExited, code: 1}, err
	}
	s.log.Info("waiting", "session", id, "reason", "lock is held elsewhere or not yet tried")
	at, token, err := s.acquire(sctx, id)
	if err != nil {
		f.stop(s.cfg.KillGrace)
		if ctx.Err() != nil {
			return result{out: outShutdown}, nil
		}
		if cause := context.Cause(sctx); cause != nil {
			err = cause
		}
		s.log.Warn("lost", "session", id, "reason", err.Error())
		return result{out: outLost}, nil
	}
	res, err := s.hold(ctx, sctx, f, id, at, token)
	if res.out == outShutdown || res.out == outExited {
		if rerr := s.release(context.WithoutCancel(ctx), id); rerr != nil {
			s.log.Warn("release failed; the lock frees when the session ends", "session", id, "reason", rerr.Error())
		} else {
			s.log.Info("released", "session", id, "reason", releaseReason(res))
		}
	}
	return res, err
}

func releaseReason(res result) string {
	if res.out == outShutdown {
		return "supervisor asked to stop"
	}
	return fmt.Sprintf("command exited with code %d", res.code)
}

// keepSessionAlive renews the session every TTL/3, retrying failures with
// a short backoff, until ctx ends. When Consul says the session is gone
// it cancels the session context with errSessionGone.
func (s *Supervisor) keepSessionAlive(ctx context.Context, id string, gone context.CancelCauseFunc) {
	wait := s.cfg.renewEvery()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		rctx, cancel := context.WithTimeout(ctx, s.cfg.renewEvery())
		err := s.renew(rctx, id)
		cancel()
		switch {
		case errors.Is(err, errSessionGone):
			gone(fmt.Errorf("session %s: %w", id, errSessionGone))
			return
		case err != nil && ctx.Err() == nil:
			if !failing {
				s.log.Warn("renew failed", "session", id, "reason", err.Error())
			}
			failing, wait = true, min(max(wait/2, 100*time.Millisecond), time.Second)
		case err == nil:
			if failing {
				s.log.Info("renewed again", "session", id)
			}
			failing, wait = false, s.cfg.renewEvery()
		}
	}
}
