package migrate

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/kantree-nomad/kantree-nomad/rules"
	"github.com/kantree-nomad/kantree-nomad/runtime/child"
	"github.com/kantree-nomad/kantree-nomad/runtime/ledger"
)

// ending is how the command's run ended, before it is recorded.
type ending struct {
	code   int
	status string
	detail string
	cause  error // why migrate stopped the command, if it did
}

// supervise runs the command of entry under its lease, then records how it
// ended (see record).
func (h *holder) supervise(ctx context.Context, entry Entry) (Outcome, error) {
	c, err := startCommand(h.cfg, h.marker)
	if err != nil {
		code := 127
		rerr := h.record(ctx, entry, ledger.StatusFailed, &code, err.Error())
		return Outcome{}, errors.Join(rules.WithHint(fmt.Errorf("migrate: %w", err),
			"check the command after -- and the working directory"), rerr)
	}
	r := startRenewer(ctx, h.cfg, h.conn, entry.ID)
	end := h.watch(ctx, c, r)
	h.conn = r.stop()
	if left := sweep(h.marker, 5*time.Second); len(left) > 0 {
		h.cfg.Log.Error("descendants of the command survive SIGKILL", "pids", left)
	}
	code := end.code
	rerr := h.record(ctx, entry, end.status, &code, end.detail)
	return h.result(entry, end, rerr)
}

// watch waits for the first of: the command exits, ctx ends (SIGTERM), the
// lease is lost or its fence deadline passes. Whatever happens, it returns
// only once the command has been reaped.
func (h *holder) watch(ctx context.Context, c *child.Child, r *renewer) ending {
	f := fence{c: c, grace: h.cfg.Grace, deadline: h.granted + h.cfg.Lease - fenceMargin}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	stopAsked := ctx.Done()
	for {
		select {
		case <-c.Done():
			return f.ending(c.ExitCode())
		case <-stopAsked:
			stopAsked = nil
			h.cfg.Log.Warn("asked to stop; stopping the command", "grace", h.cfg.Grace)
			f.stop(ledger.StatusKilled, fmt.Errorf("migrate was asked to stop: %w", context.Cause(ctx)))
		case sent := <-r.ok:
			f.deadline = max(f.deadline, sent+h.cfg.Lease-fenceMargin)
		case <-r.lost:
			r.lost = nil
			h.cfg.Log.Error("the lease is gone (run out or taken over); killing the command at once")
			f.kill(errLeaseLost)
		case <-tick.C:
			f.check(h.cfg)
		}
	}
}

// errLeaseLost is wrapped by the error Run returns when the command was
// fenced because the lease could not be renewed.
var errLeaseLost = errors.New("the lease could not be renewed")

// fence stops the command by its deadline: SIGTERM one grace before it,
// SIGKILL at it (at once when the deadline is already past).
type fence struct {
	c        *child.Child
	grace    time.Duration
	deadline time.Duration // boottime by which the command must be gone
	termAt   time.Duration // boottime at which SIGKILL follows a SIGTERM sent; 0 if none
	killed   bool
	status   string
	cause    error
}

func (f *fence) check(cfg *Config) {
	now := boottime()
	switch {
	case !f.killed && (now >= f.deadline || (f.termAt != 0 && now >= f.termAt)):
		if f.status == "" {
			cfg.Log.Error("no lease renewal before the fence deadline; killing the command")
		}
		f.kill(errLeaseLost)
	case f.termAt == 0 && now >= f.deadline-f.grace:
		cfg.Log.Error("no lease renewal for too long; stopping the command before the lease runs out",
			"grace", f.grace)
		f.stop(ledger.StatusFenced, errLeaseLost)
	}
}

// stop sends SIGTERM; SIGKILL follows after the grace or at the deadline.
func (f *fence) stop(status string, cause error) {
	f.mark(status, cause)
	if f.termAt == 0 {
		f.termAt = min(boottime()+f.grace, f.deadline)
		_ = f.c.Signal(syscall.SIGTERM)
	}
}

// kill sends SIGKILL at once.
func (f *fence) kill(cause error) {
	f.mark(ledger.StatusFenced, cause)
	f.killed = true
	_ = f.c.Signal(syscall.SIGKILL)
}

func (f *fence) mark(status string, cause error) {
	if f.status == "" {
		f.status, f.cause = status, cause
	}
}

// ending says how the command ended. A command that exits 0 after it was
// asked to stop may or may not have completed: that is recorded as
// unknown, so that nothing runs it again without a decision.
func (f *fence) ending(code int) ending {
	switch {
	case f.status == "" && code == 0:
		return ending{code: code, status: ledger.StatusSucceeded}
	case f.status == "":
		return ending{code: code, status: ledger.StatusFailed, detail: fmt.Sprintf("the command exited with code %d", code)}
	case code == 0:
		return ending{code: code, status: ledger.StatusUnknown, cause: f.cause,
			detail: fmt.Sprintf("the command exited 0 after it was asked to stop (%v): it may have completed", f.cause)}
	}
	return ending{code: code, status: f.status, cause: f.cause,
		detail: fmt.Sprintf("%v; the command was stopped (exit code %d)", f.cause, code)}
}
