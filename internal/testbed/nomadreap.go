package testbed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// reaper remembers the processes a Nomad agent started and the cgroups its
// tasks ran in, so that whatever outlives the agent can be killed.
// Nomad's executors call setsid and survive their agent by design (a
// restarted agent re-attaches to them), so the agent's process group does
// not reach them, and a process a raw_exec task forks away (setsid, double
// fork) is no longer a descendant of anything the testbed started: only its
// task's cgroup still names it.
type reaper struct {
	mu      sync.Mutex
	pids    map[int]string  // pid → its start time, so a reused pid is never killed
	cgroups map[string]bool // cgroup directories of the agent's tasks
	dirs    []string        // cgroup directories the agent created, removed after it
}

// record remembers the current descendants of pid and their cgroups.
func (r *reaper) record(pid int) {
	own := ownCgroups()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pids == nil {
		r.pids, r.cgroups = map[int]string{}, map[string]bool{}
	}
	for _, d := range descendants(pid) {
		if st := startTime(d); st != "" {
			r.pids[d] = st
		}
		for _, dir := range taskCgroups(d, own) {
			r.cgroups[dir] = true
		}
	}
}

// removeAfter asks reap to remove these cgroup directories (deepest
// first), once empty.
func (r *reaper) removeAfter(dirs ...string) {
	r.mu.Lock()
	r.dirs = append(r.dirs, dirs...)
	r.mu.Unlock()
}

// reap kills every recorded process still running and every process in a
// recorded cgroup, with their descendants, and waits until they are gone.
func (r *reaper) reap() error {
	var left []int
	for round := 0; round < 3; round++ {
		victims := r.survivors()
		if len(victims) == 0 {
			left = nil
			break
		}
		for _, v := range victims {
			_ = syscall.Kill(v, syscall.SIGKILL)
		}
		waitGone(victims, 10*time.Second)
		left = victims
	}
	r.removeCgroups()
	if len(left) > 0 {
		return fmt.Errorf("processes of the agent still running after SIGKILL: %v", left)
	}
	return nil
}

// survivors lists the recorded processes still alive, the members of the
// recorded cgroups, and their descendants.
func (r *reaper) survivors() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[int]bool{os.Getpid(): true}
	var out []int
	add := func(pid int) {
		if !seen[pid] && alive(pid) {
			seen[pid] = true
			out = append(out, pid)
		}
	}
	for pid, st := range r.pids {
		if startTime(pid) == st {
			add(pid)
		}
	}
	for dir := range r.cgroups {
		for _, pid := range cgroupProcs(dir) {
			add(pid)
		}
	}
	for _, pid := range append([]int(nil), out...) {
		for _, d := range descendants(pid) {
			add(d)
		}
	}
	return out
}

// removeCgroups removes the recorded task cgroups and the agent's own,
// once empty (Nomad usually removed the task cgroups already).
func (r *reaper) removeCgroups() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for dir := range r.cgroups {
		_ = os.Remove(dir)
	}
	for i := len(r.dirs) - 1; i >= 0; i-- {
		_ = os.Remove(r.dirs[i])
	}
}

// startTime returns field 22 of /proc/<pid>/stat (the start time in clock
// ticks), "" when pid does not exist.
func startTime(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// cgroupLine is one line of /proc/<pid>/cgroup: hierarchy id, controllers
// ("" for cgroup v2) and path.
type cgroupLine struct{ id, controllers, path string }

func readCgroups(pid string) []cgroupLine {
	b, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		return nil
	}
	var out []cgroupLine
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) == 3 {
			out = append(out, cgroupLine{f[0], f[1], f[2]})
		}
	}
	return out
}

// ownCgroups maps each hierarchy id to the test process's own cgroup path.
func ownCgroups() map[string]string {
	own := map[string]string{}
	for _, l := range readCgroups("self") {
		own[l.id] = l.path
	}
	return own
}

// taskCgroups returns the cgroup directories of pid that can list a task's
// processes (v1 freezer and pids, or v2), other than the test's own and
// the root.
func taskCgroups(pid int, own map[string]string) []string {
	var dirs []string
	for _, l := range readCgroups(strconv.Itoa(pid)) {
		if l.path == "/" || l.path == own[l.id] {
			continue
		}
		if mount := cgroupMount(l.controllers); mount != "" {
			dirs = append(dirs, filepath.Join(mount, l.path))
		}
	}
	return dirs
}

// cgroupMount returns where the hierarchy of these controllers is mounted,
// for the hierarchies that list a task's processes; "" for the others.
func cgroupMount(controllers string) string {
	switch {
	case controllers == "":
		if dirExists("/sys/fs/cgroup/unified") {
			return "/sys/fs/cgroup/unified"
		}
		return "/sys/fs/cgroup"
	case controllers == "freezer" || controllers == "pids":
		return "/sys/fs/cgroup/" + controllers
	}
	return ""
}

// cgroupProcs lists the processes in a cgroup directory.
func cgroupProcs(dir string) []int {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func isRoot() bool { return os.Geteuid() == 0 }

// errNoCgroupV1 tells that the machine has no cgroup v1 cpuset hierarchy.
var errNoCgroupV1 = errors.New("no cgroup v1 cpuset hierarchy")

// cgroupV1Parent returns the cpuset directories a Nomad client creates
// under cgroup v1 for cgroup_parent name (removed after the agent), or
// errNoCgroupV1.
func cgroupV1Parent(name string) ([]string, error) {
	base := "/sys/fs/cgroup/cpuset"
	if !dirExists(base) {
		return nil, errNoCgroupV1
	}
	p := filepath.Join(base, name)
	return []string{p, filepath.Join(p, "shared"), filepath.Join(p, "reserved")}, nil
}

// unmountUnder detaches every mount below dir, deepest first: a Nomad
// client mounts a tmpfs on each task's secrets/ and, for exec, binds /dev
// and /proc into the chroot; it unmounts them only when it garbage-collects
// the allocation, which a killed agent never does.
func unmountUnder(dir string) error {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	var points []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(unescapeMount(f[4]), dir+"/") {
			points = append(points, unescapeMount(f[4]))
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	var errs []error
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// unescapeMount decodes the octal escapes (\040 for a space) of
// /proc/self/mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
