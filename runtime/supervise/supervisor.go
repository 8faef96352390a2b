package supervise

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/kantree-nomad/kantree-nomad/rules"
	"github.com/kantree-nomad/kantree-nomad/runtime/child"
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
// through ctx, the command's own code when it exits on its own, 1 when
// Consul did not answer within the start timeout. A lost or fenced lock
// sends the supervisor back to waiting.
func (s *Supervisor) Run(ctx context.Context) (int, error) {
	// A subreaper: if the watchdog is killed, the command's tree comes
	// to the supervisor, which kills it (fence.readStatus).
	if err := child.BecomeSubreaper(); err != nil {
		return 1, fmt.Errorf("supervise: %w", err)
	}
	startCtx, cancel := context.WithTimeout(ctx, s.cfg.startTimeout())
	defer cancel()
	if err := s.registerService(startCtx); err != nil {
		return s.startFailed(ctx, err)
	}
	// The check stays passing until the lock is released, even after ctx
	// ends, so that the session is not invalidated under a stopping child.
	checkCtx, stopCheck := context.WithCancel(context.WithoutCancel(ctx))
	go s.keepCheckPassing(checkCtx)
	defer func() {
		stopCheck()
		s.deregisterService(context.WithoutCancel(ctx))
	}()
	id, err := s.createSession(startCtx)
	if err != nil {
		return s.startFailed(ctx, err)
	}
	cancel() // from here on, outages are ridden out
	return s.loop(ctx, id)
}

// loop runs cycles, each with a new session, until one ends the
// supervisor.
func (s *Supervisor) loop(ctx context.Context, id string) (int, error) {
	for {
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
		if id, err = s.createSession(ctx); err != nil {
			return 0, nil // only ctx ends the retries
		}
	}
}

// startFailed is the end of a start that Consul did not answer in time
// (or a shutdown asked meanwhile).
func (s *Supervisor) startFailed(ctx context.Context, err error) (int, error) {
	if ctx.Err() != nil {
		return 0, nil
	}
	return 1, rules.WithHint(
		fmt.Errorf("supervise: no answer from Consul at %s within %s (-start-timeout): %w", s.cfg.ConsulAddr, s.cfg.startTimeout(), err),
		"Check that a Consul agent listens there and that the token may use it. supervise finds Consul as the consul CLI does: "+
			"CONSUL_HTTP_ADDR (host:port, https://host:port or unix:///path/to/socket), CONSUL_HTTP_SSL=true and CONSUL_CACERT "+
			"(or CONSUL_CAPATH, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY, CONSUL_TLS_SERVER_NAME) for TLS, and CONSUL_HTTP_TOKEN or "+
			"CONSUL_HTTP_TOKEN_FILE for the token. Raise -start-timeout if the agent starts slowly.")
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
