package supervise

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// confirmation is the answer of one consistent read of the key.
type confirmation struct {
	at   stamp  // when the read was sent
	lost string // why the lock is not ours any more; empty when it is
}

// hold runs the command while the lock is ours. sctx ends when the
// session is gone or ctx ends. The command is always reaped when hold
// returns.
func (s *Supervisor) hold(ctx, sctx context.Context, f *fence, id string, at stamp, token uint64) (result, error) {
	f.begin(token, at.boot+s.cfg.fenceAfter())
	s.log.Info("acquired", "session", id, "fencing_token", token, "watchdog_pid", f.proc.PID())
	confirms := make(chan confirmation)
	cctx, stopConfirm := context.WithCancel(sctx)
	defer stopConfirm()
	go s.confirmLoop(cctx, id, confirms)

	last := at
	fenceTimer := time.NewTimer(s.untilFence(last))
	defer fenceTimer.Stop()
	for {
		select {
		case <-f.gone:
			return s.childEnded(f)
		case <-sctx.Done():
			return s.stopFor(ctx, f, context.Cause(sctx))
		case c := <-confirms:
			if c.lost != "" {
				return s.stopLost(f, c.lost)
			}
			if c.at.mono.After(last.mono) {
				last = c.at
				f.extend(last.boot + s.cfg.fenceAfter())
				fenceTimer.Reset(s.untilFence(last))
			}
		case <-fenceTimer.C:
			s.log.Warn("fenced", "session", id, "reason", fmt.Sprintf("no confirmation from Consul for %s (fence deadline: lock-delay - kill grace - margin)", s.cfg.fenceAfter()))
			f.stop(s.cfg.KillGrace)
			return result{out: outFenced, code: f.exitCode()}, nil
		}
	}
}

// untilFence is how long until the fence deadline that follows last.
func (s *Supervisor) untilFence(last stamp) time.Duration {
	return s.cfg.fenceAfter() - s.clock.Now().Sub(last.mono)
}

// childEnded handles the watchdog's exit: the command exited on its own,
// the watchdog fenced it, or the watchdog was killed. A killed watchdog is
// not a command exit: the lock is not released, so a standby waits out
// the lock-delay after the session ends.
func (s *Supervisor) childEnded(f *fence) (result, error) {
	f.stop(s.cfg.KillGrace) // the command is gone: this only closes the pipe
	if died, strays := f.watchdogDied(); died {
		s.log.Warn("fenced", "reason", fmt.Sprintf("the watchdog died (exit code %d); the supervisor killed what was left of the command's tree (%d processes)", f.exitCode(), strays))
		return result{out: outFenced, code: f.exitCode()}, nil
	}
	if reason := f.fencedReason(); reason != "" {
		s.log.Warn("fenced", "reason", "watchdog: "+reason)
		return result{out: outFenced, code: f.exitCode()}, nil
	}
	code := f.exitCode()
	s.log.Info("command exited", "code", code)
	return result{out: outExited, code: code}, nil
}

// stopFor stops the command because the session context ended: either a
// shutdown (ctx ended) or the session is gone.
func (s *Supervisor) stopFor(ctx context.Context, f *fence, cause error) (result, error) {
	if ctx.Err() != nil {
		s.log.Info("stopping", "reason", "supervisor asked to stop")
		f.stop(s.cfg.KillGrace)
		return result{out: outShutdown, code: f.exitCode()}, nil
	}
	if cause == nil || errors.Is(cause, context.Canceled) {
		cause = errSessionGone
	}
	return s.stopLost(f, cause.Error())
}

// stopLost stops the command after Consul said the lock is not ours.
func (s *Supervisor) stopLost(f *fence, reason string) (result, error) {
	s.log.Warn("lost", "reason", reason)
	f.stop(s.cfg.KillGrace)
	return result{out: outLost, code: f.exitCode()}, nil
}

// confirmLoop reads the key with consistent reads every confirmEvery and
// reports each answer. Errors are retried on the next tick; the fence
// deadline, not a retry count, decides when to give up.
func (s *Supervisor) confirmLoop(ctx context.Context, id string, out chan<- confirmation) {
	t := time.NewTicker(s.cfg.confirmEvery())
	defer t.Stop()
	failing, lastOK := false, s.clock.Now()
	for {
		at := now(s.clock)
		rctx, cancel := context.WithTimeout(ctx, s.cfg.fenceAfter()/2)
		p, err := s.readKey(rctx)
		cancel()
		var c confirmation
		switch {
		case err != nil:
			if ctx.Err() == nil && !failing {
				s.log.Warn("confirm failed", "reason", err.Error())
			}
			failing = true
		case p == nil:
			c = confirmation{at: at, lost: "key deleted"}
		case p.Session != id:
			c = confirmation{at: at, lost: fmt.Sprintf("key no longer held by session %s (holder now %q)", id, p.Session)}
		default:
			if failing {
				s.log.Info("confirmed again", "unconfirmed_for", at.mono.Sub(lastOK).String())
			}
			failing, lastOK, c = false, at.mono, confirmation{at: at}
		}
		if err == nil {
			select {
			case out <- c:
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
