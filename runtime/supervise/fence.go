package supervise

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kantree-nomad/kantree-nomad/runtime/child"
)

// watchdogSlack is how much longer than the kill grace the supervisor
// waits for the watchdog to stop the command before it kills the
// watchdog, then what the watchdog left (see readStatus).
const watchdogSlack = 2 * time.Second

// fence is the supervisor's end of the watchdog process that runs the
// command.
type fence struct {
	proc      *child.Child
	deadlines *os.File      // write end: absolute CLOCK_BOOTTIME deadlines
	gone      chan struct{} // closed once the command's whole tree has been reaped

	mu     sync.Mutex
	fenced string // why the watchdog fenced the command, if it did
	code   int    // the command's exit code, once gone
	died   bool   // the watchdog died before it reported the tree gone
	strays int    // processes of the tree the supervisor had to kill then
}

// startFence starts the watchdog while the lock is still awaited, so
// that taking over costs no program start. The watchdog waits for begin.
func (s *Supervisor) startFence() (*fence, error) {
	dr, dw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	sr, sw, err := os.Pipe()
	if err != nil {
		dr.Close()
		dw.Close()
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	f := &fence{deadlines: dw, gone: make(chan struct{})}
	argv := append(append(append([]string{}, s.cfg.Watchdog...), "--"), s.cfg.Command...)
	// Outlive: when the supervisor dies, the watchdog sees fd 3 close
	// and stops the whole tree before it exits; a Pdeathsig would kill it
	// first and leave the tree's escaped processes running.
	f.proc, err = child.Start(child.Spec{
		Path: argv[0], Args: argv[1:], Env: watchdogEnv(s.cfg.Env),
		Stdout: s.cfg.Stdout, Stderr: s.cfg.Stderr, ExtraFiles: []*os.File{dr, sw},
		Outlive: true,
	})
	dr.Close()
	sw.Close()
	if err != nil {
		dw.Close()
		sr.Close()
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	go f.readStatus(sr, s)
	return f, nil
}

// consulCredentials are the environment variables through which a
// Consul client finds credentials. The command never gets them: with the
// lock's token it could delete the lock key, the one way to make two
// holders at once.
var consulCredentials = []string{
	"CONSUL_HTTP_TOKEN", "CONSUL_HTTP_TOKEN_FILE", "CONSUL_HTTP_AUTH",
	"CONSUL_CLIENT_CERT", "CONSUL_CLIENT_KEY", "CONSUL_TOKEN",
}

// watchdogEnv is env without the lock variables (only the watchdog sets
// them, once the lock is held) and without Consul credentials; the
// watchdog passes it on to the command.
func watchdogEnv(env []string) []string {
	drop := append([]string{EnvLockHeld, EnvFencingToken}, consulCredentials...)
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(drop, name) {
			out = append(out, kv)
		}
	}
	return out
}

// begin tells the watchdog the lock is held: it starts the command with
// this fencing token, to be killed at deadline unless extended.
func (f *fence) begin(token uint64, deadline time.Duration) {
	f.write(token)
	f.extend(deadline)
}

// extend sends a new deadline. A dead watchdog is noticed through Done.
func (f *fence) extend(deadline time.Duration) { f.write(uint64(deadline)) }

func (f *fence) write(v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	_, _ = f.deadlines.Write(b[:])
}

// readStatus follows the watchdog's status lines: "started PID [CGROUP]",
// "fenced REASON" and "exited CODE", written once the command's whole
// tree has been reaped. A watchdog that dies without "exited" (killed)
// is not a command exit: its death killed the command (Pdeathsig), and
// the kernel gave the rest of the tree to the supervisor, a child
// subreaper, which kills it before it reports the tree gone.
func (f *fence) readStatus(r *os.File, s *Supervisor) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		word, rest, _ := strings.Cut(sc.Text(), " ")
		switch word {
		case "started":
			pid, cg, _ := strings.Cut(rest, " ")
			s.log.Info("command started", "pid", pid, "cgroup", cg)
		case "fenced":
			f.mu.Lock()
			f.fenced = rest
			f.mu.Unlock()
		case "exited":
			code, _ := strconv.Atoi(rest)
			f.markGone(code, false, 0)
			return
		}
	}
	<-f.proc.Done()
	f.markGone(f.proc.ExitCode(), true, child.KillStrays())
}

func (f *fence) markGone(code int, died bool, strays int) {
	f.mu.Lock()
	f.code, f.died, f.strays = code, died, strays
	f.mu.Unlock()
	close(f.gone)
}

// watchdogDied reports whether the watchdog died before it reported the
// tree gone, and how many of the tree's processes the supervisor killed
// then; call it after gone is closed.
func (f *fence) watchdogDied() (bool, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.died, f.strays
}

// exitCode is the command's exit code; call it after gone is closed.
func (f *fence) exitCode() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.code
}

// fencedReason is why the watchdog fenced the command, or ""; call it
// after gone is closed.
func (f *fence) fencedReason() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fenced
}

// stop asks the watchdog to stop the command (SIGTERM, grace, SIGKILL;
// SIGKILL at once past the fence deadline) and returns once the
// command's tree has been reaped. A watchdog that does not answer in time
// is killed, and what it leaves is killed by readStatus.
func (f *fence) stop(grace time.Duration) {
	defer f.deadlines.Close()
	_ = f.proc.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace + watchdogSlack)
	defer t.Stop()
	select {
	case <-f.gone:
		return
	case <-t.C:
	}
	_ = f.proc.Signal(syscall.SIGKILL)
	<-f.gone
}
