package launch

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestInitOnce runs Prepare twice in one root: the init command runs the
// first time only, and a failed init leaves no marker, so it runs again.
func TestInitOnce(t *testing.T) {
	wd, _ := os.Getwd()
	t.Cleanup(func() { _ = os.Chdir(wd) })
	root := t.TempDir()
	count := filepath.Join(root, "count")
	script := filepath.Join(root, "platform")
	body := "#!/bin/sh\nif [ \"$1\" = init_node ]; then echo x >> " + count + "; exit ${FAIL:-0}; fi\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := Config{Root: root, Init: []string{"./platform", "init_node"}, Command: []string{"./platform", "run", "web"}, Stdout: &out, Stderr: &out}

	t.Setenv("FAIL", "3")
	if _, err := Prepare(context.Background(), c); err == nil || !strings.Contains(err.Error(), "init_node") {
		t.Fatalf("failing init_node: err = %v, want an error naming init_node", err)
	}
	if _, err := os.Stat(filepath.Join(root, Marker)); err == nil {
		t.Fatal("a failed init_node left the marker")
	}
	t.Setenv("FAIL", "0")
	for i := 0; i < 2; i++ {
		path, err := Prepare(context.Background(), c)
		if err != nil {
			t.Fatalf("Prepare #%d: %v", i, err)
		}
		if path != script {
			t.Errorf("command path = %q, want %q", path, script)
		}
	}
	data, _ := os.ReadFile(count)
	if got := strings.Count(string(data), "x"); got != 2 {
		t.Errorf("init_node ran %d times (once failing, once succeeding), want 2", got)
	}
}

// TestExecReplaces runs the real command through `go test`'s own binary
// trick: the child execs /bin/sh, whose PID must be the launcher's.
func TestExecReplaces(t *testing.T) {
	if os.Getenv("LAUNCH_HELPER") == "1" {
		path, err := Prepare(context.Background(), Config{Root: os.Getenv("LAUNCH_ROOT"), Command: []string{"sh"}})
		if err == nil {
			err = Exec(path, []string{"sh", "-c", "echo pid=$$ pwd=$(pwd)"})
		}
		t.Fatal(err)
	}
	root := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestExecReplaces$")
	cmd.Env = append(os.Environ(), "LAUNCH_HELPER=1", "LAUNCH_ROOT="+root)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v: %s", err, out.String())
	}
	want := "pid=" + strconv.Itoa(pid) + " pwd=" + root
	if strings.TrimSpace(out.String()) != want {
		t.Errorf("output %q, want %q (the shell replaced the launcher, in the root)", out.String(), want)
	}
}
