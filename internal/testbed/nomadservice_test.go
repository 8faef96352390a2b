package testbed_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	consulapi "github.com/hashicorp/consul/api"
	nomadapi "github.com/hashicorp/nomad/api"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// webJob runs the stand-in's web process, fetched from tarballURL, once per
// driver, as a Consul service "testbed-web" with an HTTP check.
func webJob(tarballURL, checksum string, drivers []string) *nomadapi.Job {
	job := nomadapi.NewServiceJob("web", "web", "global", 50)
	job.Datacenters = []string{"*"}
	for _, d := range drivers {
		tg := nomadapi.NewTaskGroup(strings.ReplaceAll(d, "_", "-"), 1)
		tg.Networks = []*nomadapi.NetworkResource{{DynamicPorts: []nomadapi.Port{{Label: "http"}}}}
		task := nomadapi.NewTask("web", d).SetConfig("command", "local/kantree/platform").
			SetConfig("args", []string{"run", "web"})
		task.Env = map[string]string{"PORT": "${NOMAD_PORT_http}", "BIND_ADDR": "${NOMAD_IP_http}",
			"KANTREE_INSTANCE_ID": "${NOMAD_ALLOC_ID}"}
		dest := "local/kantree"
		task.Artifacts = []*nomadapi.TaskArtifact{{GetterSource: &tarballURL, RelativeDest: &dest,
			GetterOptions: map[string]string{"checksum": checksum}}}
		task.Services = []*nomadapi.Service{{Name: "testbed-web", PortLabel: "http", Provider: "consul",
			Checks: []nomadapi.ServiceCheck{{Type: "http", Path: "/health", Interval: time.Second, Timeout: time.Second}}}}
		tg.AddTask(task)
		job.AddTaskGroup(tg)
	}
	return job
}

// TestNomadRunsStandInWebWithConsulCheck is the whole path the rendered
// jobs take: a tarball served on loopback, fetched by Nomad's artifact
// block with a checksum, the stand-in web run by raw_exec and exec,
// registered in the testbed Consul with a passing HTTP check on a loopback
// address; and nothing left running after Stop.
func TestNomadRunsStandInWebWithConsulCheck(t *testing.T) {
	t.Parallel()
	c := testbed.StartConsul(t)
	start := time.Now()
	n := testbed.StartNomad(t, c, testbed.NomadOptions{})
	t.Logf("figure: StartNomad with Consul took %v", time.Since(start).Round(time.Millisecond))
	dir := t.TempDir()
	tb := testbed.PlatformTarball(t, dir, "1.0.0")
	files := testbed.ServeFiles(t, dir)
	ds := drivers()
	start = time.Now()
	register(t, n, webJob(files.URL+"/"+tb.Name, tb.Checksum, ds))
	entries := waitPassing(t, c, n, "testbed-web", len(ds))
	t.Logf("figure: %v web passing its Consul check %v after register", ds, time.Since(start).Round(time.Millisecond))
	for _, e := range entries {
		checkInstance(t, n, e)
	}
	if got := files.Fetches("/" + tb.Name); got != len(ds) {
		t.Errorf("tarball fetched %d times; want %d (once per task)", got, len(ds))
	}
	start = time.Now()
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("figure: Stop (2 allocations) took %v", time.Since(start).Round(time.Millisecond))
	if left := processesUnder(n.DataDir); len(left) > 0 {
		t.Fatalf("processes of the allocations survived Stop: %v", left)
	}
}

// waitPassing waits until service has want instances passing in Consul.
func waitPassing(t *testing.T, c *testbed.Consul, n *testbed.Nomad, service string, want int) []*consulapi.ServiceEntry {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		entries, _, err := c.Client().Health().Service(service, "", true, nil)
		if err == nil && len(entries) == want {
			return entries
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d passing in Consul after 2m (%v); want %d\n%s", service, len(entries), err, want, n.AllocReport("web"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkInstance: the service is on 127.0.0.1, on a port of the agent's
// dynamic range, and answers with its allocation's id.
func checkInstance(t *testing.T, n *testbed.Nomad, e *consulapi.ServiceEntry) {
	t.Helper()
	addr, port := e.Service.Address, e.Service.Port
	if addr != "127.0.0.1" || port < n.DynamicPorts[0] || port > n.DynamicPorts[1] {
		t.Errorf("instance at %s:%d; want 127.0.0.1 and a port in %v", addr, port, n.DynamicPorts)
	}
	resp, err := http.Get("http://" + addr + ":" + strconv.Itoa(port) + "/")
	if err != nil {
		t.Fatalf("GET instance: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	id := strings.TrimSpace(string(body))
	if a, _, err := n.Client().Allocations().Info(id, nil); err != nil || a.ID != id {
		t.Errorf("instance answered %q, not an allocation id (%v)", id, err)
	}
}

// processesUnder returns the pids whose executable lies under dir.
func processesUnder(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err == nil && strings.HasPrefix(exe, dir+"/") {
			pids = append(pids, pid)
		}
	}
	return pids
}
