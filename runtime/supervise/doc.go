// Package supervise runs one command only while this process holds a Consul
// session lock, so that at most one copy of the command runs across all
// machines (the Kantree scheduler).
//
// The safety argument, in order:
//
//   - The session is bound to the node's serfHealth and to a TTL check
//     that the supervisor keeps passing, and it has a TTL and a
//     lock-delay. Consul may invalidate it at any time after it last
//     heard from us; another holder can acquire the key only one
//     lock-delay after that. The check belongs to a small service that
//     the supervisor registers on the local agent (-check-service), so
//     its Consul token needs write on that one service name, not on the
//     node.
//   - The supervisor confirms its hold with consistent reads of the key and
//     remembers when the last successful one was sent. When no confirmation
//     has been sent for FenceAfter (lock-delay - kill grace - margin), the
//     command is stopped, whether or not Consul can be reached.
//   - That deadline is enforced by a separate watchdog process (this same
//     binary, re-executed) that is the command's parent: it receives each
//     new deadline over a pipe as an absolute CLOCK_BOOTTIME value, so it
//     fences the command even while the supervisor is stopped (SIGSTOP),
//     swapped out or suspended. The watchdog dies with the supervisor and
//     the command with the watchdog (Pdeathsig, package runtime/child).
//   - The lock is released only after the command has been reaped (the
//     watchdog reports it on a second pipe), and released explicitly on a
//     clean stop, so a standby takes over at once: lock-delay applies
//     only to invalidated sessions.
//
// The watchdog is started while the supervisor waits for the lock and is
// handed the fencing token once the lock is held, so a takeover costs no
// program start.
//
// What the design cannot cover: an operator who deletes the key (Consul
// applies no lock-delay to a delete) gets an overlap of up to one
// confirmation period plus the kill grace. Leader elections longer than
// the fence deadline fence the command (safe, but a restart): pick a
// lock-delay whose fence deadline exceeds the cluster's election time.
//
// Errors talking to Consul are retried with a short backoff and never
// restart the command by themselves; only a definite answer (the session
// or the key is gone or held by another session) or the fence deadline
// does. The fencing token given to the command is the key's ModifyIndex
// right after the acquire: a Raft index, strictly increasing across
// holders even if the key is deleted and created again.
//
// This package does not parse flags and holds no globals: the logger and
// the clock are passed in.
package supervise
