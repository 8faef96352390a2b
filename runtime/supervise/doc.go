// Package supervise runs one command only while this process holds a Consul
// session lock, so that at most one copy of the command runs across all
// machines (the Kantree scheduler). The unit it starts, fences and kills
// is the command's whole process tree, not one process.
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
//     command's tree is stopped, whether or not Consul can be reached.
//   - That deadline is enforced by a separate watchdog process (this same
//     binary, re-executed) that is the command's parent: it receives each
//     new deadline over a pipe as an absolute CLOCK_BOOTTIME value, so it
//     fences the command even while the supervisor is stopped (SIGSTOP),
//     swapped out or suspended. At the deadline it sends SIGTERM and what
//     is left of the kill grace; when it notices the deadline late (it did
//     not run: frozen with the tree, suspended), the grace is spent and
//     the tree is killed at once (SIGKILL), by a thread that sleeps on
//     CLOCK_BOOTTIME outside the Go scheduler. A stop asked after the
//     deadline is a SIGKILL too.
//   - The tree cannot leave the watchdog (package runtime/child, tree
//     mode): the watchdog is a child subreaper, so a descendant whose
//     parent dies, after a double fork, setsid or setpgid, is reparented
//     to it, not to init. The tree is gone when the watchdog has no child
//     left; where the host allows a cgroup v2, the command also has one of
//     its own, killed with cgroup.kill.
//   - The watchdog does not die with the supervisor: when the supervisor
//     dies its pipe closes, and the watchdog stops the whole tree (within
//     the deadline) before it exits. The command dies with the watchdog
//     (Pdeathsig), and the supervisor is a child subreaper too: if the
//     watchdog is killed, the rest of the tree is reparented to the
//     supervisor, which kills it. A killed watchdog is not a command exit:
//     the lock is not released but its session destroyed, so a standby
//     waits out the lock-delay.
//   - The lock is released only after the whole tree has been reaped (the
//     watchdog reports it on a second pipe), and released explicitly on a
//     clean stop, so a standby takes over at once: lock-delay applies
//     only to invalidated sessions.
//   - The command's environment has no Consul credentials
//     (CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE, CONSUL_HTTP_AUTH, the
//     client certificate): with the lock's token it could delete the key.
//
// The watchdog is started while the supervisor waits for the lock and is
// handed the fencing token once the lock is held, so a takeover costs no
// program start.
//
// Which guarantee holds where, on Linux:
//
//   - Every driver: fork, setsid and setpgid do not take a process out of
//     the tree (subreapers), and SIGKILL or SIGSTOP of the supervisor, or
//     SIGKILL of the watchdog, leaves nothing of the tree running past the
//     fence deadline.
//   - raw_exec: SIGKILL of the supervisor and the watchdog together (an
//     OOM kill of both, kill -9 of the group) leaves the tree's escaped
//     processes to whatever the Nomad client does with the task's cgroup
//     when the task dies; the command itself dies (Pdeathsig).
//   - exec and docker: the supervisor is PID 1 of the task's PID namespace
//     (exec's default pid_mode "private", docker without an init), so its
//     death, however it dies, makes the kernel kill every process of the
//     task. Whether a cgroup of the command's own can be made depends on
//     the task's user and cgroup delegation; without one the subreapers
//     still hold the tree.
//
// What the design cannot cover: an operator who deletes the key (Consul
// applies no lock-delay to a delete) gets an overlap of up to one
// confirmation period plus the kill grace. A tree frozen together with
// its watchdog (a cgroup freeze, a VM pause) past the point where a
// standby took over runs again at the thaw for as long as the watchdog
// takes to be scheduled: the tests measure a few milliseconds, time for
// one write the command had ready. Only a fencing token checked by the
// resource (KANTREE_FENCING_TOKEN) closes that window. Leader elections
// longer than the fence deadline fence the command (safe, but a restart):
// pick a lock-delay whose fence deadline exceeds the cluster's election
// time.
//
// Errors talking to Consul are retried with a short backoff and never
// restart the command by themselves; only a definite answer (the session
// or the key is gone or held by another session) or the fence deadline
// does. The exception is the start: a supervisor that cannot register its
// check and create a first session within the start timeout fails, so
// that an operator sees a failed task instead of a silent absence. The
// fencing token given to the command is the key's ModifyIndex right after
// the acquire: a Raft index, strictly increasing across holders even if
// the key is deleted and created again.
//
// This package does not parse flags and holds no globals: the logger and
// the clock are passed in.
package supervise
