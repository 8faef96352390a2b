package supervise_test

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/internal/kantreestub"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/rules"
)

// rig runs `kantree-nomad supervise -- platform run scheduler` processes
// against one Consul and one database, and reads what the schedulers
// wrote there.
type rig struct {
	t        *testing.T
	bin      string
	platform string
	consul   string // HTTP address the supervisors talk to
	dbURL    string
	key      string
	timings  []string
	n        int
}

// defaultTimings are supervise's defaults (jobspec's), spelled out.
var defaultTimings = []string{"-ttl", rules.DefaultLockTTL.String(), "-lock-delay", rules.DefaultLockDelay.String(),
	"-kill-grace", rules.DefaultKillGrace.String(), "-check-ttl", rules.DefaultCheckTTL.String()}

// failoverBound is the longest a standby may take to start after the
// holder died: check TTL + lock-delay + 2s (issue 5, proofs 2 and 3).
const failoverBound = rules.DefaultCheckTTL + rules.DefaultLockDelay + 2*time.Second

func newRig(t *testing.T, consulAddr string, pg *testbed.Postgres, timings []string) *rig {
	return &rig{
		t: t, bin: testbed.BuildKantreeNomad(t), platform: testbed.BuildPlatform(t),
		consul: consulAddr, dbURL: pg.CreateDatabase(t),
		key: "kantree/test/" + strings.ReplaceAll(t.Name(), "/", "-"), timings: timings,
	}
}

// event is one JSON log line of a supervisor.
type event struct {
	Time  time.Time
	Msg   string
	Attrs map[string]any
}

// supervisor is one running `kantree-nomad supervise` process.
type supervisor struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}

	mu      sync.Mutex
	events  []event
	changed chan struct{} // closed and replaced on every new event
	lines   []string
}

// start starts a supervisor whose scheduler has instance id name.
func (r *rig) start(name string) *supervisor {
	r.t.Helper()
	args := append([]string{"supervise", "-log-format", "json", "-key", r.key}, r.timings...)
	return r.startCommand(name, append(args, "--", r.platform, "run", "scheduler"), r.consul)
}

func (r *rig) startCommand(name string, args []string, consulAddr string) *supervisor {
	r.t.Helper()
	return r.startCommandWith(name, args, startOpts{consul: consulAddr})
}

// startOpts say how startCommandWith starts a supervisor.
type startOpts struct {
	consul   string   // CONSUL_HTTP_ADDR; "" for the rig's
	env      []string // more environment
	cgroupFD int      // when above 0: start it in this cgroup v2
}

func (r *rig) startCommandWith(name string, args []string, o startOpts) *supervisor {
	r.t.Helper()
	cmd := exec.Command(r.bin, args...)
	cmd.Dir = r.t.TempDir()
	cmd.Env = append(os.Environ(), "CONSUL_HTTP_ADDR="+cmp.Or(o.consul, r.consul), "DATABASE_URL="+r.dbURL,
		"KANTREE_INSTANCE_ID="+name)
	cmd.Env = append(cmd.Env, o.env...)
	// Pdeathsig: nothing survives a crashed test binary. No new process
	// group: signals in the tests go to the supervisor's PID only.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if o.cgroupFD > 0 {
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, o.cgroupFD
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		r.t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start supervisor %s: %v", name, err)
	}
	s := &supervisor{name: name, cmd: cmd, done: make(chan struct{}), changed: make(chan struct{})}
	go s.read(stderr)
	r.t.Cleanup(func() { s.cleanup(r.t) })
	return s
}

// startWrapped starts a supervisor whose command is testdata/wrapper
// running the stand-in scheduler, which the wrapper moves out of its
// process group. It returns the scheduler's PID, killed at cleanup in
// case it escaped.
func (r *rig) startWrapped(name, wrapper string) (*supervisor, int) {
	r.t.Helper()
	pidFile := filepath.Join(r.t.TempDir(), "worker.pid")
	script, err := filepath.Abs(filepath.Join("testdata", wrapper))
	if err != nil {
		r.t.Fatal(err)
	}
	args := append([]string{"supervise", "-log-format", "json", "-key", r.key}, r.timings...)
	s := r.startCommand(name, append(args, "--", script, pidFile, r.platform, "run", "scheduler"), r.consul)
	pid := readPIDFile(r.t, pidFile, 30*time.Second)
	r.t.Cleanup(func() { killIfPlatform(pid) })
	return s, pid
}

// readPIDFile waits for a PID written, with a newline, to path.
func readPIDFile(t *testing.T, path string, timeout time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(path)
		if err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatalf("pid file %s: %v", path, err)
			}
			return pid
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no pid in %s after %s", path, timeout)
	return 0
}

// killIfPlatform kills pid if it is still a stand-in platform: a test of
// the old code leaves an escaped scheduler behind.
func killIfPlatform(pid int) {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.TrimSpace(string(b)) == "platform" {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// read collects the supervisor's output: JSON lines become events; every
// line is kept for the failure report.
func (s *supervisor) read(rd io.Reader) {
	sc := bufio.NewScanner(rd)
	for sc.Scan() {
		line := sc.Text()
		var m map[string]any
		s.mu.Lock()
		s.lines = append(s.lines, line)
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] != nil {
			ts, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(m["time"]))
			s.events = append(s.events, event{Time: ts, Msg: fmt.Sprint(m["msg"]), Attrs: m})
			close(s.changed)
			s.changed = make(chan struct{})
		}
		s.mu.Unlock()
	}
	_ = s.cmd.Wait()
	close(s.done)
}

func (s *supervisor) cleanup(t *testing.T) {
	if t.Failed() {
		s.mu.Lock()
		t.Logf("output of supervisor %s:\n%s", s.name, strings.Join(s.lines, "\n"))
		s.mu.Unlock()
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// count is how many events with msg the supervisor has logged.
func (s *supervisor) count(msg string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.events {
		if e.Msg == msg {
			n++
		}
	}
	return n
}

// await waits for the n-th (1-based) event with msg.
func (s *supervisor) await(t *testing.T, msg string, n int, timeout time.Duration) event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		seen, ch := 0, s.changed
		for _, e := range s.events {
			if e.Msg == msg {
				if seen++; seen == n {
					s.mu.Unlock()
					return e
				}
			}
		}
		s.mu.Unlock()
		select {
		case <-ch:
		case <-s.done:
			t.Fatalf("supervisor %s exited (code %d) before logging %q #%d", s.name, s.exitCode(), msg, n)
		case <-deadline:
			t.Fatalf("supervisor %s: no %q #%d within %s", s.name, msg, n, timeout)
		}
	}
}

// childPID is the PID of the command from the n-th "command started".
func (s *supervisor) childPID(t *testing.T, n int) int {
	t.Helper()
	e := s.await(t, "command started", n, 30*time.Second)
	pid, err := strconv.Atoi(fmt.Sprint(e.Attrs["pid"]))
	if err != nil {
		t.Fatalf("command started without a pid: %v", e.Attrs)
	}
	return pid
}

func (s *supervisor) signal(t *testing.T, sig syscall.Signal) time.Time {
	t.Helper()
	at := time.Now()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %s: %v", s.name, err)
	}
	return at
}

// wait waits for the supervisor to exit and returns its exit code.
func (s *supervisor) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-s.done:
		return s.exitCode()
	case <-time.After(timeout):
		t.Fatalf("supervisor %s still running after %s", s.name, timeout)
		return -1
	}
}

func (s *supervisor) exitCode() int {
	if s.cmd.ProcessState == nil {
		return -1
	}
	return s.cmd.ProcessState.ExitCode()
}

// runs reads the scheduler runs from the database.
func (r *rig) runs(t *testing.T) []kantreestub.SchedulerRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, r.dbURL)
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	defer conn.Close(ctx)
	runs, err := kantreestub.SchedulerRuns(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// awaitRuns waits until the database has at least n scheduler runs.
func (r *rig) awaitRuns(t *testing.T, n int, timeout time.Duration) []kantreestub.SchedulerRun {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		runs := r.runs(t)
		if len(runs) >= n {
			return runs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d scheduler runs in the database after %s, want %d", len(runs), timeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkRuns asserts what must hold for every history: no overlap, every
// run held the lock, and fencing tokens strictly increase run after run.
func (r *rig) checkRuns(t *testing.T, runs []kantreestub.SchedulerRun) {
	t.Helper()
	ov := kantreestub.Overlap(runs)
	t.Logf("%d scheduler runs, overlap %s (from PostgreSQL heartbeats)", len(runs), ov)
	if ov != 0 {
		for _, run := range runs {
			t.Logf("run %s instance %s token %s: %s .. %s", run.RunID, run.InstanceID, run.FencingToken,
				run.First.Format("15:04:05.000"), run.Last.Format("15:04:05.000"))
		}
		t.Errorf("schedulers overlapped for %s", ov)
	}
	var prev uint64
	for _, run := range runs {
		tok, err := strconv.ParseUint(run.FencingToken, 10, 64)
		if !run.LockHeld || err != nil {
			t.Errorf("run %s: lock_held=%v fencing_token=%q, want true and a number", run.RunID, run.LockHeld, run.FencingToken)
		}
		if tok <= prev {
			t.Errorf("run %s: fencing token %d not above the previous run's %d", run.RunID, tok, prev)
		}
		prev = tok
	}
}

// gone reports whether pid has exited (or is a zombie).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
}

// awaitGone waits until pid has exited and returns when it noticed.
func awaitGone(t *testing.T, pid int, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !gone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still running after %s", pid, timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Now()
}

// percentile is the nearest-rank p-th percentile of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s) + 99) / 100
	return s[max(i-1, 0)]
}
