// Package child starts one command in its own process group and stops it
// as a group, so that a shell's children go with it.
//
// A Child is started from a goroutine that stays locked to its OS thread
// until the command has been reaped, with Pdeathsig set to SIGKILL: the
// kernel sends the signal when the thread that forked the command ends, so
// locking the thread makes "the thread ends" mean "this process ends", and
// the command dies with the process that started it, even under SIGKILL.
//
// When the command (the group leader) exits, for any reason, the rest of its
// process group is sent SIGKILL before the leader is reaped: the leader's
// unreaped PID keeps the group ID from being reused, so the signal cannot
// reach an unrelated process. Nothing started by the command outlives it
// unless it left the group on purpose (setsid, setpgid).
//
// The package knows nothing about locks or Consul; it must not log and it
// must not read a clock other than for the grace period it is given.
package child
