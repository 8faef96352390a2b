package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/rules"
	"github.com/kantree-nomad/kantree-nomad/runtime/backup"
	"github.com/kantree-nomad/kantree-nomad/runtime/child"
	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
	"github.com/kantree-nomad/kantree-nomad/runtime/pgcheck"
	"github.com/kantree-nomad/kantree-nomad/runtime/retry"
)

// What migrate does with an attempt whose end was never recorded (its
// lease ran out while it was running): Config.Unknown.
const (
	UnknownStop      = rules.UnknownStop      // refuse, with a hint: a person decides (default)
	UnknownRerun     = rules.UnknownRerun     // the upgrade did not complete: run the command again
	UnknownSucceeded = rules.UnknownSucceeded // the upgrade completed: record it and run nothing
)

// Config says what to run and where to record it.
type Config struct {
	DSN       string   // PostgreSQL URL or DSN; never logged unredacted
	Release   string   // the release the command applies
	LockKey   int64    // advisory lock key; DefaultLockKey when zero
	Command   []string // program and arguments, e.g. ./platform upgrade_db
	Env       []string // environment for the command; KANTREE_VERSION is set on top
	Dir       string   // working directory of the command
	Host      string   // recorded in the ledger: which node ran the attempt
	Stdout    io.Writer
	Stderr    io.Writer
	Log       *slog.Logger
	Poll      time.Duration // lock poll interval (default 500ms)
	Check     time.Duration // lease renewal interval (default 1s)
	PingLimit time.Duration // how long one renewal or reconnect may take (default 5s)
	Grace     time.Duration // SIGTERM to SIGKILL when stopping the command (default 10s)
	Wait      time.Duration // how long to wait for PostgreSQL to be usable (default: one attempt)
	Lease     time.Duration // lease length (default 30s); see the package documentation
	RecordFor time.Duration // how long to keep trying to record the end (default 2m)
	Unknown   string        // UnknownStop (default), UnknownRerun or UnknownSucceeded
	// UnknownAttempt, when not 0, is the one attempt Unknown decides
	// about: the one the person checked. A newer unknown attempt (one
	// that ended unrecorded after the decision was written, say in a job
	// Nomad replaced unattended) is refused as if no decision were given.
	UnknownAttempt int
	// Backup, when set, is the backup taken (and verified) before the
	// release's first attempt; DSN and Release are filled in from above.
	// nil: the upgrade runs without a backup.
	Backup *backup.Config
}

// Outcome says what Run did when it returns no error.
type Outcome struct {
	Skipped bool         // the schema was at or after the release; nothing ran
	Entry   Entry        // the successful attempt (an earlier one when Skipped)
	Schema  string       // the release the schema is at when Skipped
	Backup  *BackupEntry // the release's verified backup (nil when Skipped or backups are off)
}

// takeoverMargin is added to a lease before a successor may take over: it
// covers the difference in rate between the holder's clock and the
// server's, and the time the holder's final SIGKILL takes to land.
const takeoverMargin = 2 * time.Second

// fenceMargin is how long before its lease runs out (by its own clock) the
// holder's command must be gone: SIGKILL is sent then, SIGTERM one kill
// grace earlier.
const fenceMargin = time.Second

// Defaults of Config, which migrate's flags show too.
const (
	DefaultPoll      = 500 * time.Millisecond
	DefaultCheck     = time.Second
	DefaultPingLimit = 5 * time.Second
	DefaultGrace     = rules.MigrateKillGrace
	DefaultLease     = 30 * time.Second
	DefaultRecordFor = rules.MigrateRecordFor
)

func (c *Config) defaults() {
	if c.LockKey == 0 {
		c.LockKey = DefaultLockKey
	}
	c.Poll = orDefault(c.Poll, DefaultPoll)
	c.Check = orDefault(c.Check, DefaultCheck)
	c.PingLimit = orDefault(c.PingLimit, DefaultPingLimit)
	c.Grace = orDefault(c.Grace, DefaultGrace)
	c.Lease = orDefault(c.Lease, DefaultLease)
	c.RecordFor = orDefault(c.RecordFor, DefaultRecordFor)
	if c.Unknown == "" {
		c.Unknown = UnknownStop
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Validate applies the defaults to c and refuses settings under which the
// fence cannot work: what Run checks before it connects.
func (c *Config) Validate() error {
	c.defaults()
	return c.check()
}

// check refuses settings under which the fence cannot work.
func (c *Config) check() error {
	switch {
	case c.Release == "" || len(c.Command) == 0:
		return errors.New("migrate: a release and a command are required")
	case c.Unknown != UnknownStop && c.Unknown != UnknownRerun && c.Unknown != UnknownSucceeded:
		return rules.WithHint(fmt.Errorf("migrate: unknown-attempt policy %q", c.Unknown),
			"use -unknown stop, rerun or succeeded")
	case c.UnknownAttempt < 0:
		return rules.WithHint(fmt.Errorf("migrate: unknown attempt %d", c.UnknownAttempt),
			"give -unknown-attempt the attempt number the refusal named, or 0 for any")
	case c.Lease <= c.Grace+fenceMargin+c.Check+c.PingLimit:
		return rules.WithHint(fmt.Errorf("migrate: lease %v is too short for kill grace %v + renewal interval %v + renewal timeout %v + %v",
			c.Lease, c.Grace, c.Check, c.PingLimit, fenceMargin),
			"raise -lease or lower -kill-grace, -check or -ping-timeout")
	}
	if _, err := rules.ParseVersion(c.Release); err != nil {
		return rules.WithHint(fmt.Errorf("migrate: -release: %w", err), "give the Kantree release as major.minor[.patch], e.g. 8.4.1")
	}
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Run applies cfg.Release once: see the package documentation. It returns
// an error (with a Hint when a person can act on it) when the command did
// not succeed, or when ctx ended (SIGTERM) before it did.
func Run(ctx context.Context, cfg Config) (Outcome, error) {
	cfg.defaults()
	if err := cfg.check(); err != nil {
		return Outcome{}, err
	}
	conn, err := connect(ctx, &cfg, cfg.Wait)
	if err != nil {
		return Outcome{}, fmt.Errorf("migrate: %w", err)
	}
	h := &holder{cfg: &cfg, conn: conn}
	defer func() {
		if h.conn != nil {
			h.conn.Close(context.WithoutCancel(ctx))
		}
	}()
	shortenDeadSession(ctx, conn, cfg.Lease, cfg.Log)
	if err := acquire(ctx, conn, cfg.LockKey, cfg.Poll, cfg.Log); err != nil {
		return Outcome{}, fmt.Errorf("migrate: %w", err)
	}
	cfg.Log.Info("holding the migration lock", "lock_key", cfg.LockKey, "release", cfg.Release)
	out, runErr := h.runLocked(ctx)
	if h.conn == conn {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.PingLimit)
		defer cancel()
		if err := release(uctx, conn, cfg.LockKey); err != nil {
			cfg.Log.Warn("unlock failed; closing the connection releases the lock", "error", err)
		}
	}
	return out, runErr
}

// connect opens a connection to a primary that keeps its server session (a
// pooler that shares sessions is refused), retrying with backoff for up to
// wait, so that a job started while PostgreSQL restarts or fails over
// rides it out.
func connect(ctx context.Context, cfg *Config, wait time.Duration) (*pgx.Conn, error) {
	target := diagnosis.RedactDSN(cfg.DSN)
	loop := &retry.Loop{Clock: retry.SystemClock{}, Backoff: retry.DefaultBackoff(5 * time.Second),
		Deadline: time.Now().Add(wait), Attempt: 10 * time.Second, Log: cfg.Log}
	var conn *pgx.Conn
	_, err := loop.Run(ctx, retry.Check{Name: pgcheck.Service, Target: target,
		Try: func(ctx context.Context) (string, error) {
			c, err := connectOnce(ctx, cfg.DSN, target)
			conn = c
			return "primary, server session kept", err
		}})
	return conn, err
}

func connectOnce(ctx context.Context, dsn, target string) (*pgx.Conn, error) {
	c, err := pgcheck.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := pgcheck.CheckPrimary(ctx, c, target); err != nil {
		c.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := pgcheck.CheckSessionPooling(ctx, c, dsn); err != nil {
		c.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return c, nil
}

// commandEnv is env with KANTREE_VERSION set to release and the marker.
func commandEnv(env []string, release, marker string) []string {
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		if !strings.HasPrefix(kv, "KANTREE_VERSION=") && !strings.HasPrefix(kv, MarkerVar+"=") {
			out = append(out, kv)
		}
	}
	return append(out, "KANTREE_VERSION="+release, MarkerVar+"="+marker)
}

// startCommand starts cfg.Command through runtime/child.
func startCommand(cfg *Config, marker string) (*child.Child, error) {
	return child.Start(child.Spec{
		Path: cfg.Command[0], Args: cfg.Command[1:], Dir: cfg.Dir,
		Env:    commandEnv(cfg.Env, cfg.Release, marker),
		Stdout: cfg.Stdout, Stderr: cfg.Stderr,
	})
}
