package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kantree-nomad/kantree-nomad/runtime/child"
)

// errLockLost is wrapped by the error Run returns when the lock connection
// was lost while the command ran.
var errLockLost = errors.New("the lock connection was lost")

// supervise runs the command of entry and waits for the first of: the
// command exits, ctx ends (SIGTERM/SIGINT), the lock connection stops
// answering. It records the end in the ledger (except when the connection
// is lost: the next holder marks the row interrupted).
func supervise(ctx context.Context, conn *pgx.Conn, cfg *Config, entry Entry) (Outcome, error) {
	c, err := startCommand(cfg)
	if err != nil {
		code := 127
		rerr := record(ctx, conn, cfg, entry.ID, StatusFailed, &code, err.Error())
		return Outcome{}, errors.Join(&hintError{err: fmt.Errorf("migrate: %w", err),
			hint: "check the command after -- and the working directory"}, rerr)
	}
	tick := time.NewTicker(cfg.Check)
	defer tick.Stop()
	for {
		select {
		case <-c.Done():
			return finished(ctx, conn, cfg, entry, c.ExitCode())
		case <-ctx.Done():
			return stopped(ctx, conn, cfg, entry, c)
		case <-tick.C:
			if err := ping(ctx, conn, cfg.PingLimit); err != nil && ctx.Err() == nil {
				return lockLost(cfg, entry, c, err)
			}
		}
	}
}

func ping(ctx context.Context, conn *pgx.Conn, limit time.Duration) error {
	pctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	return conn.Ping(pctx)
}

func finished(ctx context.Context, conn *pgx.Conn, cfg *Config, entry Entry, code int) (Outcome, error) {
	status, detail := StatusSucceeded, ""
	if code != 0 {
		status, detail = StatusFailed, fmt.Sprintf("the command exited with code %d", code)
	}
	if err := record(ctx, conn, cfg, entry.ID, status, &code, detail); err != nil {
		return Outcome{}, err
	}
	cfg.Log.Info("upgrade finished", "release", cfg.Release, "attempt", entry.Attempt,
		"status", status, "exit_code", code)
	if code != 0 {
		return Outcome{}, &hintError{
			err: fmt.Errorf("migrate: release %s attempt %d failed: %s; recorded as %s",
				cfg.Release, entry.Attempt, detail, status),
			hint: "read the command's output above, fix the cause, and run the upgrade-db job again (a failed release is retried)",
		}
	}
	entry.Status = status
	return Outcome{Entry: entry}, nil
}

func stopped(ctx context.Context, conn *pgx.Conn, cfg *Config, entry Entry, c *child.Child) (Outcome, error) {
	cfg.Log.Warn("asked to stop; stopping the command", "grace", cfg.Grace)
	stopErr := c.Stop(cfg.Grace)
	code := c.ExitCode()
	rerr := record(ctx, conn, cfg, entry.ID, StatusKilled, &code,
		fmt.Sprintf("migrate was asked to stop (%v); the command was stopped", context.Cause(ctx)))
	err := &hintError{
		err: fmt.Errorf("migrate: release %s attempt %d stopped midway: %w", cfg.Release, entry.Attempt,
			context.Cause(ctx)),
		hint: "run the upgrade-db job again; the ledger records this attempt as killed",
	}
	return Outcome{}, errors.Join(err, stopErr, rerr)
}

func lockLost(cfg *Config, entry Entry, c *child.Child, cause error) (Outcome, error) {
	cfg.Log.Error("lost the lock connection; stopping the command", "error", cause, "grace", cfg.Grace)
	stopErr := c.Stop(cfg.Grace)
	err := &hintError{
		err: fmt.Errorf("migrate: release %s attempt %d: %w (%w); the command was stopped",
			cfg.Release, entry.Attempt, errLockLost, cause),
		hint: "check the network to PostgreSQL and run the upgrade-db job again; the next run marks this attempt interrupted",
	}
	return Outcome{}, errors.Join(err, stopErr)
}

// record writes the end of an attempt even when ctx has ended.
func record(ctx context.Context, conn *pgx.Conn, cfg *Config, id int64, status string, code *int, detail string) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.PingLimit)
	defer cancel()
	if err := finish(rctx, conn, id, status, code, detail); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
