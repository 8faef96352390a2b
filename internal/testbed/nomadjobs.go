package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
)

// WaitRunning waits until jobID has count allocations running with every
// main task running, and returns them. On timeout it fails t with every
// allocation's status and recent task events.
func (n *Nomad) WaitRunning(t testing.TB, jobID string, count int, timeout time.Duration) []*nomadapi.AllocationListStub {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		allocs, _, err := n.Client().Jobs().Allocations(jobID, false, nil)
		if err == nil {
			if running := runningAllocs(allocs); len(running) == count {
				return running
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("testbed: nomad job %s: not %d allocations running after %s (%v):\n%s", jobID, count, timeout, err, n.AllocReport(jobID))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runningAllocs keeps the allocations that run with all their tasks up
// (prestart tasks that finished included).
func runningAllocs(allocs []*nomadapi.AllocationListStub) []*nomadapi.AllocationListStub {
	var out []*nomadapi.AllocationListStub
	for _, a := range allocs {
		if a.ClientStatus != "running" || a.DesiredStatus != "run" {
			continue
		}
		up := true
		for _, ts := range a.TaskStates {
			up = up && (ts.State == "running" || (ts.State == "dead" && !ts.Failed))
		}
		if up && len(a.TaskStates) > 0 {
			out = append(out, a)
		}
	}
	return out
}

// AllocReport describes every allocation of jobID: status and the last
// events of each task, for failure messages.
func (n *Nomad) AllocReport(jobID string) string {
	allocs, _, err := n.Client().Jobs().Allocations(jobID, true, nil)
	if err != nil {
		return fmt.Sprintf("(list allocations: %v)", err)
	}
	var b strings.Builder
	for _, a := range allocs {
		fmt.Fprintf(&b, "alloc %s %s: client %s, desired %s\n", a.ID[:8], a.TaskGroup, a.ClientStatus, a.DesiredStatus)
		tasks := make([]string, 0, len(a.TaskStates))
		for name := range a.TaskStates {
			tasks = append(tasks, name)
		}
		sort.Strings(tasks)
		for _, name := range tasks {
			ts := a.TaskStates[name]
			fmt.Fprintf(&b, "  task %s: %s (failed %v)\n", name, ts.State, ts.Failed)
			for _, e := range lastEvents(ts.Events, 6) {
				fmt.Fprintf(&b, "    %s %s: %s\n", time.Unix(0, e.Time).Format("15:04:05.000"), e.Type, e.DisplayMessage)
			}
			if tail := n.taskStderr(a.ID, name, 5); tail != "" {
				fmt.Fprintf(&b, "    stderr (end):\n%s\n", tail)
			}
		}
	}
	if b.Len() == 0 {
		return "(no allocations)"
	}
	return b.String()
}

// taskStderr returns the last lines of a task's stderr log, indented.
func (n *Nomad) taskStderr(allocID, task string, lines int) string {
	b, err := os.ReadFile(filepath.Join(n.DataDir, "alloc", allocID, "alloc", "logs", task+".stderr.0"))
	if err != nil || len(b) == 0 {
		return ""
	}
	ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return "      " + strings.Join(ls, "\n      ")
}

// RegisterJob submits job and, at the end of the test, stops and purges it
// and waits (up to 60 s) until its allocations have finished, so that
// tests sharing one agent (SharedNomad) leave nothing behind. Give each
// test its own job IDs.
func (n *Nomad) RegisterJob(t testing.TB, job *nomadapi.Job) {
	t.Helper()
	if _, _, err := n.Client().Jobs().Register(job, nil); err != nil {
		t.Fatalf("testbed: nomad: register job %s: %v", *job.ID, err)
	}
	id, ns := *job.ID, ""
	if job.Namespace != nil {
		ns = *job.Namespace
	}
	t.Cleanup(func() {
		if _, _, err := n.Client().Jobs().Deregister(id, true, &nomadapi.WriteOptions{Namespace: ns}); err != nil {
			t.Logf("testbed: nomad: stop job %s: %v", id, err)
			return
		}
		if err := n.waitAllocsTerminal(drainTimeout); err != nil {
			t.Logf("testbed: %v", err)
		}
	})
}

func lastEvents(es []*nomadapi.TaskEvent, k int) []*nomadapi.TaskEvent {
	if len(es) > k {
		return es[len(es)-k:]
	}
	return es
}
