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
	Env          []string // the command's environment, without the lock variables

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

// ConfigError is a configuration the supervisor refuses to run with.
type ConfigError struct {
	Err  error
	hint string
}

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Hint says what to change.
func (e *ConfigError) Hint() string { return e.hint }

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
		return &ConfigError{errors.New("supervise: no lock key"), "Pass -key, for example -key kantree/scheduler."}
	case c.CheckService == "":
		return &ConfigError{errors.New("supervise: no service name for the check"), "Pass -check-service, for example -check-service kantree-scheduler-lock."}
	case len(c.Command) == 0:
		return &ConfigError{errors.New("supervise: no command to run"), "Put the command after --, for example -- ./platform run scheduler."}
	case c.CheckTTL <= 0 || c.CheckTTL >= c.LockDelay:
		return &ConfigError{fmt.Errorf("supervise: check TTL %s must be above 0 and below lock-delay %s", c.CheckTTL, c.LockDelay),
			"Use a check TTL of a few seconds, for example -check-ttl 3s."}
	}
	if err := rules.CheckLockTimings(c.Timings()); err != nil {
		return &ConfigError{fmt.Errorf("supervise: %w", err), err.Hint()}
	}
	return nil
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
