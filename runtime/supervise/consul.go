package supervise

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"
)

// errSessionGone means Consul answered that our session no longer exists.
var errSessionGone = errors.New("session no longer exists")

// registerCheck registers the supervisor's TTL check on the local agent,
// passing from the start.
func (s *Supervisor) registerCheck(ctx context.Context) error {
	reg := s.checkRegistration()
	err := retry(ctx, s.log, "register check "+s.cfg.CheckID, func(ctx context.Context) error {
		return s.client.Agent().CheckRegisterOpts(reg, (&api.QueryOptions{}).WithContext(ctx))
	})
	if err == nil {
		s.removeStaleChecks(ctx, reg.Name)
	}
	return err
}

// removeStaleChecks deregisters the critical checks that earlier
// supervisors of the same key left on this agent when they were killed
// (node checks are never removed by Consul itself). A critical check has
// already ended the session bound to it, so removing it changes nothing
// for a supervisor that might still run: it registers its check again.
func (s *Supervisor) removeStaleChecks(ctx context.Context, name string) {
	checks, err := s.client.Agent().ChecksWithFilterOpts("", (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return
	}
	for id, c := range checks {
		if c.Name == name && id != s.cfg.CheckID && c.Status == api.HealthCritical {
			if s.client.Agent().CheckDeregisterOpts(id, (&api.QueryOptions{}).WithContext(ctx)) == nil {
				s.log.Info("removed stale check", "check", id)
			}
		}
	}
}

// checkRegistration is the supervisor's TTL check on the local agent.
func (s *Supervisor) checkRegistration() *api.AgentCheckRegistration {
	return &api.AgentCheckRegistration{
		ID:   s.cfg.CheckID,
		Name: "kantree-nomad supervise " + s.cfg.Key,
		Notes: "Kept passing by the lock supervisor; the lock session is bound to it, " +
			"so the session ends soon after the supervisor does.",
		AgentServiceCheck: api.AgentServiceCheck{TTL: s.cfg.CheckTTL.String(), Status: api.HealthPassing},
	}
}

// keepCheckPassing updates the TTL check until ctx ends. Failures are
// logged once per run of failures and retried on the next tick.
func (s *Supervisor) keepCheckPassing(ctx context.Context) {
	t := time.NewTicker(s.cfg.checkEvery())
	defer t.Stop()
	failing := false
	for {
		rctx, cancel := context.WithTimeout(ctx, s.cfg.checkEvery())
		err := s.client.Agent().UpdateTTLOpts(s.cfg.CheckID, "supervisor alive", api.HealthPassing, (&api.QueryOptions{}).WithContext(rctx))
		cancel()
		if err != nil && ctx.Err() == nil {
			if !failing {
				s.log.Warn("check update failed", "check", s.cfg.CheckID, "reason", err.Error())
			}
			s.reregisterCheck(ctx)
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reregisterCheck registers the check again after an update failed: an
// agent that lost its state (wiped data directory, node reaped and
// rejoined) no longer knows it, and the session needs it to exist.
func (s *Supervisor) reregisterCheck(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.checkEvery())
	defer cancel()
	_ = s.client.Agent().CheckRegisterOpts(s.checkRegistration(), (&api.QueryOptions{}).WithContext(rctx))
}

// deregisterCheck removes the TTL check, best effort.
func (s *Supervisor) deregisterCheck(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err := retry(ctx, s.log, "deregister check", func(ctx context.Context) error {
		return s.client.Agent().CheckDeregisterOpts(s.cfg.CheckID, (&api.QueryOptions{}).WithContext(ctx))
	})
	if err != nil {
		s.log.Warn("check not deregistered", "check", s.cfg.CheckID, "reason", err.Error())
	}
}

// createSession creates a session bound to serfHealth and our check.
// Behavior "release": when the session is invalidated the key stays and
// only loses its holder, so its LockIndex history and the holder's value
// stay readable; lock-delay applies either way.
func (s *Supervisor) createSession(ctx context.Context) (string, error) {
	entry := &api.SessionEntry{
		Name:      "kantree-nomad supervise " + s.cfg.Key,
		TTL:       s.cfg.TTL.String(),
		LockDelay: s.cfg.LockDelay,
		Behavior:  api.SessionBehaviorRelease,
		Checks:    []string{"serfHealth", s.cfg.CheckID},
	}
	var id string
	err := retry(ctx, s.log, "create session", func(ctx context.Context) error {
		var err error
		id, _, err = s.client.Session().Create(entry, (&api.WriteOptions{}).WithContext(ctx))
		return err
	})
	return id, err
}

// renew renews the session once. errSessionGone means it is invalidated.
func (s *Supervisor) renew(ctx context.Context, id string) error {
	entry, _, err := s.client.Session().Renew(id, (&api.WriteOptions{}).WithContext(ctx))
	switch {
	case err != nil:
		return fmt.Errorf("renew session: %w", err)
	case entry == nil:
		return errSessionGone
	}
	return nil
}

// destroySession destroys the session, best effort with a bounded time:
// if Consul cannot be reached, the session ends by itself.
func (s *Supervisor) destroySession(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := retry(ctx, s.log, "destroy session", func(ctx context.Context) error {
		_, err := s.client.Session().Destroy(id, (&api.WriteOptions{}).WithContext(ctx))
		return err
	})
	if err != nil {
		s.log.Warn("session not destroyed; it ends on its own", "session", id, "reason", err.Error())
	}
}

// release gives the key up (no lock-delay for a release), best effort
// with a bounded time.
func (s *Supervisor) release(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return retry(ctx, s.log, "release "+s.cfg.Key, func(ctx context.Context) error {
		_, _, err := s.client.KV().Release(&api.KVPair{Key: s.cfg.Key, Session: id}, (&api.WriteOptions{}).WithContext(ctx))
		return err
	})
}

// readKey reads the key with a consistent read (the leader checks it is
// still leader with a quorum before answering).
func (s *Supervisor) readKey(ctx context.Context) (*api.KVPair, error) {
	p, _, err := s.client.KV().Get(s.cfg.Key, (&api.QueryOptions{RequireConsistent: true}).WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.cfg.Key, err)
	}
	return p, nil
}

// isInvalidSession tells whether Consul refused a request because the
// session does not exist any more.
func isInvalidSession(err error) bool {
	return err != nil && strings.Contains(err.Error(), "invalid session")
}

// firstRetry is the first wait of retry; it doubles up to a second.
const firstRetry = 50 * time.Millisecond

// retry calls f until it succeeds or ctx ends, with a short capped
// backoff. Every error is retried: there is no fixed count, because a
// leader election or agent restart ends on its own.
func retry(ctx context.Context, log *slog.Logger, op string, f func(context.Context) error) error {
	wait := firstRetry
	for {
		err := f(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		level := slog.LevelDebug
		if wait == firstRetry {
			level = slog.LevelWarn // say once that Consul is not answering
		}
		log.Log(ctx, level, "retrying", "op", op, "reason", err.Error())
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", op, err)
		case <-time.After(wait):
		}
		wait = min(wait*2, time.Second)
	}
}
