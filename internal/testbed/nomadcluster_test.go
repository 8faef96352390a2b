//go:build cluster

package testbed_test

import (
	"net"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// TestNomadClusterPlacesOnEveryNode: a job of three instances that must be
// on distinct hosts runs once on each node; a partitioned node is
// unreachable from the hub until healed; a lost node has no process left.
func TestNomadClusterPlacesOnEveryNode(t *testing.T) {
	cl := testbed.StartNomadCluster(t, testbed.ClusterOptions{})
	t.Logf("figure: cluster start %s (%d nodes)", cl.Startup.Round(10*time.Millisecond), len(cl.Nodes))

	job := nomadapi.NewServiceJob("spread", "spread", "global", 50)
	job.Datacenters = []string{"*"}
	tg := nomadapi.NewTaskGroup("g", 3)
	tg.Constraints = []*nomadapi.Constraint{nomadapi.NewConstraint("", "distinct_hosts", "true")}
	tg.AddTask(nomadapi.NewTask("sleep", "raw_exec").SetConfig("command", "/bin/sleep").SetConfig("args", []string{"600"}))
	job.AddTaskGroup(tg)
	cl.Server.RegisterJob(t, job)
	allocs := cl.Server.WaitRunning(t, "spread", 3, 2*time.Minute)
	nodes := map[string]bool{}
	for _, a := range allocs {
		nodes[a.NodeID] = true
	}
	if len(nodes) != 3 {
		t.Fatalf("3 distinct_hosts instances on %d nodes, want 3", len(nodes))
	}

	nd := cl.Nodes[0]
	if err := nd.Partition(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", nd.Consul.HTTPAddr, time.Second); err == nil {
		c.Close()
		t.Fatalf("partitioned node %s still answers on %s", nd.Name, nd.Consul.HTTPAddr)
	}
	if err := nd.Heal(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", nd.Consul.HTTPAddr, 5*time.Second); err != nil {
		t.Fatalf("healed node %s: %v", nd.Name, err)
	} else {
		c.Close()
	}

	lost := cl.Nodes[1]
	before := len(lost.PIDs())
	if err := lost.Lose(); err != nil {
		t.Fatal(err)
	}
	if left := lost.PIDs(); len(left) != 0 {
		t.Fatalf("lost node %s still runs %v", lost.Name, left)
	}
	if before < 3 { // consul, nomad, the task (and its executor)
		t.Fatalf("node %s ran %d processes before the loss, want at least 3", lost.Name, before)
	}
	t.Logf("node loss of %s killed %d processes", lost.Name, before)
}
