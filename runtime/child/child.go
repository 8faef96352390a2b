package child

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Spec says what to start. Args are the arguments after the program name,
// as for exec.Command. A nil Env means the current process's environment.
// Nil Stdout or Stderr discard that output. ExtraFiles become file
// descriptors 3, 4, ... of the command.
type Spec struct {
	Path       string
	Args       []string
	Env        []string
	Dir        string
	Stdout     io.Writer
	Stderr     io.Writer
	ExtraFiles []*os.File
}

// ioDrainDelay bounds how long Wait keeps copying output after the
// command's group is gone, in case something outside the group holds the
// pipe open.
const ioDrainDelay = 2 * time.Second

// Child is a started command. All its methods are safe for concurrent use.
type Child struct {
	pid  int
	done chan struct{}

	mu       sync.Mutex
	exitCode int
	waitErr  error
}

// Start starts the command described by s in a new process group whose ID
// is the command's PID, with Pdeathsig=SIGKILL. It returns once the command
// has been started (or failed to start).
func Start(s Spec) (*Child, error) {
	cmd := exec.Command(s.Path, s.Args...)
	cmd.Env, cmd.Dir = s.Env, s.Dir
	cmd.Stdout, cmd.Stderr = s.Stdout, s.Stderr
	cmd.ExtraFiles = s.ExtraFiles
	cmd.WaitDelay = ioDrainDelay
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

	c := &Child{done: make(chan struct{}), exitCode: -1}
	started := make(chan error, 1)
	go c.run(cmd, started)
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", s.Path, err)
	}
	return c, nil
}

// run forks the command and waits for it on one locked OS thread. It never
// unlocks the thread: when run returns, the runtime ends the thread, which
// is harmless because the command is already reaped by then.
func (c *Child) run(cmd *exec.Cmd, started chan<- error) {
	runtime.LockOSThread()
	if err := cmd.Start(); err != nil {
		started <- err
		return
	}
	c.pid = cmd.Process.Pid
	started <- nil

	// Wait for the leader to exit without reaping it, so its PID (the
	// group ID) stays reserved while the rest of the group is killed.
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, c.pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	_ = unix.Kill(-c.pid, unix.SIGKILL)
	err := cmd.Wait()

	c.mu.Lock()
	c.exitCode = exitCode(cmd.ProcessState)
	c.waitErr = err
	c.mu.Unlock()
	close(c.done)
}

// exitCode is the command's exit status, or 128+signal when a signal ended
// it (as a shell reports it).
func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// PID is the command's process ID, which is also its process group ID.
func (c *Child) PID() int { return c.pid }

// Done is closed once the command has exited, the rest of its process
// group has been sent SIGKILL, and the command has been reaped.
func (c *Child) Done() <-chan struct{} { return c.done }

// ExitCode is the command's exit code (128+signal if a signal ended it), or
// -1 while it is still running.
func (c *Child) ExitCode() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exitCode
}

// Signal sends sig to the command's whole process group. It does nothing
// once the command has been reaped.
func (c *Child) Signal(sig syscall.Signal) error {
	select {
	case <-c.done:
		return nil
	default:
	}
	if err := unix.Kill(-c.pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("signal process group %d: %w", c.pid, err)
	}
	return nil
}

// Stop sends SIGTERM to the command's process group, waits up to grace for
// the command to exit, then sends SIGKILL to the group. It returns only
// after the command has been reaped. Stopping a command that has already
// exited is not an error.
func (c *Child) Stop(grace time.Duration) error {
	if err := c.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-c.done:
		return nil
	case <-t.C:
	}
	if err := c.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("stop after %s grace: %w", grace, err)
	}
	<-c.done
	return nil
}
