package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tool is one lock supervisor under test.
type tool struct {
	name      string
	command   func(key, childDir string) *exec.Cmd
	crashRuns int

	handoffs, failovers []time.Duration
	rss, rssTree        []int // peak RSS in kB: the supervisor, and with its helpers
	pssTree             []int // proportional set size now, in kB, with its helpers
	overlap             time.Duration
}

func knTool(kn, addr, self string) *tool {
	return &tool{name: "kantree-nomad supervise", command: func(key, childDir string) *exec.Cmd {
		cmd := exec.Command(kn, "supervise", "-key", key, "-log-format", "json", "--", self, "child", childDir)
		cmd.Env = append(os.Environ(), "CONSUL_HTTP_ADDR="+addr)
		return cmd
	}}
}

func consulLockTool(consul, addr, self string) *tool {
	return &tool{name: "consul lock", command: func(key, childDir string) *exec.Cmd {
		return exec.Command(consul, "lock", "-http-addr="+addr, key, self+" child "+childDir)
	}}
}

// sup is one running supervisor.
type sup struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startSup(tl *tool, key, childDir, logDir string) (*sup, error) {
	cmd := tl.command(key, childDir)
	log, err := os.CreateTemp(logDir, "sup-*.log")
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", tl.name, err)
	}
	s := &sup{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); log.Close(); close(s.done) }()
	return s, nil
}

// series is one tool's supervisors on one key, with its children's
// records in childDir.
type series struct {
	tl       *tool
	dir      string
	childDir string
	key      string
	holder   *sup
}

// newSeries starts the first holder of tl and waits for its child.
func newSeries(ctx context.Context, tl *tool, dir string) (*series, error) {
	childDir, err := os.MkdirTemp(dir, "children-")
	if err != nil {
		return nil, err
	}
	s := &series{tl: tl, dir: dir, childDir: childDir, key: "bench/" + strings.ReplaceAll(tl.name, " ", "-")}
	if s.holder, err = startSup(tl, s.key, childDir, dir); err != nil {
		return nil, err
	}
	_, err = waitNewChild(ctx, childDir, nil, 30*time.Second)
	return s, err
}

// round starts a standby, lets it wait on the key, then ends the holder
// (gracefully, or by crash) and measures the takeover.
func (s *series) round(ctx context.Context, crash bool) error {
	standby, err := startSup(s.tl, s.key, s.childDir, s.dir)
	if err != nil {
		return err
	}
	time.Sleep(time.Second) // the standby is waiting on the key
	if err := step(ctx, s.tl, s.holder, s.childDir, crash); err != nil {
		return err
	}
	s.holder = standby
	return nil
}

// finish stops the last holder and computes the overlap.
func (s *series) finish() error {
	s.tl.rss = append(s.tl.rss, peakRSS(s.holder.cmd.Process.Pid))
	_ = s.holder.cmd.Process.Signal(syscall.SIGTERM)
	<-s.holder.done
	runs, err := readRuns(s.childDir)
	s.tl.overlap = overlap(runs)
	return err
}

// measure runs the graceful handoffs of all tools in turn, round by
// round (so that the machine's load hits them alike), then each tool's
// crash failovers.
func measure(ctx context.Context, tools []*tool, dir string, handoffs int, stderr io.Writer) error {
	var all []*series
	for _, tl := range tools {
		s, err := newSeries(ctx, tl, dir)
		if err != nil {
			return fmt.Errorf("%s: %w", tl.name, err)
		}
		all = append(all, s)
	}
	for i := 0; i < handoffs; i++ {
		for _, s := range all {
			if err := s.round(ctx, false); err != nil {
				return fmt.Errorf("%s: handoff: %w", s.tl.name, err)
			}
		}
		fmt.Fprintf(stderr, "handoffs: %d/%d\n", i+1, handoffs)
	}
	for _, s := range all {
		for i := 0; i < s.tl.crashRuns; i++ {
			if err := s.round(ctx, true); err != nil {
				return fmt.Errorf("%s: crash: %w", s.tl.name, err)
			}
			fmt.Fprintf(stderr, "%s: crash failover %d/%d: %s\n", s.tl.name, i+1, s.tl.crashRuns, s.tl.failovers[i].Round(time.Millisecond))
		}
		if err := s.finish(); err != nil {
			return err
		}
	}
	return nil
}

// step ends the holder (SIGTERM, or SIGKILL to it and its children) and
// records how long the standby's child took to start.
func step(ctx context.Context, tl *tool, holder *sup, childDir string, crash bool) error {
	pid := holder.cmd.Process.Pid
	before, _ := readRuns(childDir)
	tl.rss = append(tl.rss, peakRSS(pid))
	tree := append([]int{pid}, descendants(pid)...)
	tl.rssTree = append(tl.rssTree, treeSum(tree, childDir, peakRSS))
	tl.pssTree = append(tl.pssTree, treeSum(tree, childDir, pss))
	sent := time.Now()
	if crash {
		for _, p := range tree {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
	} else {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	next, err := waitNewChild(ctx, childDir, before, 120*time.Second)
	if err != nil {
		return err
	}
	<-holder.done
	if crash {
		tl.failovers = append(tl.failovers, next.start.Sub(sent))
		return nil
	}
	runs, _ := readRuns(childDir)
	prev := latestBefore(runs, next)
	tl.handoffs = append(tl.handoffs, next.start.Sub(prev.end))
	return nil
}

// peakRSS is VmHWM of pid in kB, or 0.
func peakRSS(pid int) int { return procField(fmt.Sprintf("/proc/%d/status", pid), "VmHWM:") }

// pss is the proportional set size of pid in kB: pages shared with
// another process (the same binary's text) count for a share each.
func pss(pid int) int { return procField(fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss:") }

func procField(path, field string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

// treeSum sums a memory figure of the supervisor's processes, leaving out
// the child (the measured command) and the shells consul lock starts.
func treeSum(pids []int, childDir string, figure func(int) int) int {
	sum := 0
	for _, p := range pids {
		if _, err := os.Stat(filepath.Join(childDir, strconv.Itoa(p))); err == nil {
			continue
		}
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p)); strings.TrimSpace(string(comm)) == "sh" {
			continue
		}
		sum += figure(p)
	}
	return sum
}

// descendants lists the processes below pid, from /proc.
func descendants(pid int) []int {
	parent := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 {
			pp, _ := strconv.Atoi(fields[1])
			parent[pp] = append(parent[pp], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		kids := parent[queue[0]]
		queue = append(queue[1:], kids...)
		out = append(out, kids...)
	}
	return out
}

// childRun is one child's life as it recorded it.
type childRun struct {
	pid        int
	start, end time.Time // end: the stop record, else the last heartbeat
}

func readRuns(dir string) ([]childRun, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var runs []childRun
	for _, e := range ents {
		pid, _ := strconv.Atoi(e.Name())
		r, ok := readRun(filepath.Join(dir, e.Name()))
		if ok {
			r.pid = pid
			runs = append(runs, r)
		}
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].start.Before(runs[j].start) })
	return runs, nil
}

func readRun(path string) (childRun, bool) {
	f, err := os.Open(path)
	if err != nil {
		return childRun{}, false
	}
	defer f.Close()
	var r childRun
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		word, v, _ := strings.Cut(sc.Text(), " ")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		t := time.Unix(0, n)
		if word == "start" {
			r.start = t
		}
		r.end = t
	}
	return r, !r.start.IsZero()
}

// waitNewChild waits for a child that is not in before.
func waitNewChild(ctx context.Context, dir string, before []childRun, d time.Duration) (childRun, error) {
	known := map[int]bool{}
	for _, r := range before {
		known[r.pid] = true
	}
	var found childRun
	ok := waitFor(ctx, d, func() bool {
		runs, _ := readRuns(dir)
		for _, r := range runs {
			if !known[r.pid] {
				found = r
				return true
			}
		}
		return false
	})
	if !ok {
		return childRun{}, fmt.Errorf("no new child started within %s", d)
	}
	return found, nil
}

// latestBefore is the run that started last before next.
func latestBefore(runs []childRun, next childRun) childRun {
	var prev childRun
	for _, r := range runs {
		if r.pid != next.pid && r.start.Before(next.start) {
			prev = r
		}
	}
	return prev
}

// overlap is the total time during which two children ran at once.
func overlap(runs []childRun) time.Duration {
	var total time.Duration
	for i := range runs {
		for j := i + 1; j < len(runs); j++ {
			lo := maxTime(runs[i].start, runs[j].start)
			hi := minTime(runs[i].end, runs[j].end)
			if hi.After(lo) {
				total += hi.Sub(lo)
			}
		}
	}
	return total
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
