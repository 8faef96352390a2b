package child

import (
	"errors"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// siginfoPID reads si_pid of a siginfo_t filled by waitid: it follows
// si_signo, si_errno and si_code, aligned to the word size.
func siginfoPID(info *unix.Siginfo) int {
	off := 3 * unsafe.Sizeof(int32(0))
	if unsafe.Sizeof(uintptr(0)) == 8 {
		off += unsafe.Sizeof(int32(0))
	}
	return int(*(*int32)(unsafe.Add(unsafe.Pointer(info), off)))
}

// killRound is the pause between two rounds of killing what is left of
// a tree: a process forked while a round was being sent is found by the
// next one (reparented to this process if its parent died meanwhile).
const killRound = 5 * time.Millisecond

// awaitLeaderInTree reaps the other children of this subreaper (orphans
// of the tree) as they exit, until the command itself has exited, which
// it leaves unreaped.
func (c *Child) awaitLeaderInTree() {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOWAIT, nil)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return // ECHILD: cannot happen while the leader is unreaped
		}
		pid := siginfoPID(&info)
		if pid == c.pid {
			return
		}
		var ws unix.WaitStatus
		_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
	}
}

// killRest kills every process of the tree but the exited leader, round
// after round, and reaps those that are this process's children, until
// nothing but the leader is left.
func (c *Child) killRest() {
	for {
		rest := descendants(os.Getpid(), c.pid)
		if len(rest) == 0 {
			return
		}
		c.kill(rest)
		reapChildren(rest)
		time.Sleep(killRound)
	}
}

// signalTree sends sig to every process of the tree. SIGKILL goes first
// to the cgroup and the command's process group, which costs a system
// call or two, then to each process found in /proc.
func (c *Child) signalTree(sig syscall.Signal) {
	if sig == syscall.SIGKILL {
		if c.cg != nil {
			c.cg.kill()
		}
		_ = unix.Kill(-c.pid, unix.SIGKILL) // the leader is unreaped: its group ID is ours
		c.kill(descendants(os.Getpid()))
		return
	}
	self := os.Getpid()
	for _, pid := range descendants(self) {
		signalBelow(pid, self, unix.Signal(sig))
	}
}

// kill sends SIGKILL to the cgroup, when there is one, then to each of
// pids that is still below this process.
func (c *Child) kill(pids []int) {
	if c.cg != nil {
		c.cg.kill()
	}
	self := os.Getpid()
	for _, pid := range pids {
		signalBelow(pid, self, unix.SIGKILL)
	}
}

// reapChildren reaps those of pids that are exited children of this
// process, without blocking.
func reapChildren(pids []int) {
	self := os.Getpid()
	for _, pid := range pids {
		if ppid, ok := parentOf(pid); ok && ppid == self {
			var ws unix.WaitStatus
			_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		}
	}
}

// KillStrays kills every process below this one except keep and what is
// below keep, and reaps those that are its children, until none is left;
// it returns how many it found. A subreaper calls it after a child that
// ran a process tree died without cleaning up: the kernel reparented the
// tree's survivors to it.
func KillStrays(keep ...int) int {
	self, seen := os.Getpid(), map[int]bool{}
	for {
		rest := descendants(self, keep...)
		if len(rest) == 0 {
			removeOrphanCgroups()
			return len(seen)
		}
		for _, pid := range rest {
			seen[pid] = true
			signalBelow(pid, self, unix.SIGKILL)
		}
		reapChildren(rest)
		time.Sleep(killRound)
	}
}
