package child

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// parentOf reads the parent PID of pid from /proc; ok is false when pid
// does not exist (any more).
func parentOf(pid int) (ppid int, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces or ')': the
	// fields that follow start after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:]) // state, ppid, ...
	if len(f) < 2 {
		return 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, err == nil
}

// parents maps every process on the machine to its parent.
func parents() map[int]int {
	entries, _ := os.ReadDir("/proc")
	m := make(map[int]int, len(entries))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(pid); ok {
			m[pid] = ppid
		}
	}
	return m
}

// descendants lists the processes below root (not root itself), zombies
// included, leaving out the processes in skip and everything below them.
func descendants(root int, skip ...int) []int {
	kids := map[int][]int{}
	for pid, ppid := range parents() {
		kids[ppid] = append(kids[ppid], pid)
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, k := range kids[p] {
			if !contains(skip, k) {
				out = append(out, k)
				queue = append(queue, k)
			}
		}
	}
	return out
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// descendsFrom reports whether root is an ancestor of pid.
func descendsFrom(pid, root int) bool {
	for i := 0; i < 4096 && pid > 1; i++ {
		ppid, ok := parentOf(pid)
		if !ok {
			return false
		}
		if ppid == root {
			return true
		}
		pid = ppid
	}
	return false
}

// signalBelow sends sig to pid if pid is still below root. A pidfd pins
// the process while its ancestry is checked, so a PID reused by an
// unrelated process after a scan is never signalled.
func signalBelow(pid, root int, sig unix.Signal) {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ENOSYS) {
		if descendsFrom(pid, root) {
			_ = unix.Kill(pid, sig)
		}
		return
	}
	if err != nil {
		return // gone
	}
	defer unix.Close(fd)
	if descendsFrom(pid, root) {
		_ = unix.PidfdSendSignal(fd, sig, nil, 0)
	}
}

// BecomeSubreaper makes this process a child subreaper
// (PR_SET_CHILD_SUBREAPER): a process below it whose parent dies is
// reparented to it instead of to init. Neither fork nor setsid can take a
// process out from under a subreaper.
func BecomeSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become child subreaper: %w", err)
	}
	return nil
}

// isSubreaper reports whether this process is a child subreaper.
func isSubreaper() bool {
	v := new(int32)
	err := unix.Prctl(unix.PR_GET_CHILD_SUBREAPER, uintptr(unsafe.Pointer(v)), 0, 0, 0)
	runtime.KeepAlive(v)
	return err == nil && *v != 0
}
