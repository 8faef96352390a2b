package child

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// cgroup is a cgroup v2 made for one command, below the cgroup of this
// process.
type cgroup struct {
	dir    string
	fd     *os.File // the directory, for clone3(CLONE_INTO_CGROUP)
	killer *os.File // cgroup.kill, opened ahead so a kill is one write
}

// newCgroup makes a cgroup v2 named name below this process's own, or
// returns nil when the host does not allow it (no cgroup v2 mounted, no
// write access, a cgroup that must not have children).
func newCgroup(name string) *cgroup {
	own, err := ownCgroupDir()
	if err != nil {
		return nil
	}
	dir := filepath.Join(own, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil
	}
	fd, err := os.Open(dir)
	if err != nil {
		_ = os.Remove(dir)
		return nil
	}
	killer, err := os.OpenFile(filepath.Join(dir, "cgroup.kill"), os.O_WRONLY, 0)
	if err != nil {
		fd.Close() // before Linux 5.14: no atomic kill, the subreaper alone does
		_ = os.Remove(dir)
		return nil
	}
	return &cgroup{dir: dir, fd: fd, killer: killer}
}

// ownCgroupDir is the directory of this process's cgroup v2: the mount
// point of cgroup2 joined with the "0::" line of /proc/self/cgroup.
func ownCgroupDir() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	var rel string
	for _, line := range strings.Split(string(b), "\n") {
		if r, ok := strings.CutPrefix(line, "0::"); ok {
			rel = r
		}
	}
	mnt, err := cgroup2Mount()
	if err != nil || rel == "" {
		return "", errors.Join(err, errors.New("no cgroup v2"))
	}
	return filepath.Join(mnt, rel), nil
}

// cgroup2Mount finds where cgroup2 is mounted (/sys/fs/cgroup on a
// unified host, /sys/fs/cgroup/unified on a hybrid one).
func cgroup2Mount() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields := strings.Fields(pre)
		if ok && strings.HasPrefix(post, "cgroup2 ") && len(fields) >= 5 && fields[3] == "/" {
			return fields[4], nil
		}
	}
	return "", errors.New("cgroup2 not mounted")
}

// kill kills every process in the cgroup at once (cgroup.kill: the
// kernel also kills what is being forked meanwhile).
func (g *cgroup) kill() {
	_, _ = g.killer.Write([]byte("1"))
}

// remove removes the cgroup once it is empty; it retries briefly while
// the kernel finishes releasing the last processes.
func (g *cgroup) remove() error {
	g.fd.Close()
	g.killer.Close()
	return g.removeDir()
}

// removeDir removes the empty cgroup directory, retrying briefly.
func (g *cgroup) removeDir() error {
	var err error
	for i := 0; i < 100; i++ {
		if err = os.Remove(g.dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("remove cgroup %s: %w", g.dir, err)
}

// removeOrphanCgroups kills what is left in the cgroups that a tree-mode
// parent made below this process's cgroup and did not remove because it
// died (a SIGKILLed watchdog), then removes them. A cgroup is an orphan
// when the process named in it (kantree-nomad-<pid>-<n>) is gone.
func removeOrphanCgroups() {
	own, err := ownCgroupDir()
	if err != nil {
		return
	}
	dirs, _ := filepath.Glob(filepath.Join(own, "kantree-nomad-*-*"))
	for _, dir := range dirs {
		var pid, n int
		if _, err := fmt.Sscanf(filepath.Base(dir), "kantree-nomad-%d-%d", &pid, &n); err != nil || pid == os.Getpid() || alive(pid) {
			continue
		}
		_ = os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0)
		g := &cgroup{dir: dir}
		_ = g.removeDir()
	}
}

// alive reports whether a process with this PID exists (not a zombie
// check: a zombie's cgroup is already empty of it).
func alive(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
