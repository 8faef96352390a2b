package testbed

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Network is a private layer-2 network for a multi-node cluster: a bridge
// in the host's network namespace (the hub, where the servers, PostgreSQL,
// Redis and nginx listen) and one network namespace per node, linked to the
// bridge by a veth pair. Each node has its own loopback and port space, so
// its agents use fixed ports (Consul on 127.0.0.1:8500 as on a real node).
//
// Every name starts with "kn" and the test binary's pid: a test binary
// removes what it created when it ends, and what a killed binary left
// (its pid is gone) the next StartNetwork removes. The subnet is a /24 of
// 10.0.0.0/8 that no route of the host uses; nothing is routed beyond it
// (no default route in the namespaces, no forwarding), so no packet leaves
// these interfaces.
type Network struct {
	Prefix string // "kn<pid><x>": every namespace and link name starts with it
	Bridge string // bridge link name in the host namespace
	HubIP  string // the bridge's address: the servers' address as the nodes see it
	subnet [3]byte
	nodes  int
}

// netSeq tells apart the networks of one test binary.
var netSeq atomic.Int32

// NetNode is one node's network namespace.
type NetNode struct {
	NS   string // namespace name (ip netns), at /run/netns/<NS>
	IP   string // address of the node's interface (eth0) inside NS
	Link string // host side of the veth pair: down = partition
}

// StartNetwork creates the bridge; AddNode adds namespaces. Requires root
// (CAP_NET_ADMIN); without it the test is skipped, or fails with CI=true.
func StartNetwork(t testing.TB) *Network {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "root (network namespaces for the cluster's nodes)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		Missing(t, "ip (iproute2)")
	}
	reapStaleNetworks(t)
	seq := netSeq.Add(1)
	n := &Network{Prefix: "kn" + strconv.Itoa(os.Getpid()) + string(rune('a'+seq%26))}
	n.Bridge = n.Prefix + "b"
	n.subnet = freeSubnet(t)
	n.HubIP = n.ip(1)
	t.Cleanup(func() {
		if err := n.Remove(); err != nil {
			t.Errorf("testbed: %v", err)
		}
	})
	n.must(t, "link", "add", n.Bridge, "type", "bridge")
	n.must(t, "addr", "add", n.HubIP+"/24", "dev", n.Bridge)
	n.must(t, "link", "set", n.Bridge, "up")
	return n
}

func (n *Network) ip(host int) string {
	return fmt.Sprintf("%d.%d.%d.%d", n.subnet[0], n.subnet[1], n.subnet[2], host)
}

// AddNode creates namespace number i (0-based) with its veth pair, the
// node side named eth0 with address .10+i, loopback up.
func (n *Network) AddNode(t testing.TB) *NetNode {
	t.Helper()
	i := n.nodes
	n.nodes++
	nd := &NetNode{NS: fmt.Sprintf("%sn%d", n.Prefix, i), IP: n.ip(10 + i), Link: fmt.Sprintf("%sh%d", n.Prefix, i)}
	n.must(t, "netns", "add", nd.NS)
	n.must(t, "link", "add", nd.Link, "type", "veth", "peer", "name", "eth0", "netns", nd.NS)
	n.must(t, "link", "set", nd.Link, "master", n.Bridge)
	n.must(t, "link", "set", nd.Link, "up")
	n.must(t, "-n", nd.NS, "link", "set", "lo", "up")
	n.must(t, "-n", nd.NS, "addr", "add", nd.IP+"/24", "dev", "eth0")
	n.must(t, "-n", nd.NS, "link", "set", "eth0", "up")
	return nd
}

// Partition takes the node's link down: every process on the node keeps
// running, and no packet goes in or out until Heal.
func (nd *NetNode) Partition() error { return ipCmd("link", "set", nd.Link, "down") }

// Heal brings the node's link back up.
func (nd *NetNode) Heal() error { return ipCmd("link", "set", nd.Link, "up") }

// PIDs lists every process in the node's network namespace.
func (nd *NetNode) PIDs() []int {
	out, _ := exec.Command("ip", "netns", "pids", nd.NS).Output()
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if p, err := strconv.Atoi(f); err == nil && p != os.Getpid() {
			pids = append(pids, p)
		}
	}
	return pids
}

// KillAll kills every process of the node at once (SIGKILL), as a power
// cut would, and waits until they are gone. It returns how many it killed.
func (nd *NetNode) KillAll() (int, error) {
	killed := 0
	for round := 0; round < 5; round++ {
		pids := nd.PIDs()
		if len(pids) == 0 {
			return killed, nil
		}
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGSTOP) // freeze first, so that none reacts to another's death
		}
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		killed += len(pids)
		waitGone(pids, 10*time.Second)
	}
	if left := nd.PIDs(); len(left) > 0 {
		return killed, fmt.Errorf("netns %s: processes still running after SIGKILL: %v", nd.NS, left)
	}
	return killed, nil
}

// Remove kills what runs in the namespaces and deletes them and the
// bridge. Deleting a namespace deletes its veth pair.
func (n *Network) Remove() error {
	var errs []string
	for i := 0; i < n.nodes; i++ {
		nd := &NetNode{NS: fmt.Sprintf("%sn%d", n.Prefix, i)}
		if _, err := nd.KillAll(); err != nil {
			errs = append(errs, err.Error())
		}
		if err := ipCmd("netns", "delete", nd.NS); err != nil && !strings.Contains(err.Error(), "No such file") {
			errs = append(errs, err.Error())
		}
	}
	if err := ipCmd("link", "delete", n.Bridge); err != nil && !strings.Contains(err.Error(), "Cannot find") {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("remove network %s: %s", n.Prefix, strings.Join(errs, "; "))
	}
	return nil
}

// InNS returns the command line that runs argv in the node's namespace:
// nsenter joins the network namespace only and then execs argv, so the
// program keeps the pid it is started with and the host's mounts.
func (nd *NetNode) InNS(argv ...string) (string, []string) {
	return "nsenter", append([]string{"--net=/run/netns/" + nd.NS, "--"}, argv...)
}

func (n *Network) must(t testing.TB, args ...string) {
	t.Helper()
	if err := ipCmd(args...); err != nil {
		t.Fatalf("testbed: %v", err)
	}
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// freeSubnet picks 10.2xx.y.0/24 (from the pid, then onwards) that no
// address or route of the host overlaps.
func freeSubnet(t testing.TB) [3]byte {
	t.Helper()
	used := hostNets()
	pid := os.Getpid()
	for k := 0; k < 4096; k++ {
		v := (pid + k) % 4096
		s := [3]byte{10, byte(200 + v/256%50), byte(v % 256)}
		ip := net.IPv4(s[0], s[1], s[2], 1)
		clash := false
		for _, u := range used {
			if u.Contains(ip) {
				clash = true
				break
			}
		}
		if !clash {
			return s
		}
	}
	t.Fatalf("testbed: no free 10.x.y.0/24 subnet")
	return [3]byte{}
}

// hostNets lists the networks of the host's routes (all tables).
func hostNets() []*net.IPNet {
	out, _ := exec.Command("ip", "-4", "route", "show", "table", "all").Output()
	var nets []*net.IPNet
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		dst := f[0]
		if dst == "local" || dst == "broadcast" || dst == "unicast" {
			if len(f) < 2 {
				continue
			}
			dst = f[1]
		}
		if dst == "default" {
			continue
		}
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		if _, n, err := net.ParseCIDR(dst); err == nil {
			nets = append(nets, n)
		}
	}
	return nets
}

// reapStaleNetworks deletes the namespaces and bridges a killed test
// binary left: names "kn<pid>..." whose pid no longer runs.
func reapStaleNetworks(t testing.TB) {
	t.Helper()
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && staleName(f[0]) {
			_, _ = (&NetNode{NS: f[0]}).KillAll()
			_ = ipCmd("netns", "delete", f[0])
			t.Logf("testbed: removed the stale network namespace %s", f[0])
		}
	}
	links, _ := exec.Command("ip", "-o", "link", "show", "type", "bridge").Output()
	for _, line := range strings.Split(string(links), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 {
			name := strings.TrimSuffix(f[1], ":")
			if staleName(name) {
				_ = ipCmd("link", "delete", name)
			}
		}
	}
}

// staleName reports whether name is "kn<pid>..." for a pid that is gone.
func staleName(name string) bool {
	if !strings.HasPrefix(name, "kn") {
		return false
	}
	digits := strings.TrimLeft(name[2:], "0123456789")
	pidStr := name[2 : len(name)-len(digits)]
	pid, err := strconv.Atoi(pidStr)
	if err != nil || pid <= 0 {
		return false
	}
	return !alive(pid)
}
