package kantreestub

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// HeartbeatInterval is how often the scheduler writes a heartbeat row.
const HeartbeatInterval = 100 * time.Millisecond

// Heartbeat kinds: the first row of a run, the others, and the last one
// written after SIGTERM.
const (
	BeatStart = "start"
	BeatRun   = "beat"
	BeatStop  = "stop"
)

// runScheduler writes a heartbeat row every HeartbeatInterval until ctx is
// done (and KANTREE_STUB_STOP_SECONDS more), then a final "stop" row. A database outage does not stop it: it
// reconnects on the next tick. With KANTREE_STUB_GRANDCHILD=1 it also
// starts a copy of itself (run id <run>/child) that the scheduler does not
// stop, to show whether a supervisor stops a whole process group.
func (c command) runScheduler(ctx context.Context) error {
	runID := newID(8)
	if parent := c.env.Getenv("KANTREE_STUB_PARENT_RUN"); parent != "" {
		runID = parent + "/child"
	} else if c.env.Getenv("KANTREE_STUB_GRANDCHILD") == "1" {
		if err := startGrandchild(runID); err != nil {
			return fmt.Errorf("run scheduler: %w", err)
		}
	}
	c.log.Info("scheduler started", "run", runID, "lock_held", c.cfg.LockHeld, "fencing_token", c.cfg.Fencing)
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	tick := time.NewTicker(HeartbeatInterval)
	defer tick.Stop()
	for kind := BeatStart; ; kind = BeatRun {
		conn = c.beat(ctx, conn, runID, kind)
		if kind == BeatStart {
			tick.Reset(HeartbeatInterval) // the first beat waited for the connection
		}
		select {
		case <-ctx.Done():
			conn = c.beatOn(conn, runID, tick)
			c.beat(context.Background(), conn, runID, BeatStop)
			c.log.Info("scheduler stopped", "run", runID)
			return nil
		case <-tick.C:
		}
	}
}

// beatOn keeps beating for KANTREE_STUB_STOP_SECONDS after the stop
// signal (default 0), like a scheduler finishing its current task.
func (c command) beatOn(conn *pgx.Conn, runID string, tick *time.Ticker) *pgx.Conn {
	secs, err := strconv.ParseFloat(c.env.Getenv("KANTREE_STUB_STOP_SECONDS"), 64)
	if err != nil || secs <= 0 {
		return conn
	}
	c.log.Info("scheduler finishing before it stops", "seconds", secs)
	end := time.Now().Add(time.Duration(secs * float64(time.Second)))
	for time.Now().Before(end) {
		<-tick.C
		conn = c.beat(context.Background(), conn, runID, BeatRun)
	}
	return conn
}

// beat inserts one heartbeat, (re)connecting as needed; it returns the
// connection to use next time (nil after a failure).
func (c command) beat(ctx context.Context, conn *pgx.Conn, runID, kind string) *pgx.Conn {
	if conn == nil {
		var err error
		if conn, err = c.connect(ctx, HeartbeatTable); err != nil {
			c.log.Warn("heartbeat: no database", "err", err)
			return nil
		}
	}
	bctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := conn.Exec(bctx, `INSERT INTO kantree_stub_heartbeats
		(run_id, instance_id, fencing_token, lock_held, kind, at) VALUES ($1, $2, $3, $4, $5, clock_timestamp())`,
		runID, c.cfg.InstanceID, c.cfg.Fencing, c.cfg.LockHeld, kind)
	if err != nil {
		c.log.Warn("heartbeat failed", "err", err)
		conn.Close(context.Background())
		return nil
	}
	return conn
}

// startGrandchild starts this program again as "run scheduler" in the
// same process group, without waiting for it.
func startGrandchild(runID string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("start grandchild: %w", err)
	}
	cmd := exec.Command(exe, "run", "scheduler")
	cmd.Env = append(os.Environ(), "KANTREE_STUB_PARENT_RUN="+runID, "KANTREE_STUB_GRANDCHILD=")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start grandchild: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
