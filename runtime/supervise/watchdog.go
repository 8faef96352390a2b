package supervise

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kantree-nomad/kantree-nomad/runtime/child"
)

// WatchdogConfig configures the fence watchdog: the process between the
// supervisor and the command. The supervisor starts it while it waits
// for the lock and passes it two pipes. File descriptor 3 carries 8-byte
// little-endian numbers: first the fencing token, sent once the lock is
// held, then deadlines in CLOCK_BOOTTIME nanoseconds. File descriptor 4
// carries status lines back.
type WatchdogConfig struct {
	Command   []string
	KillGrace time.Duration
	Stdout    io.Writer
	Stderr    io.Writer
	Logger    *slog.Logger
	Clock     Clock
}

// watchdogTick bounds how long the watchdog sleeps between looks at the
// clock, so a deadline passed during a suspend is seen soon after resume.
const watchdogTick = 250 * time.Millisecond

// onTime is how late the watchdog may notice the fence deadline and still
// give the command its kill grace. Later than that, the watchdog was not
// running (stopped, frozen with the tree, suspended): the grace was spent
// while it did not run, and the tree is killed at once.
const onTime = 100 * time.Millisecond

// RunWatchdog runs the command's whole process tree until the command
// exits, the supervisor asks it to stop (ctx ends), the supervisor goes
// away (fd 3 closes) or the deadline passes; it returns the command's
// exit code once nothing of the tree is left.
func RunWatchdog(ctx context.Context, cfg WatchdogConfig) int {
	syscall.CloseOnExec(3) // the command must not inherit the pipes
	syscall.CloseOnExec(4)
	if err := child.BecomeSubreaper(); err != nil {
		cfg.Logger.Error("watchdog: cannot hold the command's process tree", "reason", err.Error())
		return 1
	}
	status := os.NewFile(4, "watchdog-status")
	words := make(chan uint64)
	go readWords(os.NewFile(3, "watchdog-deadlines"), words)
	var token, first uint64
	var ok bool
	select {
	case token, ok = <-words:
	case <-ctx.Done(): // stopped while waiting for the lock
	}
	if ok {
		first, ok = <-words
	}
	if !ok {
		return 0
	}
	deadline := time.Duration(first)
	if cfg.Clock.Boottime() >= deadline {
		fmt.Fprintln(status, "fenced deadline passed before the command started")
		return 1
	}
	env := append(os.Environ(), EnvLockHeld+"=1", EnvFencingToken+"="+strconv.FormatUint(token, 10))
	c, err := child.Start(child.Spec{Path: cfg.Command[0], Args: cfg.Command[1:], Env: env, Stdout: cfg.Stdout, Stderr: cfg.Stderr, Tree: true})
	if err != nil {
		cfg.Logger.Error("watchdog: command did not start", "reason", err.Error())
		return 127
	}
	fmt.Fprintf(status, "started %d %s\n", c.PID(), c.Cgroup())
	code := watch(ctx, cfg, c, deadline, words, status)
	fmt.Fprintf(status, "exited %d\n", code) // the command is reaped: the lock may go
	return code
}

// watch is the watchdog's loop once the command runs.
func watch(ctx context.Context, cfg WatchdogConfig, c *child.Child, deadline time.Duration, deadlines <-chan uint64, status io.Writer) int {
	t := time.NewTimer(0)
	defer t.Stop()
	var shared atomic.Int64
	shared.Store(int64(deadline))
	late := make(chan time.Duration, 1)
	go killLate(cfg.Clock, &shared, c, late)
	for {
		t.Reset(min(deadline-cfg.Clock.Boottime(), watchdogTick))
		select {
		case <-c.Done():
			return c.ExitCode()
		case <-ctx.Done():
			return stopTree(cfg, c, deadline)
		case d, ok := <-deadlines:
			if !ok {
				cfg.Logger.Warn("watchdog: supervisor gone; stopping the command")
				return stopTree(cfg, c, deadline)
			}
			deadline = max(deadline, time.Duration(d))
			shared.Store(int64(deadline))
		case l := <-late:
			return fenceTree(cfg, c, l, status)
		case <-t.C:
			if late := cfg.Clock.Boottime() - deadline; late >= 0 {
				return fenceTree(cfg, c, late, status)
			}
		}
	}
}

// killLate sleeps on CLOCK_BOOTTIME until the deadline, on an OS thread
// of its own that the Go scheduler does not have to wake, and kills the
// tree the moment it wakes more than onTime past the deadline: after a
// freeze or a suspend of the whole task, the resumed command may run only
// for as long as this thread takes to be scheduled. A deadline reached on
// time is left to watch, which gives the kill grace.
func killLate(clock Clock, deadline *atomic.Int64, c *child.Child, late chan<- time.Duration) {
	runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
	for {
		d := deadline.Load()
		ts := unix.NsecToTimespec(d)
		err := unix.ClockNanosleep(unix.CLOCK_BOOTTIME, unix.TIMER_ABSTIME, &ts, nil)
		select {
		case <-c.Done():
			return
		default:
		}
		now := clock.Boottime()
		switch {
		case err != nil && !errors.Is(err, unix.EINTR):
			return // watch's timer still fences
		case deadline.Load() > int64(now):
			continue // extended meanwhile
		case now-time.Duration(d) > onTime:
			_ = c.Kill()
		}
		late <- now - time.Duration(d)
		return
	}
}

// stopTree stops the tree on request: with the kill grace before the
// fence deadline, at once (SIGKILL) past it.
func stopTree(cfg WatchdogConfig, c *child.Child, deadline time.Duration) int {
	if cfg.Clock.Boottime() >= deadline {
		_ = c.Kill()
	} else {
		_ = c.Stop(cfg.KillGrace)
	}
	return c.ExitCode()
}

// fenceTree stops the tree at the fence deadline, noticed late by late:
// SIGTERM and what is left of the kill grace when on time, SIGKILL at
// once otherwise.
func fenceTree(cfg WatchdogConfig, c *child.Child, late time.Duration, status io.Writer) int {
	if late > onTime {
		fmt.Fprintf(status, "fenced the watchdog did not run for %s past its deadline (stopped, frozen or suspended); killed at once\n", late)
		_ = c.Kill()
		return c.ExitCode()
	}
	fmt.Fprintf(status, "fenced no confirmation reached the watchdog before its deadline (%s late)\n", late)
	_ = c.Stop(cfg.KillGrace - late)
	return c.ExitCode()
}

// readWords forwards each number read from r and closes out at EOF.
func readWords(r io.ReadCloser, out chan<- uint64) {
	defer close(out)
	defer r.Close()
	var b [8]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return
		}
		out <- binary.LittleEndian.Uint64(b[:])
	}
}
