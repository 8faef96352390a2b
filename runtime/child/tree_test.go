package child

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// escapers is a shell script that starts two sleeps that leave the
// shell's process group: one in a new session (setsid), one in a new
// process group (perl setpgrp), prints their PIDs, then runs $1.
const escapers = `setsid sleep 300 & echo $!
perl -e 'setpgrp(0, 0); exec @ARGV' sleep 300 & echo $!
eval "$1"`

// startEscapers starts escapers in tree mode and returns the child and
// the PIDs of the two escaped sleeps.
func startEscapers(t *testing.T, then string) (*Child, []int) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := Start(Spec{Path: "sh", Args: []string{"-c", escapers, "sh", then}, Stdout: w, Tree: true})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	buf := make([]byte, 64)
	var got bytes.Buffer
	for len(pids) < 2 {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatalf("read PIDs: %v (got %q)", err, got.String())
		}
		got.Write(buf[:n])
		pids = pids[:0]
		for _, f := range strings.Fields(got.String()) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return c, pids
}

// notExists reports whether pid is gone and reaped.
func notExists(pid int) bool { return errors.Is(unix.Kill(pid, 0), unix.ESRCH) }

func TestTreeStopReachesEscapedDescendants(t *testing.T) {
	c, pids := startEscapers(t, "wait")
	time.Sleep(100 * time.Millisecond)
	for _, pid := range pids {
		if gone(pid) {
			t.Fatalf("escaped sleep %d died before Stop", pid)
		}
	}
	if err := c.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if !notExists(pid) {
			t.Errorf("escaped sleep %d still exists when Stop returned", pid)
		}
	}
}

func TestTreeExitKillsEscapedDescendants(t *testing.T) {
	c, pids := startEscapers(t, "exit 4")
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("tree not done 10s after its leader exited")
	}
	if got := c.ExitCode(); got != 4 {
		t.Errorf("exit code %d, want 4", got)
	}
	for _, pid := range pids {
		if !notExists(pid) {
			t.Errorf("escaped sleep %d still exists when Done closed", pid)
		}
	}
}

func TestTreeKillHasNoGrace(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	c, err := Start(Spec{Path: "sh", Args: []string{"-c", `trap "" TERM; echo $$ > "$0"; setsid sleep 300 & wait`, ready}, Tree: true})
	if err != nil {
		t.Fatal(err)
	}
	readPID(t, ready)
	start := time.Now()
	if err := c.Kill(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("Kill took %s", took)
	}
	if got, want := c.ExitCode(), 128+int(unix.SIGKILL); got != want {
		t.Errorf("exit code %d, want %d", got, want)
	}
}

func TestTreeGetsItsOwnCgroup(t *testing.T) {
	if _, err := ownCgroupDir(); err != nil {
		t.Skipf("no cgroup v2 here: %v", err)
	}
	c, err := Start(Spec{Path: "sleep", Args: []string{"300"}, Tree: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := c.Cgroup()
	if dir == "" {
		c.Kill()
		t.Skip("this host does not let the test make a cgroup; the subreaper alone holds the tree")
	}
	b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if strings.TrimSpace(string(b)) != strconv.Itoa(c.PID()) {
		t.Errorf("cgroup.procs of %s = %q, want the command's PID %d", dir, b, c.PID())
	}
	if err := c.Kill(); err != nil {
		t.Fatal(err)
	}
	// The empty cgroup is removed just after the tree is reported gone.
	deadline := time.Now().Add(3 * time.Second)
	for _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist); _, err = os.Stat(dir) {
		if time.Now().After(deadline) {
			t.Fatalf("cgroup %s left behind: %v", dir, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTreeNeedsASubreaper(t *testing.T) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer BecomeSubreaper()
	if _, err := Start(Spec{Path: "true", Tree: true}); err == nil || !strings.Contains(err.Error(), "subreaper") {
		t.Errorf("Start without a subreaper: %v, want an error that says so", err)
	}
}

// TestKillStrays: a process-group child dies and leaves a descendant in
// another session; it is reparented to this subreaper and KillStrays
// kills it.
func TestKillStrays(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	// The shell waits until the stray has left its process group (its
	// session id is its own pid): exiting before that races with the
	// group kill that follows the leader's exit.
	script := `setsid sleep 300 >/dev/null & p=$!; echo $p > "$0"
		i=0; while [ "$(cut -d' ' -f6 /proc/$p/stat 2>/dev/null)" != "$p" ] && [ $i -lt 200 ]; do sleep 0.01; i=$((i+1)); done; exit 0`
	c, err := Start(Spec{Path: "sh", Args: []string{"-c", script, pidFile}})
	if err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	pid := readPID(t, pidFile)
	if gone(pid) {
		t.Fatalf("stray %d already gone: nothing to test", pid)
	}
	if ppid, _ := parentOf(pid); ppid != os.Getpid() {
		t.Errorf("stray's parent %d, want this subreaper %d", ppid, os.Getpid())
	}
	if n := KillStrays(); n < 1 {
		t.Errorf("KillStrays found %d processes, want at least 1", n)
	}
	if !notExists(pid) {
		t.Errorf("stray %d still exists after KillStrays", pid)
	}
}

// TestKillStraysEmptiesOrphanCgroups: a cgroup left by a tree-mode parent
// that died (its PID is in the name) is killed and removed.
func TestKillStraysEmptiesOrphanCgroups(t *testing.T) {
	own, err := ownCgroupDir()
	if err != nil {
		t.Skip("no cgroup v2 here")
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(own, fmt.Sprintf("kantree-nomad-%d-1", dead.Process.Pid))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("this host does not let the test make a cgroup: %v", err)
	}
	sleeper := exec.Command("sleep", "300")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleeper.Process.Kill()
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(sleeper.Process.Pid)), 0); err != nil {
		sleeper.Process.Kill()
		os.Remove(dir)
		t.Skipf("cannot move a process into the cgroup: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- sleeper.Wait() }()
	KillStrays(sleeper.Process.Pid) // keep it from the /proc scan: only the cgroup can reach it
	select {
	case <-exited:
	case <-time.After(3 * time.Second):
		t.Fatal("the process in the orphan cgroup is still running")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("orphan cgroup %s left behind: %v", dir, err)
	}
}
