package testbed

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	nomadapi "github.com/hashicorp/nomad/api"
)

// Nomad is a Nomad dev agent (one server and one client in one process) on
// 127.0.0.1, wired to a testbed Consul. Its client fingerprints the
// loopback interface, so services register with 127.0.0.1 and dynamic
// ports are loopback ports. Process.Restart gives an agent without jobs on
// the same ports: a dev server keeps its state in memory. Pause and Resume
// reach the agent's process group, not the executors and tasks, which run
// in sessions of their own.
type Nomad struct {
	*Process
	HTTPAddr   string // "127.0.0.1:port" of the HTTP API
	RPCAddr    string // "127.0.0.1:port"
	SerfAddr   string // "127.0.0.1:port"
	DataDir    string // data_dir: server and client state; allocations in DataDir/alloc/<alloc id>/<task>
	ConfigPath string // the agent's configuration file
	NodeID     string // the client node's ID, once ready
	// DynamicPorts is the client's dynamic port range (min and max): a
	// range no other testbed service and no outgoing connection uses.
	DynamicPorts [2]int

	consul *Consul
	opts   NomadOptions
	ports  *portWindow
	reaper reaper

	clientOnce sync.Once
	client     *nomadapi.Client
}

// NomadOptions configure StartNomad. The zero value is a dev agent with
// raw_exec and exec and a small exec chroot.
type NomadOptions struct {
	// ChrootEnv adds entries to the exec driver's chroot: host path (file
	// or directory) → path inside the chroot, e.g. a static kantree-nomad
	// at /usr/local/bin/kantree-nomad.
	ChrootEnv map[string]string
	// FullChroot gives exec tasks Nomad's default chroot (all of /bin,
	// /etc, /lib, /usr ...). It is what production nodes have, but building
	// it takes about 20 s per task on the CI machine; the default chroot
	// holds only a shell, a few commands, libc and some of /etc.
	FullChroot bool
	// HostVolumes are the client's read-write host volumes: name → host
	// directory (e.g. the upgrade-db job's backup volume).
	HostVolumes map[string]string
	// ExtraHCL is appended to the agent's configuration (top level), e.g.
	// `datacenter = "dc2"` or a server block with heartbeat settings.
	ExtraHCL string
}

// Resources the test node announces, instead of the machine's: rendered
// jobs ask for production sizes (1000 MHz, 2 GiB per task) that a 2-core
// CI machine could not place. Nomad does not enforce CPU for raw_exec and
// exec; memory limits apply to exec tasks.
const (
	nomadNodeCPU    = 64000 // MHz
	nomadNodeMemory = 65536 // MiB
)

// StartNomad starts `nomad agent -dev` with its data and log in the test's
// temporary directory and returns once a leader is elected and the node is
// ready with the raw_exec driver (and, as root, exec) healthy and, with a
// Consul, Consul fingerprinted. consul may be nil for tests that only
// validate or plan jobs: then jobs with Consul services cannot be placed.
//
// At the end of the test every job is stopped and every process the agent
// started (executors, logmon, tasks, what tasks forked) is killed; see Stop.
func StartNomad(t testing.TB, consul *Consul, opts NomadOptions) *Nomad {
	t.Helper()
	bin := Binary(t, "nomad")
	dir := t.TempDir()
	n := &Nomad{DataDir: filepath.Join(dir, "data"), consul: consul, opts: opts}
	n.ports = lockPortWindow(t)
	n.DynamicPorts = [2]int{n.ports.lo, n.ports.hi}
	n.Process = startRetrying(t, func() procSpec {
		n.pickPorts(t)
		n.ConfigPath = writeFile(t, dir, "agent.hcl", n.hcl(t), 0o600)
		return procSpec{name: "nomad", path: bin, dir: dir, logDir: dir, ready: n.ready,
			args: []string{"agent", "-dev", "-config", n.ConfigPath}}
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("testbed: end of the nomad agent's log (%s):\n%s", n.LogPath(), n.LogTail(40))
		}
		if err := n.Stop(); err != nil {
			t.Errorf("testbed: %v", err)
		}
	})
	return n
}

// SharedNomad returns the package's shared Nomad agent (Shared key
// "nomad"), wired to the package's shared Consul (Shared key "consul",
// StartConsul) and started with the zero NomadOptions on first use. Tests
// that share it submit their jobs with RegisterJob, under job IDs of their
// own; what is left runs until the package's tests end. A test that stops,
// kills or reconfigures the agent starts its own with StartNomad.
func SharedNomad(t testing.TB) *Nomad {
	t.Helper()
	return Shared(t, "nomad", func(tb testing.TB) *Nomad {
		return StartNomad(tb, Shared(tb, "consul", StartConsul), NomadOptions{})
	})
}

func (n *Nomad) pickPorts(t testing.TB) {
	t.Helper()
	addrs := make([]string, 3)
	for i := range addrs {
		p, err := freePortOn("127.0.0.1")
		if err != nil {
			t.Fatalf("testbed: nomad: %v", err)
		}
		addrs[i] = hostPort("127.0.0.1", p)
	}
	n.HTTPAddr, n.RPCAddr, n.SerfAddr = addrs[0], addrs[1], addrs[2]
}

// Addr returns the agent's HTTP address as NOMAD_ADDR wants it
// ("http://127.0.0.1:port").
func (n *Nomad) Addr() string { return "http://" + n.HTTPAddr }

// Env returns the environment that points the nomad CLI at this agent.
func (n *Nomad) Env() []string { return []string{"NOMAD_ADDR=" + n.Addr()} }

// Client returns the Nomad API client for this agent: one client, so that
// its connections are reused (the agent refuses a client IP more than 100
// concurrent connections, and every new client opens its own).
func (n *Nomad) Client() *nomadapi.Client {
	n.clientOnce.Do(func() {
		c, err := nomadapi.NewClient(&nomadapi.Config{Address: n.Addr()})
		if err != nil {
			panic(fmt.Sprintf("testbed: nomad api client: %v", err)) // fails only on bad TLS config
		}
		n.client = c
	})
	return n.client
}

// CLI runs the nomad command line against this agent and returns its
// combined output; err is non-nil when it exits non-zero.
func (n *Nomad) CLI(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, n.Process.path, args...)
	cmd.Env = append(os.Environ(), n.Env()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("nomad %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

// AllocDir returns the directory of a task of an allocation on this node
// (its local/, secrets/ and tmp/ are inside).
func (n *Nomad) AllocDir(allocID, task string) string {
	return filepath.Join(n.DataDir, "alloc", allocID, task)
}

// hcl is the agent's configuration.
func (n *Nomad) hcl(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	port := func(a string) string { _, p, _ := net.SplitHostPort(a); return p }
	fmt.Fprintf(&b, `name = "testbed-%s"
bind_addr = "127.0.0.1"
data_dir = %q
log_level = "INFO"
disable_update_check = true
ports {
  http = %s
  rpc  = %s
  serf = %s
}
advertise {
  http = %q
  rpc  = %q
  serf = %q
}
plugin "raw_exec" {
  config { enabled = true }
}
`, randomHex(t, 3), n.DataDir, port(n.HTTPAddr), port(n.RPCAddr), port(n.SerfAddr), n.HTTPAddr, n.RPCAddr, n.SerfAddr)
	b.WriteString(n.clientHCL(t))
	b.WriteString(n.hostVolumesHCL())
	b.WriteString(n.consulHCL())
	b.WriteString(n.opts.ExtraHCL + "\n")
	return b.String()
}

// hostVolumesHCL declares opts.HostVolumes in a client block of their own
// (Nomad merges client blocks).
func (n *Nomad) hostVolumesHCL() string {
	if len(n.opts.HostVolumes) == 0 {
		return ""
	}
	names := make([]string, 0, len(n.opts.HostVolumes))
	for name := range n.opts.HostVolumes {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("client {\n")
	for _, name := range names {
		fmt.Fprintf(&b, "  host_volume %q {\n    path      = %q\n    read_only = false\n  }\n", name, n.opts.HostVolumes[name])
	}
	b.WriteString("}\n")
	return b.String()
}

func (n *Nomad) clientHCL(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf(`client {
  enabled           = true
  network_interface = "lo"
%s  min_dynamic_port  = %d
  max_dynamic_port  = %d
  cpu_total_compute = %d
  memory_total_mb   = %d
  # One node carries every test of a package: past Nomad's default of 50
  # allocations the client removes a just-finished allocation's directory
  # (and its logs) at once, which is not what a production node does.
  gc_max_allocs     = 1000
  options {
    "driver.allowlist"     = "raw_exec,exec"
    "fingerprint.denylist" = "env_aws,env_gce,env_azure,env_digitalocean"
  }
%s}
`, n.cgroupParentHCL(t), n.ports.lo, n.ports.hi, nomadNodeCPU, nomadNodeMemory, n.chrootHCL(t))
}

// cgroupParentHCL gives the agent a cgroup parent of its own under cgroup
// v1 (its cpuset manager keeps state there), removed after the agent.
// Under cgroup v2 the agent keeps Nomad's default.
func (n *Nomad) cgroupParentHCL(t testing.TB) string {
	t.Helper()
	name := "testbed-nomad-" + randomHex(t, 4)
	dirs, err := cgroupV1Parent(name)
	if err != nil {
		return ""
	}
	n.reaper.removeAfter(dirs...)
	return fmt.Sprintf("  cgroup_parent     = %q\n", name)
}

// consulHCL points the agent at the testbed Consul. The agent neither
// registers itself nor discovers other Nomad agents through Consul: test
// agents sharing one Consul must not join each other.
func (n *Nomad) consulHCL() string {
	addr := "127.0.0.1:1" // nothing listens: no Consul
	token := ""
	if n.consul != nil {
		addr, token = n.consul.HTTPAddr, n.consul.Token
	}
	return fmt.Sprintf(`consul {
  address          = %q
  token            = %q
  auto_advertise   = false
  server_auto_join = false
  client_auto_join = false
}
`, addr, token)
}

// chrootHCL is the exec driver's chroot: the default small one plus
// NomadOptions.ChrootEnv, or Nomad's own default with FullChroot.
func (n *Nomad) chrootHCL(t testing.TB) string {
	t.Helper()
	env := map[string]string{}
	if !n.opts.FullChroot {
		env = smallChroot()
	}
	for host, in := range n.opts.ChrootEnv {
		env[host] = in
	}
	if len(env) == 0 {
		return ""
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := "  chroot_env {\n"
	for _, k := range keys {
		s += fmt.Sprintf("    %q = %q\n", k, env[k])
	}
	return s + "  }\n"
}

// smallChroot maps a shell, a few commands, the C library and the files of
// /etc that programs read, each resolved to a real file on this host.
func smallChroot() map[string]string {
	env := map[string]string{}
	files := []string{"/bin/sh", "/bin/sleep", "/bin/cat", "/bin/ls", "/bin/env", "/bin/true", "/bin/mkdir",
		"/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6",
		"/etc/passwd", "/etc/group", "/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/ssl/certs"}
	for _, f := range files {
		if real, err := filepath.EvalSymlinks(f); err == nil {
			env[real] = f
		}
	}
	return env
}
