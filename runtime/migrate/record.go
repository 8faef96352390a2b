package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kantree-nomad/kantree-nomad/rules"
	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
	"github.com/kantree-nomad/kantree-nomad/runtime/ledger"
	"github.com/kantree-nomad/kantree-nomad/runtime/retry"
)

// record writes the end of an attempt, even when ctx has ended, on the
// holder's connection or on new ones, retrying with backoff for up to
// RecordFor. The command is gone by then, so waiting costs no safety.
func (h *holder) record(ctx context.Context, e Entry, status string, code *int, detail string) error {
	ctx = context.WithoutCancel(ctx)
	deadline := time.Now().Add(h.cfg.RecordFor)
	backoff := retry.DefaultBackoff(5 * time.Second)
	for n := 1; ; n++ {
		ok, err := h.finishOnce(ctx, e.ID, status, code, detail)
		if err == nil {
			if !ok {
				h.cfg.Log.Warn("the attempt was settled by someone else meanwhile; its record is left as it is",
					"attempt", e.Attempt, "would_record", status)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return rules.WithHint(fmt.Errorf("migrate: release %s attempt %d ended %s (exit code %d), but that could not be recorded: %w",
				h.cfg.Release, e.Attempt, status, *code, err),
				"the attempt stays running until its lease runs out, then the next migrate reports it unknown; "+
					"run that one with -unknown "+unknownAdvice(status))
		}
		h.cfg.Log.Warn("cannot record the end of the attempt; retrying on a new connection",
			"attempt", e.Attempt, "status", status, "error", diagnosis.Redact(err.Error()))
		time.Sleep(backoff.Delay(n))
	}
}

func unknownAdvice(status string) string {
	if status == ledger.StatusSucceeded {
		return UnknownSucceeded + " (this attempt succeeded)"
	}
	return UnknownRerun + " (this attempt did not succeed)"
}

// finishOnce makes one attempt at recording the end.
func (h *holder) finishOnce(ctx context.Context, id int64, status string, code *int, detail string) (bool, error) {
	if h.conn == nil || h.conn.IsClosed() {
		cctx, cancel := context.WithTimeout(ctx, h.cfg.PingLimit)
		defer cancel()
		c, err := connectOnce(cctx, h.cfg.DSN, diagnosis.RedactDSN(h.cfg.DSN))
		if err != nil {
			return false, err
		}
		h.conn = c
	}
	fctx, cancel := context.WithTimeout(ctx, h.cfg.PingLimit)
	defer cancel()
	ok, err := ledger.Finish(fctx, h.conn, id, status, code, detail)
	if err != nil {
		h.conn.Close(ctx)
		h.conn = nil
	}
	return ok, err
}

// result is what Run returns once the end is recorded (or could not be).
func (h *holder) result(e Entry, end ending, rerr error) (Outcome, error) {
	h.cfg.Log.Info("upgrade finished", "release", h.cfg.Release, "attempt", e.Attempt,
		"status", end.status, "exit_code", end.code)
	if end.status == ledger.StatusSucceeded {
		e.Status = end.status
		return Outcome{Entry: e, Backup: h.backup}, rerr
	}
	var err error
	switch end.status {
	case ledger.StatusFailed:
		err = rules.WithHint(fmt.Errorf("migrate: release %s attempt %d failed: %s; recorded as %s",
			h.cfg.Release, e.Attempt, end.detail, end.status),
			"read the command's output above, fix the cause, and run the upgrade-db job again (a failed release is retried)")
	case ledger.StatusUnknown:
		err = rules.WithHint(fmt.Errorf("migrate: release %s attempt %d: %s", h.cfg.Release, e.Attempt, end.detail),
			"check the database; then run migrate with -unknown succeeded or -unknown rerun")
	default:
		err = rules.WithHint(fmt.Errorf("migrate: release %s attempt %d stopped midway: %w; recorded as %s",
			h.cfg.Release, e.Attempt, end.cause, end.status),
			"check the network to PostgreSQL, then run the upgrade-db job again")
	}
	return Outcome{}, errors.Join(err, rerr)
}
