package supervise

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kantree-nomad/kantree-nomad/runtime/child"
)

// watchdogSlack is how much longer than the kill grace the supervisor
// waits for the watchdog to stop the command before it kills the
// watchdog (whose death then kills the command through Pdeathsig).
const watchdogSlack = 2 * time.Second

// fence is the supervisor's end of the watchdog process that runs the
// command.
type fence struct {
	proc      *child.Child
	deadlines *os.File      // write end: absolute CLOCK_BOOTTIME deadlines
	gone      chan struct{} // closed once the command has been reaped

	mu     sync.Mutex
	fenced string // why the watchdog fenced the command, if it did
	code   int    // the command's exit code, once gone
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
	f.proc, err = child.Start(child.Spec{
		Path: argv[0], Args: argv[1:], Env: withoutLockEnv(s.cfg.Env),
		Stdout: s.cfg.Stdout, Stderr: s.cfg.Stderr, ExtraFiles: []*os.File{dr, sw},
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

// withoutLockEnv is env without the lock variables: only the watchdog
// sets them, once the lock is held.
func withoutLockEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, EnvLockHeld+"=") && !strings.HasPrefix(kv, EnvFencingToken+"=") {
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

// readStatus follows the watchdog's status lines: "started PID",
// "fenced REASON" and "exited CODE", written once the command has been
// reaped. A watchdog that dies without "exited" took the command with it
// (Pdeathsig); its own exit then stands for the command's.
func (f *fence) readStatus(r *os.File, s *Supervisor) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		word, rest, _ := strings.Cut(sc.Text(), " ")
		switch word {
		case "started":
			s.log.Info("command started", "pid", rest)
		case "fenced":
			f.mu.Lock()
			f.fenced = rest
			f.mu.Unlock()
		case "exited":
			code, _ := strconv.Atoi(rest)
			f.markGone(code)
			return
		}
	}
	<-f.proc.Done()
	f.markGone(f.proc.ExitCode())
}

func (f *fence) markGone(code int) {
	f.mu.Lock()
	f.code = code
	f.mu.Unlock()
	close(f.gone)
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

// stop asks the watchdog to stop the command (SIGTERM, grace, SIGKILL)
// and returns once the command has been reaped. A watchdog that does not
// answer in time is killed, and the command dies with it. The watchdog
// process itself is reaped in the background.
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
