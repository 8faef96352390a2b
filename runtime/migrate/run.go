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

	"github.com/kantree-nomad/kantree-nomad/runtime/child"
	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
	"github.com/kantree-nomad/kantree-nomad/runtime/pgcheck"
	"github.com/kantree-nomad/kantree-nomad/runtime/retry"
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
	Check     time.Duration // lock connection ping interval (default 1s)
	PingLimit time.Duration // how long one ping may take before the connection counts as lost (default 5s)
	Grace     time.Duration // SIGTERM to SIGKILL when stopping the command (default 10s)
	Wait      time.Duration // how long to wait for PostgreSQL to be usable (default: one attempt)
}

// Outcome says what Run did when it returns no error.
type Outcome struct {
	Skipped bool  // the release had succeeded before; nothing ran
	Entry   Entry // the successful attempt (earlier one when Skipped)
}

func (c *Config) defaults() {
	if c.LockKey == 0 {
		c.LockKey = DefaultLockKey
	}
	c.Poll = orDefault(c.Poll, 500*time.Millisecond)
	c.Check = orDefault(c.Check, time.Second)
	c.PingLimit = orDefault(c.PingLimit, 5*time.Second)
	c.Grace = orDefault(c.Grace, 10*time.Second)
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
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
	if cfg.Release == "" || len(cfg.Command) == 0 {
		return Outcome{}, errors.New("migrate: a release and a command are required")
	}
	conn, err := connect(ctx, &cfg)
	if err != nil {
		return Outcome{}, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := acquire(ctx, conn, cfg.LockKey, cfg.Poll, cfg.Log); err != nil {
		return Outcome{}, fmt.Errorf("migrate: %w", err)
	}
	cfg.Log.Info("holding the migration lock", "lock_key", cfg.LockKey, "release", cfg.Release)
	out, runErr := runLocked(ctx, conn, &cfg)
	if runErr != nil && errors.Is(runErr, errLockLost) {
		return out, runErr
	}
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.PingLimit)
	defer cancel()
	if err := release(uctx, conn, cfg.LockKey); err != nil && runErr == nil {
		// The result is recorded; the lock goes with the connection anyway.
		cfg.Log.Warn("unlock failed; closing the connection releases the lock", "error", err)
	}
	return out, runErr
}

// connect opens the lock connection: to a primary, keeping its server
// session (a pooler that shares sessions is refused). It retries with
// backoff for up to cfg.Wait, so that a job started while PostgreSQL
// restarts or fails over rides it out.
func connect(ctx context.Context, cfg *Config) (*pgx.Conn, error) {
	target := diagnosis.Redact(cfg.DSN)
	loop := &retry.Loop{Clock: retry.SystemClock{}, Backoff: retry.DefaultBackoff(5 * time.Second),
		Deadline: time.Now().Add(cfg.Wait), Attempt: 10 * time.Second, Log: cfg.Log}
	var conn *pgx.Conn
	_, err := loop.Run(ctx, retry.Check{Name: pgcheck.Service, Target: target,
		Try: func(ctx context.Context) (string, error) {
			c, err := pgcheck.Connect(ctx, cfg.DSN)
			if err != nil {
				return "", err
			}
			if err := pgcheck.CheckPrimary(ctx, c, target); err != nil {
				c.Close(context.WithoutCancel(ctx))
				return "", err
			}
			if err := pgcheck.CheckSessionPooling(ctx, c, cfg.DSN); err != nil {
				c.Close(context.WithoutCancel(ctx))
				return "", err
			}
			conn = c
			return "primary, server session kept", nil
		}})
	return conn, err
}

// runLocked does the work that needs the lock: ledger, skip, run, record.
func runLocked(ctx context.Context, conn *pgx.Conn, cfg *Config) (Outcome, error) {
	if err := ensureLedger(ctx, conn); err != nil {
		return Outcome{}, fmt.Errorf("migrate: %w", err)
	}
	if done, err := succeeded(ctx, conn, cfg.Release); err != nil || done != nil {
		if done != nil {
			cfg.Log.Info("release already applied; nothing to do", "release", cfg.Release,
				"attempt", done.Attempt, "host", done.Host, "finished", done.Finished)
			return Outcome{Skipped: true, Entry: *done}, nil
		}
		return Outcome{}, fmt.Errorf("migrate: %w", err)
	}
	n, err := markInterrupted(ctx, conn)
	if err != nil {
		return Outcome{}, fmt.Errorf("migrate: %w", err)
	}
	if n > 0 {
		cfg.Log.Warn("marked attempts left running by a dead holder as interrupted", "count", n)
	}
	entry, err := begin(ctx, conn, cfg.Release, cfg.Host)
	if err != nil {
		return Outcome{}, fmt.Errorf("migrate: %w", err)
	}
	cfg.Log.Info("running the upgrade", "release", cfg.Release, "attempt", entry.Attempt,
		"command", strings.Join(cfg.Command, " "))
	return supervise(ctx, conn, cfg, entry)
}

// commandEnv is env with KANTREE_VERSION set to release.
func commandEnv(env []string, release string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, "KANTREE_VERSION=") {
			out = append(out, kv)
		}
	}
	return append(out, "KANTREE_VERSION="+release)
}

// startCommand starts cfg.Command through runtime/child.
func startCommand(cfg *Config) (*child.Child, error) {
	return child.Start(child.Spec{
		Path: cfg.Command[0], Args: cfg.Command[1:], Dir: cfg.Dir,
		Env:    commandEnv(cfg.Env, cfg.Release),
		Stdout: cfg.Stdout, Stderr: cfg.Stderr,
	})
}
