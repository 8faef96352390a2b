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

// registerService registers the supervisor's service, with its TTL check,
// on the local agent, passing from the start. A service check needs write
// on that one service name only, where a node check needs write on the
// node.
func (s *Supervisor) registerService(ctx context.Context) error {
	reg := s.serviceRegistration()
	err := retry(ctx, s.log, "register service "+s.cfg.CheckService+" with check "+s.cfg.CheckID, func(ctx context.Context) error {
		return s.client.Agent().ServiceRegisterOpts(reg, api.ServiceRegisterOpts{}.WithContext(ctx))
	})
	if err == nil {
		s.removeStaleServices(ctx)
	}
	return err
}

// removeStaleServices deregisters the registrations of our service name
// whose check is critical: earlier supervisors on this agent left them
// when they were killed. A critical check has already ended the session
// bound to it, so removing it changes nothing for a supervisor that might
// still run: it registers its service again.
func (s *Supervisor) removeStaleServices(ctx context.Context) {
	filter := fmt.Sprintf("ServiceName == %q", s.cfg.CheckService)
	checks, err := s.client.Agent().ChecksWithFilterOpts(filter, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return
	}
	for _, c := range checks {
		if c.ServiceID != "" && c.ServiceID != s.cfg.CheckID && c.Status == api.HealthCritical {
			if s.client.Agent().ServiceDeregisterOpts(c.ServiceID, (&api.QueryOptions{}).WithContext(ctx)) == nil {
				s.log.Info("removed stale service", "service", c.ServiceID, "check", c.CheckID)
			}
		}
	}
}

// staleServiceReap is how long the agent keeps a supervisor's service
// whose check is critical.
const staleServiceReap = time.Minute

// serviceRegistration is the supervisor's service on the local agent:
// no address or port, only the TTL check the session is bound to. The
// service and the check both take the ID CheckID.
func (s *Supervisor) serviceRegistration() *api.AgentServiceRegistration {
	return &api.AgentServiceRegistration{
		ID:   s.cfg.CheckID,
		Name: s.cfg.CheckService,
		Meta: map[string]string{"lock_key": s.cfg.Key},
		Check: &api.AgentServiceCheck{
			CheckID: s.cfg.CheckID,
			Name:    "kantree-nomad supervise " + s.cfg.Key,
			Notes: "Kept passing by the lock supervisor; the lock session is bound to it, " +
				"so the session ends soon after the supervisor does.",
			TTL:    s.cfg.CheckTTL.String(),
			Status: api.HealthPassing,
			// A killed supervisor's service would stay critical on the
			// agent until the next supervisor there removes it; the agent
			// reaps it after a minute instead (Consul's minimum). Its
			// session ended when the check went critical.
			DeregisterCriticalServiceAfter: staleServiceReap.String(),
		},
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
			s.reregisterService(ctx)
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reregisterService registers the service and its check again after an
// update failed: an agent that lost its state (wiped data directory, node
// reaped and rejoined) no longer knows them, and the session needs the
// check to exist.
func (s *Supervisor) reregisterService(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.checkEvery())
	defer cancel()
	_ = s.client.Agent().ServiceRegisterOpts(s.serviceRegistration(), api.ServiceRegisterOpts{}.WithContext(rctx))
}

// deregisterService removes the service and its TTL check, best effort.
func (s *Supervisor) deregisterService(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err := retry(ctx, s.log, "deregister service", func(ctx context.Context) error {
		return s.client.Agent().ServiceDeregisterOpts(s.cfg.CheckID, (&api.QueryOptions{}).WithContext(ctx))
	})
	if err != nil {
		s.log.Warn("service not deregistered", "service", s.cfg.CheckID, "reason", err.Error())
	}
}

// createSession creates a session bound to the node's serfHealth and to
// our service's check.
// Behavior "release": when the session is invalidated the key stays and
// only loses its holder, so its LockIndex history and the holder's value
// stay readable; lock-delay applies either way.
func (s *Supervisor) createSession(ctx context.Context) (string, error) {
	entry := &api.SessionEntry{
		Name:          "kantree-nomad supervise " + s.cfg.Key,
		TTL:           s.cfg.TTL.String(),
		LockDelay:     s.cfg.LockDelay,
		Behavior:      api.SessionBehaviorRelease,
		NodeChecks:    []string{"serfHealth"},
		ServiceChecks: []api.ServiceCheck{{ID: s.cfg.CheckID}},
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
