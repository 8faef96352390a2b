package testbed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timeouts of the testbed. They are generous: the CI machine has 2 cores
// shared by several test binaries.
const (
	readyTimeout = 90 * time.Second
	stopTimeout  = 30 * time.Second
)

// Process is one running service program. Its methods are safe for
// concurrent use. Start functions return services whose Process is running
// and ready; Restart starts the same command again, on the same ports and
// data.
type Process struct {
	name     string
	path     string
	args     []string
	dir      string
	env      []string
	cred     *syscall.Credential
	logPath  string
	stopSig  syscall.Signal
	ready    func(ctx context.Context) error
	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
	waitErr  error
	exitCode int
	startCnt int
	lastPID  int   // leader of the last run: its process group may outlive it
	logFrom  int64 // size of the log when the last run started
}

// procSpec describes how to run and probe a service program.
type procSpec struct {
	name    string   // short name for messages, e.g. "redis"
	path    string   // executable
	args    []string // arguments
	dir     string   // working directory; its log goes to <logDir>/<name>.log
	logDir  string
	env     []string // extra environment
	asUser  bool     // run as the unprivileged user when root
	stopSig syscall.Signal
	ready   func(ctx context.Context) error
	netns   *NetNode // run inside this node's network namespace (nil: the host's)
}

// startProcess starts spec, waits until it is ready, and registers its stop
// as a cleanup of t. It fails t with the program's log when it does not
// become ready.
func startProcess(t testing.TB, spec procSpec) *Process {
	t.Helper()
	p := newProcess(t, spec)
	p.launch(t)
	return p
}

// startRetrying is startProcess for programs whose ports the testbed
// picks: when the program fails because another program took one of its
// ports first, build is called again (it picks new ports), up to 3 times.
func startRetrying(t testing.TB, build func() procSpec) *Process {
	t.Helper()
	for attempt := 1; ; attempt++ {
		p := newProcess(t, build())
		err := p.tryLaunch()
		if err == nil {
			return p
		}
		if attempt < 3 && p.portTaken() {
			t.Logf("testbed: %s: a port was taken by another program; retrying with new ports", p.name)
			continue
		}
		t.Fatalf("testbed: %v", err)
	}
}

// newProcess prepares a Process for spec and registers its stop as a
// cleanup of t.
func newProcess(t testing.TB, spec procSpec) *Process {
	t.Helper()
	p := &Process{
		name: spec.name, path: spec.path, args: spec.args, dir: spec.dir,
		env: spec.env, logPath: spec.logDir + "/" + spec.name + ".log",
		stopSig: spec.stopSig, ready: spec.ready,
	}
	if spec.netns != nil {
		p.path, p.args = spec.netns.InNS(append([]string{spec.path}, spec.args...)...)
	}
	if p.stopSig == 0 {
		p.stopSig = syscall.SIGTERM
	}
	if spec.asUser {
		p.cred = serviceCredential(t)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Logf("testbed: %v", err)
		}
		p.killRemains()
	})
	return p
}

// launch starts the program and waits for it to be ready, failing t if not.
func (p *Process) launch(t testing.TB) {
	t.Helper()
	if err := p.tryLaunch(); err != nil {
		t.Fatalf("testbed: %v", err)
	}
}

// tryLaunch starts the program and waits for it to be ready; on failure
// the program is killed and the error holds the end of its log.
func (p *Process) tryLaunch() error {
	if err := p.start(); err != nil {
		return err
	}
	if err := p.waitReady(readyTimeout); err != nil {
		_ = p.Kill()
		return fmt.Errorf("%w\n--- %s log (%s) ---\n%s", err, p.name, p.logPath, p.LogTail(40))
	}
	return nil
}

// portTaken reports whether the log of the last run says that a port was
// in use.
func (p *Process) portTaken() bool {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return false
	}
	p.mu.Lock()
	from := p.logFrom
	p.mu.Unlock()
	if from > int64(len(b)) {
		from = 0
	}
	return strings.Contains(strings.ToLower(string(b[from:])), "address already in use")
}

func (p *Process) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("start %s: already running as pid %d", p.name, p.cmd.Process.Pid)
	}
	log, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: open log: %w", p.name, err)
	}
	defer log.Close()
	if st, err := log.Stat(); err == nil {
		p.logFrom = st.Size()
	}
	p.startCnt++
	fmt.Fprintf(log, "=== testbed: start #%d: %s %s\n", p.startCnt, p.path, strings.Join(p.args, " "))
	cmd := exec.Command(p.path, p.args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = p.dir, log, log
	cmd.Env = append(os.Environ(), p.env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: p.cred}
	if err := startOnStableThread(cmd); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.lastPID = cmd, done, cmd.Process.Pid
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.waitErr, p.cmd, p.exitCode = err, nil, cmd.ProcessState.ExitCode()
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// waitReady polls the readiness probe until it succeeds, the process exits
// or the timeout passes. A probe in flight is abandoned when the process
// exits.
func (p *Process) waitReady(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := p.Done()
	var last error
	for {
		pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
		res := make(chan error, 1)
		go func() { res <- p.ready(pctx) }()
		select {
		case last = <-res:
		case <-done:
			last = errors.New("the program exited")
		}
		pcancel()
		if last == nil && p.Running() {
			return nil // still running: the answer was not another program's
		}
		select {
		case <-done:
			return fmt.Errorf("%s exited before it was ready: %v (last probe: %v)", p.name, p.exitErr(), last)
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s: %w", p.name, timeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Name returns the service's short name, e.g. "postgres".
func (p *Process) Name() string { return p.name }

// PID returns the process id, or 0 when the process is not running.
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Running reports whether the process is running (possibly paused).
func (p *Process) Running() bool { return p.PID() != 0 }

// Done returns a channel closed when the current run of the process exits
// (already closed when it is not running).
func (p *Process) Done() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return p.done
}

// ExitCode returns the exit status of the last run, -1 when it was ended
// by a signal or is still running.
func (p *Process) ExitCode() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return -1
	}
	return p.exitCode
}

func (p *Process) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waitErr
}

// Stop asks the program to stop (SIGTERM, or SIGINT for PostgreSQL's fast
// shutdown), resumes it if it was paused, and waits until it has exited. A
// program still running after 30 s is killed. Stop on a stopped process
// does nothing.
func (p *Process) Stop() error {
	pid, done := p.PID(), p.Done()
	if pid == 0 {
		return nil
	}
	if err := syscall.Kill(pid, p.stopSig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s (pid %d): %w", p.name, pid, err)
	}
	_ = syscall.Kill(-pid, syscall.SIGCONT)
	select {
	case <-done:
		return nil
	case <-time.After(stopTimeout):
	}
	if err := p.Kill(); err != nil {
		return err
	}
	return fmt.Errorf("stop %s (pid %d): still running after %s, killed", p.name, pid, stopTimeout)
}

// Kill sends SIGKILL to the program's whole process group (PostgreSQL's
// backends included) and waits until the program has exited. On a process
// whose leader already exited, it kills what is left of its group.
func (p *Process) Kill() error {
	return p.signalGroup(syscall.SIGKILL, "kill", true)
}

// Pause stops the program's whole process group with SIGSTOP: it keeps its
// sockets open but answers nothing until Resume.
func (p *Process) Pause() error {
	return p.signalGroup(syscall.SIGSTOP, "pause", false)
}

// Resume continues a paused program (SIGCONT to its process group).
func (p *Process) Resume() error {
	return p.signalGroup(syscall.SIGCONT, "resume", false)
}

// Signal sends sig to the program (not its group).
func (p *Process) Signal(sig syscall.Signal) error {
	pid := p.PID()
	if pid == 0 {
		return fmt.Errorf("signal %s: not running", p.name)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("signal %s (pid %d) with %v: %w", p.name, pid, sig, err)
	}
	return nil
}

func (p *Process) signalGroup(sig syscall.Signal, op string, wait bool) error {
	pid, done := p.PID(), p.Done()
	if pid == 0 {
		if wait {
			p.killRemains()
			return nil
		}
		return fmt.Errorf("%s %s: not running", op, p.name)
	}
	// PostgreSQL's backends call setsid(): reach them as descendants. List
	// them while the tree is whole: once the leader is dead its children
	// are re-parented and no longer found. For a kill, stop the leader
	// first so that it cannot fork one more between the listing and the kill.
	if sig == syscall.SIGKILL {
		_ = syscall.Kill(pid, syscall.SIGSTOP)
	}
	desc := descendants(pid)
	if err := syscall.Kill(-pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("%s %s (pid %d): %w", op, p.name, pid, err)
	}
	for _, d := range desc {
		_ = syscall.Kill(d, sig)
	}
	if !wait {
		return nil
	}
	select {
	case <-done:
	case <-time.After(stopTimeout):
		return fmt.Errorf("%s %s (pid %d): still running after %s", op, p.name, pid, stopTimeout)
	}
	// A restart must not find a killed backend still holding shared memory.
	if !waitGone(desc, stopTimeout) {
		return fmt.Errorf("%s %s (pid %d): descendants still running after %s", op, p.name, pid, stopTimeout)
	}
	return nil
}

// killRemains kills what is left of the last run's process group (children
// that outlived their leader). Linux does not reuse a pid while it names a
// process group, so this reaches only processes the testbed started.
func (p *Process) killRemains() {
	p.mu.Lock()
	pgid := p.lastPID
	p.mu.Unlock()
	if pgid > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// waitGone waits until every pid has exited (is gone or a zombie).
func waitGone(pids []int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return true
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// Restart stops the program if it runs, starts it again with the same
// command line (same ports, same data directory) and waits until it is
// ready; it fails t otherwise.
func (p *Process) Restart(t testing.TB) {
	t.Helper()
	if err := p.Stop(); err != nil {
		t.Fatalf("testbed: restart: %v", err)
	}
	p.launch(t)
}

// LogPath returns the file that receives the program's stdout and stderr.
func (p *Process) LogPath() string { return p.logPath }

// LogTail returns the last n lines of the program's log.
func (p *Process) LogTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// descendants returns the pids of the running descendants of pid, read
// from /proc.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid := parentPID(child); ppid > 0 {
			children[ppid] = append(children[ppid], child)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		next := children[queue[0]]
		queue = append(queue[1:], next...)
		out = append(out, next...)
	}
	return out
}

// parentPID reads the parent pid from /proc/<pid>/stat (0 when unknown).
func parentPID(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name is in parentheses and may hold spaces: parse after it.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}
