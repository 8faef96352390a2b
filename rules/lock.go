package rules

import (
	"fmt"
	"time"
)

// LockSafetyMargin is the time the lock-timing check keeps in hand for what
// it cannot measure: signal delivery, process reaping and the latency
// between a Consul server's decision and the supervisor hearing of it.
const LockSafetyMargin = time.Second

// Default lock timings, used by render when the deployment file leaves them
// out and by `kantree-nomad supervise` when its flags do. They trade
// failover time (about check TTL + lock-delay after a holder dies: 10s)
// against the Consul outage a holder rides through before it fences its
// scheduler (lock-delay - kill grace - LockSafetyMargin: 5s, longer than a
// typical leader election).
const (
	DefaultLockTTL   = 10 * time.Second
	DefaultLockDelay = 8 * time.Second
	DefaultKillGrace = 2 * time.Second
	DefaultCheckTTL  = 2 * time.Second
	// DefaultStartTimeout is how long supervise waits for Consul at start
	// before it fails its task, so that Nomad restarts it and an operator
	// sees it. Render makes the scheduler group's min_healthy_time longer.
	DefaultStartTimeout = 30 * time.Second
)

// Bounds Consul itself puts on session timings.
const (
	MinSessionTTL = 10 * time.Second
	MaxSessionTTL = 24 * time.Hour
	MaxLockDelay  = 60 * time.Second
)

// LockTimings are the timings that together decide whether two schedulers
// can ever run at once. Render checks them against the deployment file and
// `kantree-nomad supervise` checks them again at start-up, with the same
// function, so that a hand-edited job cannot slip past.
type LockTimings struct {
	TTL         time.Duration // Consul session TTL
	LockDelay   time.Duration // Consul session lock-delay
	KillGrace   time.Duration // supervisor's SIGTERM-to-SIGKILL grace for its child
	KillTimeout time.Duration // Nomad kill_timeout of the supervisor task; 0 when unknown (runtime)
}

// LockTimingError says which rule a set of lock timings breaks. Field names
// the offending timing ("ttl", "lock_delay", "kill_grace", "kill_timeout"),
// so that render can point at its line.
type LockTimingError struct {
	Field  string
	Detail string
	Advice string
}

func (e *LockTimingError) Error() string {
	return fmt.Sprintf("unsafe scheduler lock timings: %s: %s", e.Field, e.Detail)
}

// Hint says which timing to change and how.
func (e *LockTimingError) Hint() string { return e.Advice }

// FenceAfter is how long the supervisor may go without a confirmation from
// the Consul servers before it must kill its child: once Consul may have
// invalidated the session, another holder can acquire the lock one
// lock-delay later, and by then the child must be dead (SIGTERM, the kill
// grace, SIGKILL, and the safety margin).
func (t LockTimings) FenceAfter() time.Duration {
	return t.LockDelay - t.KillGrace - LockSafetyMargin
}

// MinFenceAfter is the shortest fence deadline the check accepts: below it
// an ordinary Consul round-trip or GC pause would kill a healthy scheduler.
const MinFenceAfter = time.Second

// CheckLockTimings reports the first rule that t breaks, or nil when no two
// schedulers can overlap under these timings.
func CheckLockTimings(t LockTimings) *LockTimingError {
	switch {
	case t.TTL < MinSessionTTL || t.TTL > MaxSessionTTL:
		return &LockTimingError{"ttl", fmt.Sprintf("session TTL %s is outside Consul's range %s to %s", t.TTL, MinSessionTTL, MaxSessionTTL),
			"Use a TTL of at least 10s."}
	case t.LockDelay <= 0 || t.LockDelay > MaxLockDelay:
		return &LockTimingError{"lock_delay", fmt.Sprintf("lock-delay %s must be above 0 and at most %s", t.LockDelay, MaxLockDelay),
			"Without a lock-delay a new holder may start the instant Consul invalidates the old session, before the old child is dead."}
	case t.KillGrace <= 0:
		return &LockTimingError{"kill_grace", fmt.Sprintf("kill grace %s must be above 0", t.KillGrace),
			"Give the scheduler time to stop cleanly on SIGTERM, for example 2s."}
	case t.FenceAfter() < MinFenceAfter:
		return &LockTimingError{"lock_delay", fmt.Sprintf("lock-delay %s leaves %s to notice a lost session after kill grace %s and safety margin %s; at least %s is needed",
			t.LockDelay, t.FenceAfter(), t.KillGrace, LockSafetyMargin, MinFenceAfter),
			fmt.Sprintf("Raise lock_delay to at least %s or lower kill_grace.", t.KillGrace+LockSafetyMargin+MinFenceAfter)}
	case t.KillGrace+LockSafetyMargin >= t.TTL:
		return &LockTimingError{"kill_grace", fmt.Sprintf("kill grace %s plus safety margin %s must stay below the session TTL %s", t.KillGrace, LockSafetyMargin, t.TTL),
			"Lower kill_grace or raise ttl."}
	case t.KillTimeout != 0 && t.KillTimeout <= t.KillGrace+LockSafetyMargin:
		return &LockTimingError{"kill_timeout", fmt.Sprintf("Nomad kill_timeout %s must exceed kill grace %s plus safety margin %s, or Nomad kills the supervisor before it has stopped its child and released the lock",
			t.KillTimeout, t.KillGrace, LockSafetyMargin),
			fmt.Sprintf("Raise kill_timeout above %s.", t.KillGrace+LockSafetyMargin)}
	}
	return nil
}
