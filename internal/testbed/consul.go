package testbed

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"testing"

	"github.com/hashicorp/consul/api"
)

// Consul is one Consul agent: a dev agent (StartConsul) or a member of a
// ConsulCluster.
type Consul struct {
	*Process
	HTTPAddr   string // "ip:port" of the HTTP API
	Name       string // node name
	IP         string // the agent's bind, client and advertise address
	ServerAddr string // "ip:port" of the server RPC (raft) port; what /v1/status/leader returns
	SerfAddr   string // "ip:port" of Serf LAN
	Server     bool
	DataDir    string
	// Token is the ACL management token when ACLs are enabled
	// (ConsulOptions.ACL), else "". Client and Config use it.
	Token string
}

// ConsulOptions configure StartConsulWith.
type ConsulOptions struct {
	// ACL enables ACLs with default_policy deny; Consul.Token is the
	// initial management token.
	ACL bool
}

// consulAgent is the configuration of one agent to start.
type consulAgent struct {
	ip, name        string
	dev, server     bool
	bootstrapExpect int
	join            []string // Serf LAN addresses
	encrypt         string
	acl             string // management token; "" for no ACLs
	// client is the -client addresses (space-separated); "" for the
	// agent's IP.
	client string
	netns  *NetNode // run in this node's network namespace
	// gossipDefaults keeps Consul's production gossip timings (failure
	// detection in seconds), for the cluster's scenarios.
	gossipDefaults bool
}

// StartConsul starts a Consul dev agent (a single server, in memory) on
// 127.0.0.1 and returns once it has elected itself leader and registered
// its node. Restart gives an empty agent on the same ports.
func StartConsul(t testing.TB) *Consul {
	t.Helper()
	return StartConsulWith(t, ConsulOptions{})
}

// StartConsulWith is StartConsul with options.
func StartConsulWith(t testing.TB, o ConsulOptions) *Consul {
	t.Helper()
	c := newConsul(t, consulAgent{ip: "127.0.0.1", name: "dev-" + randomHex(t, 3), dev: true})
	if o.ACL {
		c.Token = uuid(t)
	}
	c.start(t, consulAgent{dev: true, acl: c.Token}, c.devReady)
	return c
}

// uuid returns a random UUID (version 4), the form Consul wants for tokens.
func uuid(t testing.TB) string {
	h := randomHex(t, 16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// newConsul picks the agent's ports on its address.
func newConsul(t testing.TB, a consulAgent) *Consul {
	t.Helper()
	c := &Consul{Name: a.name, IP: a.ip, Server: a.server || a.dev, DataDir: t.TempDir()}
	c.pickPorts(t)
	return c
}

func (c *Consul) pickPorts(t testing.TB) {
	t.Helper()
	ports := make([]int, 3)
	for i := range ports {
		p, err := freePortOn(c.IP)
		if err != nil {
			t.Fatalf("testbed: consul %s: %v", c.Name, err)
		}
		ports[i] = p
	}
	c.HTTPAddr, c.SerfAddr, c.ServerAddr = hostPort(c.IP, ports[0]), hostPort(c.IP, ports[1]), hostPort(c.IP, ports[2])
}

// start starts the agent, with new ports when a port it was given is taken
// meanwhile (the other agents join it through its address as it is then).
func (c *Consul) start(t testing.TB, a consulAgent, ready func(context.Context) error) {
	t.Helper()
	first := true
	c.Process = startRetrying(t, func() procSpec {
		if !first {
			c.pickPorts(t)
		}
		first = false
		return c.spec(t, a, ready)
	})
}

// spec returns the command line of the agent.
func (c *Consul) spec(t testing.TB, a consulAgent, ready func(context.Context) error) procSpec {
	t.Helper()
	_, http, _ := net.SplitHostPort(c.HTTPAddr)
	_, serf, _ := net.SplitHostPort(c.SerfAddr)
	_, server, _ := net.SplitHostPort(c.ServerAddr)
	client := c.IP
	if a.client != "" {
		client = a.client
	}
	args := []string{"agent", "-node", c.Name, "-bind", c.IP, "-client", client,
		"-http-port", http, "-serf-lan-port", serf, "-server-port", server,
		"-dns-port", "-1", "-grpc-port", "-1", "-grpc-tls-port", "-1", "-serf-wan-port", "-1",
		"-log-level", "warn", "-hcl", "disable_update_check = true"}
	if a.dev {
		args = append(args, "-dev")
	} else {
		args = append(args, "-data-dir", c.DataDir)
	}
	if a.server {
		args = append(args, "-server", "-bootstrap-expect", strconv.Itoa(a.bootstrapExpect))
	}
	for _, j := range a.join {
		args = append(args, "-retry-join", j)
	}
	dir := t.TempDir()
	// Secrets (gossip key, management token) go in a file, not in argv.
	args = append(args, "-config-file", writeFile(t, dir, "testbed.hcl", a.hcl(), 0o600))
	return procSpec{name: "consul-" + c.Name, path: Binary(t, "consul"), args: args,
		dir: dir, logDir: dir, ready: ready, netns: a.netns}
}

// hcl is the agent's configuration file.
func (a consulAgent) hcl() string {
	conf := ""
	switch {
	case a.gossipDefaults:
		conf += clusterRaftHCL + "\n"
	case !a.dev:
		conf += clusterHCL + "\n"
	}
	if a.encrypt != "" {
		conf += fmt.Sprintf("encrypt = %q\n", a.encrypt)
	}
	if a.acl != "" {
		conf += fmt.Sprintf(`acl {
  enabled = true
  default_policy = "deny"
  enable_token_persistence = false
  tokens { initial_management = %q }
}
`, a.acl)
	}
	return conf
}

// clusterHCL makes a test cluster elect leaders and notice lost members in
// about a second instead of Consul's production timings.
const clusterHCL = clusterRaftHCL + `
gossip_lan {
  gossip_interval = "100ms"
  probe_interval  = "200ms"
  probe_timeout   = "100ms"
  suspicion_mult  = 3
}`

// clusterRaftHCL: fast leader election and joins, Consul's own gossip.
const clusterRaftHCL = `performance { raft_multiplier = 1 }
disable_host_node_id = true
retry_interval = "200ms"`

// Client returns a Consul API client for this agent.
func (c *Consul) Client() *api.Client {
	cl, err := api.NewClient(c.Config())
	if err != nil {
		panic(fmt.Sprintf("testbed: consul api client: %v", err)) // NewClient fails only on bad TLS config
	}
	return cl
}

// Config returns a Consul API configuration for this agent, with Token.
func (c *Consul) Config() *api.Config {
	cfg := api.DefaultNonPooledConfig()
	cfg.Address, cfg.Token, cfg.Scheme = c.HTTPAddr, c.Token, "http"
	return cfg
}

// leader asks this agent which server is the raft leader ("" when none).
func (c *Consul) leader(ctx context.Context) (string, error) {
	var leader string
	q := (&api.QueryOptions{}).WithContext(ctx)
	_, err := c.Client().Raw().Query("/v1/status/leader", &leader, q)
	if err != nil {
		return "", fmt.Errorf("consul %s: status/leader: %w", c.Name, err)
	}
	return leader, nil
}

// devReady: a leader is elected and the agent's node is in the catalog.
func (c *Consul) devReady(ctx context.Context) error {
	l, err := c.leader(ctx)
	if err != nil {
		return err
	}
	if l == "" {
		return fmt.Errorf("consul %s: no leader yet", c.Name)
	}
	n, _, err := c.Client().Catalog().Node(c.Name, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return fmt.Errorf("consul %s: catalog node: %w", c.Name, err)
	}
	if n == nil || n.Node == nil {
		return fmt.Errorf("consul %s: node not registered yet", c.Name)
	}
	return nil
}

// agentReady: the agent's HTTP API answers.
func (c *Consul) agentReady(ctx context.Context) error {
	_, err := c.Client().Agent().Self()
	if err != nil {
		return fmt.Errorf("consul %s: agent/self: %w", c.Name, err)
	}
	return ctx.Err()
}

func hostPort(ip string, port int) string { return net.JoinHostPort(ip, strconv.Itoa(port)) }

// gossipKey returns a random Serf encryption key, so that two test clusters
// on the same machine can never gossip with each other.
func gossipKey(t testing.TB) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("testbed: random: %v", err)
	}
	return base64.StdEncoding.EncodeToString(b)
}
