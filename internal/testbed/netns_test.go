//go:build cluster

package testbed_test

import (
	"net"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// TestNetworkPartitionAndKill: a program in a node's namespace is reached
// from the hub, not while the node's link is down, again once healed; and
// KillAll leaves nothing of what ran there, including a process that
// left its parent's group (setsid).
func TestNetworkPartitionAndKill(t *testing.T) {
	nw := testbed.StartNetwork(t)
	nd := nw.AddNode(t)
	redis := testbed.Binary(t, "redis-server")
	path, args := nd.InNS(redis, "--bind", nd.IP, "--port", "6379", "--save", "", "--protected-mode", "no")
	cmd := exec.Command(path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait() }()
	addr := net.JoinHostPort(nd.IP, "6379")
	dial := func(d time.Duration) error {
		c, err := net.DialTimeout("tcp", addr, d)
		if err == nil {
			c.Close()
		}
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for dial(time.Second) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("redis in %s not reachable on %s", nd.NS, addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := nd.Partition(); err != nil {
		t.Fatal(err)
	}
	if dial(time.Second) == nil {
		t.Fatal("reached a partitioned node")
	}
	if err := nd.Heal(); err != nil {
		t.Fatal(err)
	}
	if err := dial(5 * time.Second); err != nil {
		t.Fatalf("healed node: %v", err)
	}
	if len(nd.PIDs()) == 0 {
		t.Fatal("no process listed in the namespace")
	}
	if _, err := nd.KillAll(); err != nil {
		t.Fatal(err)
	}
	if left := nd.PIDs(); len(left) > 0 {
		t.Fatalf("left running: %v", left)
	}
}
