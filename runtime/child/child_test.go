package child

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// helperEnv makes the test binary act as a parent process that starts a
// child and then waits forever, so that a test can SIGKILL it.
const helperEnv = "KANTREE_CHILD_TEST_PARENT"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		runParentHelper()
		return
	}
	// The tree tests need a subreaper; the other tests do not mind one.
	if err := BecomeSubreaper(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// runParentHelper starts `sleep 300` with Start, prints its PID and blocks.
// It keeps other goroutines busy so the runtime moves goroutines between
// threads: the child must survive that and die only with the process.
func runParentHelper() {
	c, err := Start(Spec{Path: "sleep", Args: []string{"300"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for i := 0; i < 8; i++ {
		go func() {
			for {
				time.Sleep(time.Millisecond)
			}
		}()
	}
	fmt.Println(c.PID())
	select {}
}

// gone reports whether pid no longer runs: it does not exist, or it is a
// zombie waiting for its parent (the test's reaper may be slow).
func gone(pid int) bool {
	if err := unix.Kill(pid, 0); errors.Is(err, unix.ESRCH) {
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

// waitGone waits up to d for pid to be gone and reports how long it took.
func waitGone(t *testing.T, pid int, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for !gone(pid) {
		if time.Since(start) > d {
			t.Fatalf("process %d still running after %s", pid, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// readPID waits for a file holding a PID written by a shell.
func readPID(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(path)
		if s := strings.TrimSpace(string(b)); err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("pid file %s: %v", path, err)
			}
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no pid in %s", path)
	return 0
}

func TestStopReachesShellGrandchildren(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	c, err := Start(Spec{Path: "sh", Args: []string{"-c", `sleep 300 & echo $! > "$0"; wait`, pidFile}})
	if err != nil {
		t.Fatal(err)
	}
	grandchild := readPID(t, pidFile)
	if err := c.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	waitGone(t, grandchild, time.Second)
	if !gone(c.PID()) {
		t.Fatalf("shell %d still running after Stop", c.PID())
	}
}

func TestStopGraceThenKill(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	// The shell ignores SIGTERM, and so does the sleep it starts.
	c, err := Start(Spec{Path: "sh", Args: []string{"-c", `trap "" TERM; echo $$ > "$0"; sleep 300`, ready}})
	if err != nil {
		t.Fatal(err)
	}
	readPID(t, ready)
	const grace = 300 * time.Millisecond
	start := time.Now()
	if err := c.Stop(grace); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("stop took %s with grace %s", took, grace)
	if took < grace {
		t.Errorf("Stop returned after %s, before the %s grace ended", took, grace)
	}
	if took > grace+3*time.Second {
		t.Errorf("Stop took %s, want about %s", took, grace)
	}
	if got, want := c.ExitCode(), 128+int(syscall.SIGKILL); got != want {
		t.Errorf("exit code %d, want %d (killed by SIGKILL)", got, want)
	}
}

func TestStopCooperativeChildKeepsItsExitCode(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	c, err := Start(Spec{Path: "sh", Args: []string{"-c", `trap "exit 3" TERM; echo $$ > "$0"; while :; do sleep 0.05; done`, ready}})
	if err != nil {
		t.Fatal(err)
	}
	readPID(t, ready)
	start := time.Now()
	if err := c.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Stop took %s for a child that exits on SIGTERM", took)
	}
	if got := c.ExitCode(); got != 3 {
		t.Errorf("exit code %d, want 3", got)
	}
}

func TestExitOnItsOwnKillsLeftovers(t *testing.T) {
	var out bytes.Buffer
	c, err := Start(Spec{Path: "sh", Args: []string{"-c", `sleep 300 & echo $!; exit 4`}, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("child did not exit")
	}
	if got := c.ExitCode(); got != 4 {
		t.Errorf("exit code %d, want 4", got)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatalf("grandchild pid %q: %v", out.String(), err)
	}
	waitGone(t, pid, time.Second)
	if err := c.Stop(time.Second); err != nil {
		t.Errorf("Stop after exit: %v", err)
	}
}

func TestEnvDirAndExtraFiles(t *testing.T) {
	dir := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out bytes.Buffer
	c, err := Start(Spec{
		Path: "sh", Args: []string{"-c", `echo "$GREETING $(pwd)"; echo extra >&3`},
		Env: []string{"GREETING=hello", "PATH=" + os.Getenv("PATH")}, Dir: dir,
		Stdout: &out, ExtraFiles: []*os.File{w},
	})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	if got, want := strings.TrimSpace(out.String()), "hello "+dir; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	line, _ := bufio.NewReader(r).ReadString('\n')
	if line != "extra\n" {
		t.Errorf("fd 3 got %q, want %q", line, "extra\n")
	}
}

func TestStartMissingProgram(t *testing.T) {
	_, err := Start(Spec{Path: filepath.Join(t.TempDir(), "no-such-program")})
	if err == nil {
		t.Fatal("Start of a missing program succeeded")
	}
}

func TestChildDiesWithItsParent(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	parent := exec.Command(exe, "-test.run=^$")
	parent.Env = append(os.Environ(), helperEnv+"=1")
	stdout, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	parent.Stderr = os.Stderr
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		parent.Process.Kill()
		t.Fatalf("helper parent: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the helper's goroutines move around
	if gone(pid) {
		t.Fatalf("child %d died before its parent", pid)
	}
	if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()
	took := waitGone(t, pid, time.Second)
	t.Logf("child gone %s after its parent was killed", took)
}
