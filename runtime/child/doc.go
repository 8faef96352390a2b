// Package child starts one command and stops it as a unit: by default its
// process group, so that a shell's children go with it; with Spec.Tree its
// whole process tree, including descendants that leave the group or the
// session.
//
// A Child is started from a goroutine that stays locked to its OS thread
// until the command has been reaped, with Pdeathsig set to SIGKILL: the
// kernel sends the signal when the thread that forked the command ends, so
// locking the thread makes "the thread ends" mean "this process ends", and
// the command dies with the process that started it, even under SIGKILL.
// Spec.Outlive turns this off for a command that watches its parent itself.
//
// When the command (the leader) exits, for any reason, the rest of its unit
// is sent SIGKILL before the leader is reaped: the leader's unreaped PID
// keeps the group ID from being reused, so the signal cannot reach an
// unrelated process.
//
// Tree mode rests on the kernel, not on the command's good manners. The
// starting process must be a child subreaper (BecomeSubreaper) that starts
// nothing else: a process below it whose parent dies is reparented to it,
// not to init, so every descendant of the command stays a descendant of
// this process whatever it forks or however it calls setsid, and "the tree
// is gone" means "this process has no child left". Signals go to every
// process found below this one in /proc, each through a pidfd checked to
// still be below it, so a reused PID is never signalled; killing repeats
// until nothing is left. Where the host allows it (cgroup v2 mounted and
// writable, Linux 5.14 or later), the command is also started in a cgroup
// of its own (clone3 CLONE_INTO_CGROUP), killed at once with cgroup.kill
// and removed when empty; without one, the subreaper alone holds the tree.
// KillStrays lets a subreaper kill what a dead child left behind.
//
// The package knows nothing about locks or Consul; it must not log and it
// must not read a clock other than for the grace period it is given.
package child
