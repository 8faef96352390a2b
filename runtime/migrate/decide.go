package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/rules"
	"github.com/kantree-nomad/kantree-nomad/runtime/ledger"
)

// Entry is one ledger row (see runtime/ledger).
type Entry = ledger.Entry

// holder is one migrate once it holds the advisory lock: its settings and
// the connection it uses for the ledger (replaced when it is lost).
type holder struct {
	cfg     *Config
	conn    *pgx.Conn
	marker  string        // the running attempt's marker
	granted time.Duration // boottime when the attempt's first lease was requested
	backup  *BackupEntry  // the release's verified backup, once backupFirst found or took it
}

// runLocked decides, under the lock, whether to skip, wait, refuse or run,
// and runs the command when it must.
func (h *holder) runLocked(ctx context.Context) (Outcome, error) {
	if err := ledger.Ensure(ctx, h.conn); err != nil {
		return Outcome{}, fmt.Errorf("migrate: %w", err)
	}
	for {
		out, done, err := h.settled(ctx)
		if done || err != nil {
			return out, err
		}
		if waited, err := h.waitLease(ctx); waited || err != nil {
			if err != nil {
				return Outcome{}, err
			}
			continue // the ledger changed: look again
		}
		if err := h.settleUnknown(ctx); errors.Is(err, errRecheck) {
			continue
		} else if err != nil {
			return Outcome{}, err
		}
		if err := h.backupFirst(ctx); err != nil {
			return Outcome{}, err
		}
		entry, err := h.begin(ctx)
		if errors.Is(err, ledger.ErrBusy) {
			continue // another lock key's holder began first: wait for it
		}
		if err != nil {
			return Outcome{}, err
		}
		h.cfg.Log.Info("running the upgrade", "release", h.cfg.Release, "attempt", entry.Attempt,
			"command", strings.Join(h.cfg.Command, " "), "lease", h.cfg.Lease)
		return h.supervise(ctx, entry)
	}
}

// settled reports whether the schema is already at or after the release.
func (h *holder) settled(ctx context.Context) (Outcome, bool, error) {
	schema, found, err := ledger.SchemaRelease(ctx, h.conn)
	if err != nil || !found {
		return Outcome{}, false, wrap(err)
	}
	ok, err := ledger.AtOrAfter(schema, h.cfg.Release)
	if err != nil || !ok {
		return Outcome{}, false, wrap(err)
	}
	out := Outcome{Skipped: true, Schema: schema}
	entries, err := ledger.Entries(ctx, h.conn, h.cfg.Release)
	for _, e := range entries {
		if e.Status == ledger.StatusSucceeded {
			out.Entry = e
		}
	}
	h.cfg.Log.Info("the schema is at or after this release; nothing to do", "release", h.cfg.Release,
		"schema", schema, "attempt", out.Entry.Attempt, "host", out.Entry.Host)
	return out, true, wrap(err)
}

func wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("migrate: %w", err)
}

// waitLease waits while an attempt holds a live lease, and marks unknown an
// attempt whose lease (plus margin) ran out without an end recorded. It
// reports whether there was a running attempt.
func (h *holder) waitLease(ctx context.Context) (bool, error) {
	var lastLog time.Time
	for {
		running, left, err := ledger.Running(ctx, h.conn, takeoverMargin)
		if err != nil || running == nil {
			return !lastLog.IsZero(), wrap(err)
		}
		if left <= 0 {
			return true, h.expire(ctx, running)
		}
		if time.Since(lastLog) >= 5*time.Second {
			lastLog = time.Now()
			h.cfg.Log.Info("waiting for the running attempt's lease", "release", running.Release,
				"attempt", running.Attempt, "host", running.Host, "lease_ends_in", left.Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return true, fmt.Errorf("migrate: wait for attempt %d's lease: %w", running.ID, context.Cause(ctx))
		case <-time.After(min(left, h.cfg.Poll)):
		}
	}
}

// expire takes over from a holder whose lease ran out: its row becomes
// unknown, and what it left on this host is killed.
func (h *holder) expire(ctx context.Context, e *Entry) error {
	ok, err := ledger.Expire(ctx, h.conn, e.ID, takeoverMargin)
	if err != nil || !ok {
		return wrap(err) // renewed meanwhile: the caller looks again
	}
	h.cfg.Log.Warn("the running attempt's lease ran out with no end recorded; marked unknown",
		"release", e.Release, "attempt", e.Attempt, "host", e.Host)
	return h.sweepLeftovers(*e)
}

// sweepLeftovers kills the processes an attempt left on this host. Another
// host's leftovers cannot be seen from here: see the package documentation.
func (h *holder) sweepLeftovers(e Entry) error {
	if e.BootID == "" || e.BootID != BootID() {
		return nil
	}
	if left := sweep(e.Marker, 5*time.Second); len(left) > 0 {
		return rules.WithHint(fmt.Errorf("migrate: processes %v of attempt %d (release %s) survive SIGKILL", left, e.Attempt, e.Release),
			"find out why they cannot be killed (uninterruptible I/O?) before running the upgrade again")
	}
	return nil
}

// settleUnknown applies cfg.Unknown to this release's unknown attempts.
func (h *holder) settleUnknown(ctx context.Context) error {
	unknown, err := ledger.Unknown(ctx, h.conn, h.cfg.Release)
	if err != nil || len(unknown) == 0 {
		return wrap(err)
	}
	for _, e := range unknown {
		if err := h.sweepLeftovers(e); err != nil {
			return err
		}
	}
	last := unknown[len(unknown)-1]
	policy := h.cfg.Unknown
	if h.cfg.UnknownAttempt != 0 && last.Attempt != h.cfg.UnknownAttempt {
		h.cfg.Log.Warn("the operator's decision is about another attempt; refusing", "release", h.cfg.Release,
			"decided_attempt", h.cfg.UnknownAttempt, "unknown_attempt", last.Attempt, "decision", policy)
		policy = UnknownStop
	}
	switch policy {
	case UnknownRerun:
		return h.resolve(ctx, unknown, ledger.StatusResolvedRerun, "(operator: rerun)")
	case UnknownSucceeded:
		if err := h.resolve(ctx, unknown[len(unknown)-1:], ledger.StatusSucceeded, "(operator: it succeeded)"); err != nil {
			return err
		}
		return errRecheck
	}
	return rules.WithHint(&UnknownError{Release: h.cfg.Release, Attempt: last.Attempt, Host: last.Host},
		fmt.Sprintf("check the database and the attempt's log; then run migrate again with -unknown rerun -unknown-attempt %d (it did not complete) or -unknown succeeded -unknown-attempt %d (it did)",
			last.Attempt, last.Attempt))
}

// UnknownError is migrate's refusal to go on while an attempt of the
// release has no recorded end and no person has said what happened.
type UnknownError struct {
	Release string
	Attempt int
	Host    string // the ledger's host of the attempt
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("migrate: release %s attempt %d on %s ended with no result recorded (status unknown): it may have succeeded",
		e.Release, e.Attempt, e.Host)
}

// errRecheck makes runLocked look at the ledger again.
var errRecheck = errors.New("recheck")

func (h *holder) resolve(ctx context.Context, entries []Entry, status, detail string) error {
	for _, e := range entries {
		if err := ledger.Resolve(ctx, h.conn, e.ID, status, detail); err != nil {
			return wrap(err)
		}
		h.cfg.Log.Warn("settled an unknown attempt as the operator asked", "release", e.Release,
			"attempt", e.Attempt, "status", status)
	}
	return nil
}

// begin records a new attempt with its lease.
func (h *holder) begin(ctx context.Context) (Entry, error) {
	h.marker, h.granted = newMarker(), boottime()
	e, err := ledger.Begin(ctx, h.conn, ledger.Attempt{Release: h.cfg.Release, Host: h.cfg.Host,
		BootID: BootID(), Marker: h.marker}, h.cfg.Lease)
	if err != nil && !errors.Is(err, ledger.ErrBusy) {
		return e, wrap(err)
	}
	return e, err
}
