package testbed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
)

// NomadCluster is one Nomad server and several Nomad clients, each client
// a node of its own: a network namespace (Network) with its own Consul
// client agent on 127.0.0.1:8500, as on a real machine, joined to one
// Consul server. The servers, PostgreSQL and Redis listen on the hub
// address (the bridge), which every node reaches and the test reaches too.
//
// A partition is a node's link going down (NetNode.Partition) while all its
// processes keep running; a node loss is every process of the node killed
// at once (ClusterNode.Lose). Client heartbeats and Consul gossip keep
// their production defaults: the scenarios measure what they cause.
type NomadCluster struct {
	Net    *Network
	Consul *Consul // the Consul server, on Net.HubIP
	Server *Nomad  // the Nomad server (no client), on Net.HubIP
	Nodes  []*ClusterNode
	PG     *Postgres // listens on Net.HubIP too; see PGURL
	Redis  *Redis    // listens on Net.HubIP too; see RedisURL
	// Startup is how long StartNomadCluster took, from nothing to every
	// node ready.
	Startup time.Duration
}

// ClusterNode is one Nomad client node.
type ClusterNode struct {
	*NetNode
	Name   string  // Nomad and Consul node name
	Class  string  // Nomad node class ("" for none)
	Consul *Consul // its Consul client agent (HTTPAddr on the node's IP)
	Nomad  *Nomad  // its Nomad client agent
	NodeID string  // Nomad node ID, once ready
}

// ClusterOptions configure StartNomadCluster.
type ClusterOptions struct {
	Nodes int // Nomad clients; default 3
	// Client holds the clients' options (ChrootEnv, FullChroot, ExtraHCL
	// appended to each client's configuration).
	Client NomadOptions
	// ServerHCL is appended to the server's configuration.
	ServerHCL string
	// RedisPassword is requirepass of the cluster's Redis.
	RedisPassword string
	// NodeClasses are the nodes' Nomad node classes, in order (node1
	// first); a node past the list has none.
	NodeClasses []string
}

// Ports of the agents inside each node's namespace: every node has its
// own port space, so they are the products' defaults.
const (
	nodeConsulHTTP = 8500
	nodeNomadHTTP  = 4646
	nodeDynLo      = 20000
	nodeDynHi      = 20999
)

// StartNomadCluster starts the network, the Consul server, PostgreSQL,
// Redis, the Nomad server and the clients, and returns once every client
// is ready (drivers healthy, Consul fingerprinted). It needs root. At the
// end of the test every job is stopped, every process of every node killed
// and the namespaces removed.
func StartNomadCluster(t testing.TB, o ClusterOptions) *NomadCluster {
	t.Helper()
	start := time.Now()
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	cl := &NomadCluster{Net: StartNetwork(t)}
	key := gossipKey(t)
	cl.Consul = newConsul(t, consulAgent{ip: cl.Net.HubIP, name: "hub-" + randomHex(t, 2), server: true})
	cl.Consul.start(t, consulAgent{server: true, bootstrapExpect: 1, encrypt: key, gossipDefaults: true}, cl.Consul.devReady)
	cl.PG = StartPostgresOn(t, cl.Net.HubIP)
	cl.Redis = StartRedis(t, RedisOptions{Password: o.RedisPassword, Config: []string{"bind 127.0.0.1 " + cl.Net.HubIP}})
	cl.Server = cl.startServer(t, o.ServerHCL)
	for i := 0; i < o.Nodes; i++ {
		nd := &ClusterNode{NetNode: cl.Net.AddNode(t), Name: fmt.Sprintf("node%d", i+1)}
		if i < len(o.NodeClasses) {
			nd.Class = o.NodeClasses[i]
		}
		cl.Nodes = append(cl.Nodes, nd)
	}
	cl.startConsulClients(t, key)
	cl.startNomadClients(t, o.Client)
	t.Cleanup(cl.teardown(t))
	cl.Startup = time.Since(start)
	t.Logf("testbed: nomad cluster of %d nodes (network %s, hub %s) started in %s",
		len(cl.Nodes), cl.Net.Prefix, cl.Net.HubIP, cl.Startup.Round(10*time.Millisecond))
	return cl
}

// startServer runs a Nomad server alone (no client) on the hub address.
func (cl *NomadCluster) startServer(t testing.TB, extra string) *Nomad {
	t.Helper()
	dir := t.TempDir()
	n := &Nomad{DataDir: filepath.Join(dir, "data"), consul: cl.Consul}
	n.Process = startRetrying(t, func() procSpec {
		var addrs [3]string
		for i := range addrs {
			p, err := freePortOn(cl.Net.HubIP)
			if err != nil {
				t.Fatalf("testbed: nomad server: %v", err)
			}
			addrs[i] = hostPort(cl.Net.HubIP, p)
		}
		n.HTTPAddr, n.RPCAddr, n.SerfAddr = addrs[0], addrs[1], addrs[2]
		n.ConfigPath = writeFile(t, dir, "server.hcl", n.serverHCL(cl.Net.HubIP)+extra+"\n", 0o600)
		return procSpec{name: "nomad-server", path: Binary(t, "nomad"), dir: dir, logDir: dir, ready: n.leaderReady,
			args: []string{"agent", "-config", n.ConfigPath}}
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("testbed: end of the nomad server's log (%s):\n%s", n.LogPath(), n.LogTail(40))
		}
	})
	return n
}

func (n *Nomad) serverHCL(ip string) string {
	port := func(a string) string { _, p, _ := net.SplitHostPort(a); return p }
	return fmt.Sprintf(`name = "server-%s"
bind_addr = %q
data_dir = %q
log_level = "INFO"
disable_update_check = true
ports {
  http = %s
  rpc  = %s
  serf = %s
}
server {
  enabled          = true
  bootstrap_expect = 1
}
%s`, port(n.RPCAddr), ip, n.DataDir, port(n.HTTPAddr), port(n.RPCAddr), port(n.SerfAddr), n.consulHCL())
}

// leaderReady: the server has elected itself.
func (n *Nomad) leaderReady(ctx context.Context) error {
	var leader string
	q := (&nomadapi.QueryOptions{}).WithContext(ctx)
	if _, err := n.Client().Raw().Query("/v1/status/leader", &leader, q); err != nil {
		return fmt.Errorf("nomad: status/leader: %w", err)
	}
	if leader == "" {
		return errors.New("nomad: no leader yet")
	}
	return nil
}

// startConsulClients starts every node's Consul agent, then waits for all.
func (cl *NomadCluster) startConsulClients(t testing.TB, key string) {
	t.Helper()
	var procs []*Process
	for _, nd := range cl.Nodes {
		c := &Consul{Name: nd.Name, IP: nd.IP, DataDir: t.TempDir(),
			HTTPAddr: hostPort(nd.IP, nodeConsulHTTP), SerfAddr: hostPort(nd.IP, 8301), ServerAddr: hostPort(nd.IP, 8300)}
		a := consulAgent{join: []string{cl.Consul.SerfAddr}, encrypt: key, client: "127.0.0.1 " + nd.IP,
			netns: nd.NetNode, gossipDefaults: true}
		c.Process = newProcess(t, c.spec(t, a, c.agentReady))
		if err := c.Process.start(); err != nil {
			t.Fatalf("testbed: %v", err)
		}
		nd.Consul = c
		procs = append(procs, c.Process)
	}
	waitAllReady(t, procs)
}

// startNomadClients starts every node's Nomad client, then waits for all.
func (cl *NomadCluster) startNomadClients(t testing.TB, o NomadOptions) {
	t.Helper()
	var procs []*Process
	for _, nd := range cl.Nodes {
		dir := t.TempDir()
		n := &Nomad{DataDir: filepath.Join(dir, "data"), consul: nd.Consul, opts: o,
			HTTPAddr: hostPort(nd.IP, nodeNomadHTTP), DynamicPorts: [2]int{nodeDynLo, nodeDynHi}}
		n.ConfigPath = writeFile(t, dir, "client.hcl", n.nodeHCL(t, nd, cl.Server.RPCAddr), 0o600)
		nd := nd
		spec := procSpec{name: "nomad-" + nd.Name, path: Binary(t, "nomad"), dir: dir, logDir: dir,
			args: []string{"agent", "-config", n.ConfigPath}, netns: nd.NetNode,
			ready: func(ctx context.Context) error { return cl.nodeReady(ctx, nd) }}
		n.Process = newProcess(t, spec)
		if err := n.Process.start(); err != nil {
			t.Fatalf("testbed: %v", err)
		}
		nd.Nomad = n
		procs = append(procs, n.Process)
	}
	waitAllReady(t, procs)
}

func waitAllReady(t testing.TB, procs []*Process) {
	t.Helper()
	for _, p := range procs {
		if err := p.waitReady(readyTimeout); err != nil {
			t.Fatalf("testbed: %v\n--- %s log (%s) ---\n%s", err, p.name, p.logPath, p.LogTail(40))
		}
	}
}

// nodeHCL is a client's configuration: its own name, data dir, cgroup
// parent and interface; the agent's Consul is the node's own.
func (n *Nomad) nodeHCL(t testing.TB, nd *ClusterNode, server string) string {
	t.Helper()
	return fmt.Sprintf(`name = %q
bind_addr = %q
data_dir = %q
log_level = "INFO"
disable_update_check = true
ports {
  http = %d
  rpc  = 4647
  serf = 4648
}
plugin "raw_exec" {
  config { enabled = true }
}
client {
  enabled           = true
  servers           = [%q]
  network_interface = "eth0"
  node_class        = %q
%s  min_dynamic_port  = %d
  max_dynamic_port  = %d
  cpu_total_compute = %d
  memory_total_mb   = %d
  options {
    "driver.allowlist"     = "raw_exec,exec"
    "fingerprint.denylist" = "env_aws,env_gce,env_azure,env_digitalocean"
  }
%s}
consul {
  address          = "127.0.0.1:%d"
  auto_advertise   = false
  server_auto_join = false
  client_auto_join = false
}
%s
`, nd.Name, nd.IP, n.DataDir, nodeNomadHTTP, server, nd.Class, n.cgroupParentHCL(t), nodeDynLo, nodeDynHi,
		nomadNodeCPU, nomadNodeMemory, n.chrootHCL(t), nodeConsulHTTP, n.opts.ExtraHCL)
}

// nodeReady: the server lists the node as ready, with its drivers healthy
// and Consul fingerprinted.
func (cl *NomadCluster) nodeReady(ctx context.Context, nd *ClusterNode) error {
	q := (&nomadapi.QueryOptions{}).WithContext(ctx)
	nodes, _, err := cl.Server.Client().Nodes().List(q)
	if err != nil {
		return fmt.Errorf("nomad: list nodes: %w", err)
	}
	for _, s := range nodes {
		if s.Name != nd.Name || s.Status != "ready" {
			continue
		}
		node, _, err := cl.Server.Client().Nodes().Info(s.ID, q)
		if err != nil {
			return err
		}
		if err := nd.Nomad.nodeComplete(node); err != nil {
			return err
		}
		nd.NodeID, nd.Nomad.NodeID = s.ID, s.ID
		return nil
	}
	return fmt.Errorf("nomad: node %s not ready yet", nd.Name)
}

// Node returns the node with this Nomad node ID, or nil.
func (cl *NomadCluster) Node(id string) *ClusterNode {
	for _, nd := range cl.Nodes {
		if nd.NodeID == id {
			return nd
		}
	}
	return nil
}

// Cut partitions the node (its link down, its processes running on) and
// returns when, and heal, which brings the link back once and returns
// when; t's end heals it if heal was not called. It fails t when the link
// cannot be set.
func (nd *ClusterNode) Cut(t testing.TB) (time.Time, func() time.Time) {
	t.Helper()
	cutAt := time.Now()
	if err := nd.Partition(); err != nil {
		t.Fatalf("testbed: cut %s off: %v", nd.Name, err)
	}
	var once sync.Once
	var healAt time.Time
	heal := func() time.Time {
		once.Do(func() {
			if err := nd.Heal(); err != nil {
				t.Errorf("testbed: heal %s: %v", nd.Name, err)
			}
			healAt = time.Now()
		})
		return healAt
	}
	t.Cleanup(func() { heal() })
	return cutAt, heal
}

// Lose is a power cut: the node's link goes down and every process of the
// node is killed at once (Nomad client, Consul agent, executors, tasks and
// whatever they forked). With the link down, packets to the node vanish as
// they would to a dead machine, instead of being refused by a live kernel.
func (nd *ClusterNode) Lose() error {
	err := nd.Partition()
	if _, kerr := nd.KillAll(); kerr != nil {
		err = errors.Join(err, kerr)
	}
	return err
}

// Revive brings a lost node back as a rebooted machine would: link up, its
// Consul agent and Nomad client started again on their data (the tasks
// are gone), and returns once the node is ready again.
func (nd *ClusterNode) Revive(t testing.TB) {
	t.Helper()
	if err := nd.Heal(); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	if err := unmountUnder(nd.Nomad.DataDir); err != nil {
		t.Logf("testbed: %s: %v", nd.Name, err)
	}
	nd.Consul.Restart(t)
	nd.Nomad.Restart(t)
}

// HubURL rewrites a loopback URL of a hub service (PostgreSQL, Redis) to
// the hub address, which the nodes reach.
func (cl *NomadCluster) HubURL(u string) string {
	return strings.Replace(u, "@127.0.0.1:", "@"+cl.Net.HubIP+":", 1)
}

// teardown heals every link, stops every job through the server, then
// kills each node's processes, unmounts what tasks left mounted and kills
// the server; the network goes last (its own cleanup).
func (cl *NomadCluster) teardown(t testing.TB) func() {
	return func() {
		for _, nd := range cl.Nodes {
			_ = nd.Heal()
		}
		if t.Failed() {
			for _, nd := range cl.Nodes {
				if nd.Nomad != nil {
					t.Logf("testbed: end of %s's log (%s):\n%s", nd.Nomad.name, nd.Nomad.LogPath(), nd.Nomad.LogTail(25))
				}
			}
		}
		if cl.Server.Running() {
			if err := cl.Server.StopJobs(drainTimeout); err != nil {
				t.Logf("testbed: %v", err)
			}
		}
		for _, nd := range cl.Nodes {
			if nd.Nomad != nil {
				if err := nd.Nomad.Kill(); err != nil {
					t.Logf("testbed: %s: %v", nd.Name, err)
				}
			}
			if _, err := nd.KillAll(); err != nil {
				t.Errorf("testbed: %v", err)
			}
			if nd.Nomad != nil {
				if err := unmountUnder(nd.Nomad.DataDir); err != nil {
					t.Errorf("testbed: %s: %v", nd.Name, err)
				}
			}
		}
		_ = cl.Server.Kill()
	}
}
