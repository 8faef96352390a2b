//go:build faults

package supervise_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// The cases of issue 10 (supervise, 1 to 4): a command that is not one
// process. Each measures overlap from the schedulers' own heartbeats.

// TestFaultEscapedWorkerSupervisorKilled is case 1: the command's worker
// runs in a process group of its own; SIGKILL of the supervisor. The
// watchdog sees the supervisor gone and stops the whole tree before a
// standby can take over.
func TestFaultEscapedWorkerSupervisorKilled(t *testing.T) {
	r := newRig(t, sharedConsul(t).HTTPAddr, sharedPostgres(t), defaultTimings)
	a, worker := r.startWrapped("a", "pgroup-wrapper.sh")
	b := r.start("b")
	b.await(t, "waiting", 1, 30*time.Second)
	r.awaitRuns(t, 1, 10*time.Second)

	killed := a.signal(t, syscall.SIGKILL)
	died := awaitGone(t, worker, 15*time.Second).Sub(killed)
	started := b.await(t, "command started", 1, 30*time.Second).Time.Sub(killed)
	t.Logf("escaped worker gone %s after its supervisor's SIGKILL; standby's command started %s after it", died, started)
	if died >= started {
		t.Errorf("escaped worker lived until %s, the standby started at %s", died, started)
	}
	time.Sleep(time.Second) // an escaped worker would beat meanwhile
	r.checkRuns(t, r.awaitRuns(t, 2, 10*time.Second))
}

// TestFaultWatchdogKilled is case 2: SIGKILL of the watchdog alone is not
// a command exit. The supervisor kills what is left of the tree, does not
// release the lock, and a standby waits out the lock-delay.
func TestFaultWatchdogKilled(t *testing.T) {
	r := newRig(t, sharedConsul(t).HTTPAddr, sharedPostgres(t), defaultTimings)
	a, worker := r.startWrapped("a", "pgroup-wrapper.sh")
	watchdog := int(a.await(t, "acquired", 1, 30*time.Second).Attrs["watchdog_pid"].(float64))
	b := r.start("b")
	b.await(t, "waiting", 1, 30*time.Second)
	r.awaitRuns(t, 1, 10*time.Second)

	killed := time.Now()
	if err := syscall.Kill(watchdog, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	died := awaitGone(t, worker, 15*time.Second).Sub(killed)
	t.Logf("worker gone %s after the watchdog's SIGKILL", died)
	awaitNextStart(t, a, b, killed)
	if n := a.count("released"); n != 0 {
		t.Errorf("the supervisor released the lock %d times after its watchdog was killed, want 0", n)
	}
	time.Sleep(time.Second)
	r.checkRuns(t, r.awaitRuns(t, 2, 10*time.Second))
}

// awaitNextStart waits for the next command start after since, by a (its
// second) or b (its first): after a fence both wait for the lock again.
func awaitNextStart(t *testing.T, a, b *supervisor, since time.Time) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range []struct {
			s *supervisor
			n int
		}{{a, 2}, {b, 1}} {
			if e.s.count("command started") >= e.n {
				at := e.s.await(t, "command started", e.n, time.Second).Time.Sub(since)
				t.Logf("supervisor %s started the command %s after the watchdog was killed", e.s.name, at)
				if min := rules.DefaultLockDelay - 200*time.Millisecond; at < min {
					t.Errorf("the command started again %s after the watchdog died, want at least the lock-delay (%s)", at, rules.DefaultLockDelay)
				}
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no command started within 30s of the watchdog's death")
}

// TestFaultSetsidWorkerFenced is case 3: the worker calls setsid; the
// supervisor is stopped (SIGSTOP) past the TTL. The watchdog fences the
// whole tree, setsid or not, before the standby starts.
func TestFaultSetsidWorkerFenced(t *testing.T) {
	r := newRig(t, sharedConsul(t).HTTPAddr, sharedPostgres(t), defaultTimings)
	a, worker := r.startWrapped("a", "setsid-wrapper.sh")
	b := r.start("b")
	b.await(t, "waiting", 1, 30*time.Second)
	r.awaitRuns(t, 1, 10*time.Second)

	stopped := a.signal(t, syscall.SIGSTOP)
	died := awaitGone(t, worker, 15*time.Second).Sub(stopped)
	started := b.await(t, "command started", 1, 30*time.Second).Time.Sub(stopped)
	time.Sleep(time.Until(stopped.Add(11 * time.Second)))
	a.signal(t, syscall.SIGCONT)
	a.await(t, "waiting", 2, 15*time.Second)
	t.Logf("setsid worker gone %s after SIGSTOP of its supervisor; standby's command started %s after it", died, started)
	if died >= started {
		t.Errorf("setsid worker lived until %s, the standby started at %s", died, started)
	}
	time.Sleep(time.Second)
	r.checkRuns(t, r.awaitRuns(t, 2, 10*time.Second))
}

// TestFaultFrozenTreeKilledAtOnce is case 4: supervisor, watchdog and
// command frozen together (a cgroup freeze where the host allows one,
// else SIGSTOP of every process) past the point where a standby takes
// over, then resumed. The scheduler would take 5 s to stop after SIGTERM;
// past the deadline it must be killed at once, without grace.
func TestFaultFrozenTreeKilledAtOnce(t *testing.T) {
	r := newRig(t, sharedConsul(t).HTTPAddr, sharedPostgres(t), defaultTimings)
	fr := newFreezer(t)
	args := append([]string{"supervise", "-log-format", "json", "-key", r.key}, r.timings...)
	a := r.startCommandWith("a", append(args, "--", r.platform, "run", "scheduler"),
		startOpts{env: []string{"KANTREE_STUB_STOP_SECONDS=5"}, cgroupFD: fr.fd()})
	child := a.childPID(t, 1)
	b := r.start("b")
	b.await(t, "waiting", 1, 30*time.Second)
	r.awaitRuns(t, 1, 10*time.Second)

	frozen := time.Now()
	fr.freeze(t, a.cmd.Process.Pid)
	started := b.await(t, "command started", 1, 30*time.Second).Time.Sub(frozen)
	time.Sleep(time.Until(frozen.Add(started + time.Second)))
	thawed := time.Now()
	fr.thaw(t)
	died := awaitGone(t, child, 15*time.Second).Sub(thawed)
	a.await(t, "waiting", 2, 15*time.Second) // fenced, or lost: whichever of its loops woke first
	t.Logf("frozen with %s (supervisor, watchdog and scheduler) at %s, thawed at %s; standby started %s after the freeze; old scheduler gone %s after the thaw",
		fr.kind, frozen.Format("15:04:05.000"), thawed.Format("15:04:05.000"), started, died)
	if died > time.Second {
		t.Errorf("old scheduler lived %s after the thaw, want it killed at once", died)
	}
	time.Sleep(time.Second)
	runs := r.awaitRuns(t, 2, 10*time.Second)
	old := runs[0]
	// Overlap in time run: the old scheduler ran again only from the thaw
	// to its last heartbeat (its run spans the freeze, when it did not
	// run). Thawed together with its watchdog, it can send one heartbeat
	// before the SIGKILL lands: a limit of any fence that runs beside the
	// command (the doc says so). Without grace that is one heartbeat.
	after := old.Last.Sub(thawed)
	t.Logf("old scheduler ran %s after the thaw (its last heartbeat); the standby's first heartbeat was %s before the thaw",
		max(after, 0), thawed.Sub(runs[1].First))
	if after > 100*time.Millisecond {
		t.Errorf("old scheduler beat %s after the thaw, want it killed at once", after)
	}
	if old.Stopped {
		t.Errorf("the old scheduler wrote its stop row: it got a SIGTERM grace past its deadline")
	}
	if len(runs) != 2 {
		t.Errorf("%d scheduler runs, want 2", len(runs))
	}
}

// freezer freezes a supervisor with everything below it: a cgroup v2 of
// the test's where the host allows one (the supervisor is started in it),
// else SIGSTOP of each process.
type freezer struct {
	kind string
	dir  string   // the cgroup, or ""
	f    *os.File // its directory
	pids []int    // what SIGSTOP stopped
}

func newFreezer(t *testing.T) *freezer {
	t.Helper()
	own, err := ownCgroup()
	if err != nil {
		return &freezer{kind: "SIGSTOP of each process (" + err.Error() + ")"}
	}
	dir := filepath.Join(own, "kantree-test-"+strconv.Itoa(os.Getpid())+"-"+strings.ReplaceAll(t.Name(), "/", "-"))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return &freezer{kind: "SIGSTOP of each process (" + err.Error() + ")"}
	}
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("0"), 0)
		f.Close()
		for i := 0; i < 200 && os.Remove(dir) != nil; i++ {
			time.Sleep(50 * time.Millisecond)
		}
	})
	return &freezer{kind: "a cgroup v2 freeze", dir: dir, f: f}
}

func (fr *freezer) fd() int {
	if fr.f == nil {
		return 0
	}
	return int(fr.f.Fd())
}

func (fr *freezer) freeze(t *testing.T, root int) {
	t.Helper()
	if fr.dir == "" {
		fr.pids = append([]int{root}, descendantsOf(root)...)
		for _, pid := range fr.pids {
			_ = syscall.Kill(pid, syscall.SIGSTOP)
		}
		return
	}
	if err := os.WriteFile(filepath.Join(fr.dir, "cgroup.freeze"), []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(filepath.Join(fr.dir, "cgroup.events")); strings.Contains(string(b), "frozen 1") {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("cgroup not frozen after 10s")
}

func (fr *freezer) thaw(t *testing.T) {
	t.Helper()
	if fr.dir == "" {
		for _, pid := range fr.pids {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
		return
	}
	if err := os.WriteFile(filepath.Join(fr.dir, "cgroup.freeze"), []byte("0"), 0); err != nil {
		t.Fatal(err)
	}
}

// ownCgroup is the directory of the test's cgroup v2.
func ownCgroup() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	rel := ""
	for _, line := range strings.Split(string(b), "\n") {
		if r, ok := strings.CutPrefix(line, "0::"); ok {
			rel = r
		}
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, _ := strings.Cut(sc.Text(), " - ")
		fields := strings.Fields(pre)
		if strings.HasPrefix(post, "cgroup2 ") && len(fields) >= 5 && fields[3] == "/" && rel != "" {
			return filepath.Join(fields[4], rel), nil
		}
	}
	return "", os.ErrNotExist
}

// descendantsOf lists the processes below root, from /proc.
func descendantsOf(root int) []int {
	kids := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if err != nil || i < 0 {
			continue
		}
		if f := strings.Fields(s[i+1:]); len(f) > 1 {
			ppid, _ := strconv.Atoi(f[1])
			kids[ppid] = append(kids[ppid], pid)
		}
	}
	var out []int
	for q := []int{root}; len(q) > 0; q = q[1:] {
		out = append(out, kids[q[0]]...)
		q = append(q, kids[q[0]]...)
	}
	return out
}
