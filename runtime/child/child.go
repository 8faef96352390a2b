package child

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
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

	// Tree makes the unit the command's whole process tree, including
	// descendants that leave its process group or session: they are
	// signalled, killed and reaped with it, and Done waits for all of
	// them. It requires a process that is a child subreaper
	// (BecomeSubreaper) and starts no other child while this one runs:
	// every child it has is taken as part of the tree. Where the host
	// allows it, the command also gets a cgroup v2 of its own, killed at
	// once with cgroup.kill.
	Tree bool
	// Outlive leaves the command running when the process that started
	// it dies (no Pdeathsig), for a command that watches its parent
	// itself and cleans up before it exits.
	Outlive bool
}

// ioDrainDelay bounds how long Wait keeps copying output after the
// command is gone, in case something outside it holds the pipe open.
const ioDrainDelay = 2 * time.Second

// Child is a started command. All its methods are safe for concurrent use.
type Child struct {
	pid  int
	tree bool
	cg   *cgroup // nil without a cgroup of its own
	done chan struct{}

	mu       sync.Mutex
	exitCode int
	waitErr  error
}

// cgroupSeq makes the names of the cgroups of one process unique.
var cgroupSeq atomic.Int64

// Start starts the command described by s in a new process group whose ID
// is the command's PID, with Pdeathsig=SIGKILL unless s.Outlive. It
// returns once the command has been started (or failed to start).
func Start(s Spec) (*Child, error) {
	if s.Tree && !isSubreaper() {
		return nil, fmt.Errorf("start %s: a process tree needs a child subreaper (call BecomeSubreaper first)", s.Path)
	}
	cmd := exec.Command(s.Path, s.Args...)
	cmd.Env, cmd.Dir = s.Env, s.Dir
	cmd.Stdout, cmd.Stderr = s.Stdout, s.Stderr
	cmd.ExtraFiles = s.ExtraFiles
	cmd.WaitDelay = ioDrainDelay
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if s.Outlive {
		cmd.SysProcAttr.Pdeathsig = 0
	}
	c := &Child{tree: s.Tree, done: make(chan struct{}), exitCode: -1}
	if s.Tree {
		c.cg = newCgroup(fmt.Sprintf("kantree-nomad-%d-%d", os.Getpid(), cgroupSeq.Add(1)))
	}
	if c.cg != nil {
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, int(c.cg.fd.Fd())
	}
	started := make(chan error, 1)
	go c.run(cmd, started)
	if err := <-started; err != nil {
		if c.cg != nil {
			_ = c.cg.remove()
		}
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

	// Wait for the leader to exit without reaping it, so that its PID
	// (the group ID) stays reserved while the rest is killed.
	if c.tree {
		c.awaitLeaderInTree()
		c.killRest()
	} else {
		c.awaitLeader()
		_ = unix.Kill(-c.pid, unix.SIGKILL)
	}
	err := cmd.Wait()
	c.mu.Lock()
	c.exitCode = exitCode(cmd.ProcessState)
	c.waitErr = err
	c.mu.Unlock()
	close(c.done)
	// The tree is gone: every process of it is reaped. Removing its empty
	// cgroup waits for the kernel to release it (tens of milliseconds),
	// which a supervisor handing the lock over must not wait for.
	if c.cg != nil {
		_ = c.cg.remove()
	}
}

// awaitLeader waits until the command has exited, leaving it unreaped.
func (c *Child) awaitLeader() {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, c.pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return
		}
	}
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

// Cgroup is the directory of the command's own cgroup v2, or "" when it
// has none.
func (c *Child) Cgroup() string {
	if c.cg == nil {
		return ""
	}
	return c.cg.dir
}

// Done is closed once the command has exited, the rest of its process
// group (with Tree: of its process tree) has been killed, and all of it
// has been reaped.
func (c *Child) Done() <-chan struct{} { return c.done }

// ExitCode is the command's exit code (128+signal if a signal ended it), or
// -1 while it is still running.
func (c *Child) ExitCode() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exitCode
}

// Signal sends sig to the command's whole process group (with Tree: to
// every process of its tree). It does nothing once the command has been
// reaped.
func (c *Child) Signal(sig syscall.Signal) error {
	select {
	case <-c.done:
		return nil
	default:
	}
	if c.tree {
		c.signalTree(sig)
		return nil
	}
	if err := unix.Kill(-c.pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("signal process group %d: %w", c.pid, err)
	}
	return nil
}

// Stop sends SIGTERM to the command's process group (or tree), waits up
// to grace for the command to exit, then kills what is left. It returns
// only after all of it has been reaped. Stopping a command that has
// already exited is not an error.
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
	if err := c.Kill(); err != nil {
		return fmt.Errorf("stop after %s grace: %w", grace, err)
	}
	return nil
}

// Kill sends SIGKILL to the command's process group (or tree) at once,
// without grace, and returns after all of it has been reaped.
func (c *Child) Kill() error {
	if err := c.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-c.done
	return nil
}
