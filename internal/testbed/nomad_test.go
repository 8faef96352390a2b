package testbed_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// sleeperJob runs, per driver, a shell that forks away a `sleep` (a
// subshell starts it in the background and exits, so that it is no
// longer a descendant of the task; with raw_exec also in a session of its
// own) and becomes another `sleep`. Both sleeps carry tag in their argument.
func sleeperJob(id, tag string, drivers ...string) *nomadapi.Job {
	job := nomadapi.NewServiceJob(id, id, "global", 50)
	job.Datacenters = []string{"*"}
	for _, d := range drivers {
		tg := nomadapi.NewTaskGroup(d, 1)
		script := fmt.Sprintf("(setsid sleep 1001.%s &) ; exec sleep 1000.%s", tag, tag)
		if d == "exec" { // no setsid in the small chroot
			script = fmt.Sprintf("(sleep 1001.%s &) ; exec sleep 1000.%s", tag, tag)
		}
		task := nomadapi.NewTask("sleep", d).SetConfig("command", "/bin/sh").SetConfig("args", []string{"-c", script})
		task.KillTimeout = durationPtr(2 * time.Second)
		tg.AddTask(task)
		job.AddTaskGroup(tg)
	}
	return job
}

func durationPtr(d time.Duration) *time.Duration { return &d }

// drivers are the drivers the tests run jobs with: exec needs root.
func drivers() []string {
	if os.Geteuid() == 0 {
		return []string{"raw_exec", "exec"}
	}
	return []string{"raw_exec"}
}

// processesWith returns the pids whose command line contains s.
func processesWith(s string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if strings.Contains(string(b), s) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func register(t *testing.T, n *testbed.Nomad, job *nomadapi.Job) {
	t.Helper()
	if _, _, err := n.Client().Jobs().Register(job, nil); err != nil {
		t.Fatalf("register job %s: %v", *job.ID, err)
	}
}

// startSleepers runs sleeperJob and waits until all its sleeps run.
func startSleepers(t *testing.T, n *testbed.Nomad) string {
	t.Helper()
	tag := strconv.Itoa(rand.IntN(1e9))
	ds := drivers()
	start := time.Now()
	register(t, n, sleeperJob("sleepers", tag, ds...))
	n.WaitRunning(t, "sleepers", len(ds), 2*time.Minute)
	deadline := time.Now().Add(30 * time.Second)
	for len(processesWith(tag)) < 2*len(ds) {
		if time.Now().After(deadline) {
			t.Fatalf("sleeps running: %v; want %d", processesWith(tag), 2*len(ds))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("figure: job with %v running %v after register", ds, time.Since(start).Round(time.Millisecond))
	return tag
}

func TestNomadStopLeavesNoProcess(t *testing.T) {
	t.Parallel()
	start := time.Now()
	n := testbed.StartNomad(t, nil, testbed.NomadOptions{})
	t.Logf("figure: StartNomad (no Consul) took %v", time.Since(start).Round(time.Millisecond))
	tag := startSleepers(t, n)
	start = time.Now()
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("figure: Stop took %v", time.Since(start).Round(time.Millisecond))
	if left := processesWith(tag); len(left) > 0 {
		t.Fatalf("processes of the jobs survived Stop: %v", left)
	}
	if n.Running() {
		t.Fatal("agent still running after Stop")
	}
}

func TestNomadKillLeavesNoProcess(t *testing.T) {
	t.Parallel()
	n := testbed.StartNomad(t, nil, testbed.NomadOptions{})
	tag := startSleepers(t, n)
	if err := n.Kill(); err != nil {
		t.Fatal(err)
	}
	if left := processesWith(tag); len(left) > 0 {
		t.Fatalf("processes of the jobs survived Kill: %v", left)
	}
}

func TestSharedNomadRegisterJobStopsItAtTheEnd(t *testing.T) {
	t.Parallel()
	n := testbed.SharedNomad(t)
	tag := strconv.Itoa(rand.IntN(1e9))
	t.Run("job", func(t *testing.T) {
		n.RegisterJob(t, sleeperJob("shared-sleepers", tag, "raw_exec"))
		n.WaitRunning(t, "shared-sleepers", 1, time.Minute)
	})
	if left := processesWith(tag); len(left) > 0 {
		t.Fatalf("processes of the job survived the end of the subtest: %v", left)
	}
	if _, _, err := n.Client().Jobs().Info("shared-sleepers", nil); err == nil {
		t.Error("the job was not purged")
	}
}

func TestNomadCLIAndDynamicPorts(t *testing.T) {
	t.Parallel()
	n := testbed.SharedNomad(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := n.CLI(ctx, "node", "status", "-self", "-verbose")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "127.0.0.1") {
		t.Errorf("node status does not show a loopback address:\n%s", out)
	}
	if lo, hi := n.DynamicPorts[0], n.DynamicPorts[1]; lo < 1024 || hi <= lo {
		t.Errorf("dynamic ports %d-%d", lo, hi)
	}
}
