//go:build cluster

package cluster_test

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// TestHoldCluster is `make cluster`: with KANTREE_CLUSTER_STATE set to a
// directory, it deploys a Kantree (web 3, push 2, worker 2, a scheduler
// with a standby) on the cluster, writes the nginx URL and the commands to
// try to <dir>/ready, and holds everything until SIGTERM or SIGINT (make
// cluster-down), then stops all it started. Without the variable it skips.
func TestHoldCluster(t *testing.T) {
	dir := os.Getenv("KANTREE_CLUSTER_STATE")
	if dir == "" {
		t.Skip("KANTREE_CLUSTER_STATE is not set: this is make cluster")
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("testpid", strconv.Itoa(os.Getpid())+"\n")
	e := shared(t)
	d := e.render(t, spec{job: "kantree", standbys: 1})
	write("kantree.hcl", e.kantreeHCL(d.spec))
	d.start(t)
	lb := e.startLB(t, d.bundle.Files, d.listen)
	var b strings.Builder
	nomad, _ := filepath.Abs(filepath.Join(testbedRoot(t), ".tools/bin/nomad"))
	env := fmt.Sprintf("NOMAD_ADDR=%s CONSUL_HTTP_ADDR=%s", e.cl.Server.Addr(), e.cl.Consul.HTTPAddr)
	fmt.Fprintf(&b, "cluster: %d nodes started in %s; Kantree (stand-in) served by nginx at %s (Host: kantree.test)\n\n",
		len(e.cl.Nodes), e.cl.Startup.Round(1e7), lb.URL)
	fmt.Fprintf(&b, "  curl -H 'Host: kantree.test' %s/\n", lb.URL)
	fmt.Fprintf(&b, "  export %s\n", env)
	fmt.Fprintf(&b, "  bin/kantree-nomad status %s/kantree.hcl\n", dir)
	fmt.Fprintf(&b, "  %s node status\n", nomad)
	for _, nd := range e.cl.Nodes {
		fmt.Fprintf(&b, "  # %s (%s, node %s):\n", nd.Name, nd.IP, nd.NodeID[:8])
		fmt.Fprintf(&b, "  %s node drain -enable -yes %s      # drain; back: node eligibility -enable %s\n", nomad, nd.NodeID[:8], nd.NodeID[:8])
		fmt.Fprintf(&b, "  ip link set %s down      # partition; back: ip link set %s up\n", nd.Link, nd.Link)
	}
	fmt.Fprintf(&b, "\nmake cluster-down stops everything.\n")
	write("ready", b.String())
	<-stop
	t.Log("cluster-down: stopping")
}

func testbedRoot(t *testing.T) string { return testbed.RepoRoot(t) }
