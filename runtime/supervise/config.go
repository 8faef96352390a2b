package supervise

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// Config is everything Run needs. Logger, Clock and Consul must be set.
type Config struct {
	Key       string        // KV key used as the lock
	TTL       time.Duration // session TTL
	LockDelay time.Duration // session lock-delay
	KillGrace time.Duration // SIGTERM to SIGKILL grace for the command
	CheckTTL  time.Duration // TTL of the check the session is bound to
	// CheckID is the ID of that check, and of the service that carries it,
	// on the local agent: unique per supervisor.
	CheckID string
	// CheckService is the name of that service; the Consul token needs
	// write on it.
	CheckService string
	Command      []string // program and arguments
	// Env is the command's environment. The lock variables and Consul
	// credentials (consulCredentials) are removed from it.
	Env []string
	// StartTimeout bounds the start: registering the check with the local
	// agent and creating the first session. Past it Run fails, so that
	// the task fails where an operator sees it; 0 means
	// DefaultStartTimeout. Later outages are ridden out without bound.
	StartTimeout time.Duration
	// ConsulAddr is where Consul is reached, as the client was configured
	// (for example CONSUL_HTTP_ADDR); only used in messages.
	ConsulAddr string

	// Watchdog is the argv that starts the fence watchdog (this binary in
	// watchdog mode); the command is appended after "--".
	Watchdog []string
	Stdout   io.Writer
	Stderr   io.Writer

	Consul *api.Client
	Logger *slog.Logger
	Clock  Clock
}

// Environment variables given to the command.
const (
	EnvLockHeld     = "KANTREE_LOCK_HELD"
	EnvFencingToken = "KANTREE_FENCING_TOKEN"
)

// DefaultStartTimeout is how long supervise waits for Consul at start
// before it fails. A local agent answers within seconds of its own start,
// and a first session needs a leader, which an election gives within
// about ten; half a minute rides out both, plus an agent that starts a
// little after the task on a booting node, and still shows an operator a
// failed task (and Nomad restarts it) within the first minute.
const DefaultStartTimeout = rules.DefaultStartTimeout

// ConfigError is a configuration the supervisor refuses to run with. Err
// carries a hint (rules.Hint) that says what to change.
type ConfigError struct {
	Err error
}

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

func configError(err error, hint string) error {
	return &ConfigError{Err: rules.WithHint(err, hint)}
}

// keyHint explains the normal form of a lock key.
const keyHint = "Write the key in its one normal form, the one render puts in the ACL policy: segments of letters, " +
	"digits, '_', '-' and '.' joined by single '/', for example -key kantree/<job>/scheduler. Consul would store " +
	"or redirect any other spelling under a name the policy does not grant."

// Timings returns the lock timings of c for rules.CheckLockTimings. The
// Nomad kill_timeout is unknown at run time.
func (c *Config) Timings() rules.LockTimings {
	return rules.LockTimings{TTL: c.TTL, LockDelay: c.LockDelay, KillGrace: c.KillGrace}
}

// Validate checks c, including the lock-timing safety rule shared with
// render.
func (c *Config) Validate() error {
	switch {
	case c.Key == "":
		return configError(errors.New("supervise: no lock key"), "Pass -key, for example -key kantree/scheduler.")
	case c.CheckService == "":
		return configError(errors.New("supervise: no service name for the check"), "Pass -check-service, for example -check-service kantree-scheduler-lock.")
	case len(c.Command) == 0:
		return configError(errors.New("supervise: no command to run"), "Put the command after --, for example -- ./platform run scheduler.")
	case c.CheckTTL <= 0 || c.CheckTTL >= c.LockDelay:
		return configError(fmt.Errorf("supervise: check TTL %s must be above 0 and below lock-delay %s", c.CheckTTL, c.LockDelay),
			"Use a check TTL of a few seconds, for example -check-ttl 3s.")
	case c.StartTimeout < 0:
		return configError(fmt.Errorf("supervise: start timeout %s is negative", c.StartTimeout), "Pass -start-timeout 30s, or leave it out.")
	}
	if err := rules.CheckLockKey(c.Key); err != nil {
		return configError(fmt.Errorf("supervise: -key: %w", err), keyHint)
	}
	if err := rules.CheckLockTimings(c.Timings()); err != nil {
		return configError(fmt.Errorf("supervise: %w", err), err.Hint())
	}
	return nil
}

// startTimeout is StartTimeout or its default.
func (c *Config) startTimeout() time.Duration {
	if c.StartTimeout == 0 {
		return DefaultStartTimeout
	}
	return c.StartTimeout
}

// fenceAfter is how long the command may run without a confirmation.
func (c *Config) fenceAfter() time.Duration { return c.Timings().FenceAfter() }

// confirmEvery is the period of the consistent reads that confirm the hold:
// eight tries per fence deadline, so a few lost requests never fence.
func (c *Config) confirmEvery() time.Duration {
	return min(max(c.fenceAfter()/8, 50*time.Millisecond), time.Second)
}

// renewEvery is the period of session renewals: three per TTL.
func (c *Config) renewEvery() time.Duration { return c.TTL / 3 }

// checkEvery is the period of the TTL check updates: three per check TTL.
func (c *Config) checkEvery() time.Duration { return c.CheckTTL / 3 }
