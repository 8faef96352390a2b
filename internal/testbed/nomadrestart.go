package testbed

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
)

// ServerRestart is what RestartServer measured.
type ServerRestart struct {
	Hard bool // SIGKILL instead of SIGTERM
	// Stopped is when the server process had exited; Started when it was
	// started again; Leader when it had elected itself again; Ready when
	// every client was ready again.
	Stopped, Started, Leader, Ready time.Time
	// Stop is how long the server took to exit once signalled.
	Stop time.Duration
}

// Down is how long the server's HTTP API could not answer: from its exit
// until it had a leader again.
func (r ServerRestart) Down() time.Duration { return r.Leader.Sub(r.Stopped) }

// RestartServer stops the Nomad server (SIGTERM, or SIGKILL when hard),
// waits down, starts it again with the same command line (the same data
// dir, ports and configuration: a single server recovers its jobs,
// allocations and deployments from its raft log and snapshots), and
// returns once it has a leader again and every client is ready again. It
// fails t otherwise. The clients, their tasks and the Consul agents run on
// throughout.
func (cl *NomadCluster) RestartServer(t testing.TB, hard bool, down time.Duration) ServerRestart {
	t.Helper()
	r := ServerRestart{Hard: hard}
	signalled := time.Now()
	// The Process's own Stop and Kill: Nomad's Stop stops every job first,
	// and Nomad's Kill reaps tasks, which a server runs none of.
	stop := cl.Server.Process.Stop
	if hard {
		stop = cl.Server.Process.Kill
	}
	if err := stop(); err != nil {
		t.Fatalf("testbed: restart the nomad server: %v", err)
	}
	r.Stopped = time.Now()
	r.Stop = r.Stopped.Sub(signalled)
	time.Sleep(down)
	r.Started = time.Now()
	cl.Server.launch(t) // ready: a leader is elected
	r.Leader = time.Now()
	if err := cl.waitNodesReady(readyTimeout); err != nil {
		t.Fatalf("testbed: after the nomad server's restart: %v\n--- %s log (%s) ---\n%s", err, cl.Server.name, cl.Server.LogPath(), cl.Server.LogTail(40))
	}
	r.Ready = time.Now()
	t.Logf("testbed: nomad server restarted (hard %v): exited %s after the signal, down %s, clients ready %s after the leader",
		hard, r.Stop.Round(time.Millisecond), r.Down().Round(10*time.Millisecond), r.Ready.Sub(r.Leader).Round(10*time.Millisecond))
	return r
}

// waitNodesReady polls until the server lists every client as ready.
func (cl *NomadCluster) waitNodesReady(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for {
		last = nil
		for _, nd := range cl.Nodes {
			if err := cl.nodeReady(ctx, nd); err != nil {
				last = fmt.Errorf("%s: %w", nd.Name, err)
				break
			}
		}
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("clients not ready after %s: %w", timeout, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// StartLeaderlessNomad starts a Nomad server on loopback that waits for
// two more servers that never come (bootstrap_expect = 3): its HTTP API
// answers, and every call that needs a leader gets Nomad's own 500 "No
// cluster leader", as it does during an election or right after a server
// restart. It is for tests of how a client tells such an answer apart.
func StartLeaderlessNomad(t testing.TB) *Nomad {
	t.Helper()
	dir := t.TempDir()
	n := &Nomad{DataDir: filepath.Join(dir, "data")}
	n.Process = startRetrying(t, func() procSpec {
		n.pickPorts(t)
		hcl := strings.Replace(n.serverHCL("127.0.0.1"), "bootstrap_expect = 1", "bootstrap_expect = 3", 1) +
			"advertise {\n  http = \"127.0.0.1\"\n  rpc  = \"127.0.0.1\"\n  serf = \"127.0.0.1\"\n}\n"
		n.ConfigPath = writeFile(t, dir, "server.hcl", hcl, 0o600)
		return procSpec{name: "nomad-leaderless", path: Binary(t, "nomad"), dir: dir, logDir: dir, ready: n.selfReady,
			args: []string{"agent", "-config", n.ConfigPath}}
	})
	return n
}

// selfReady: the agent's HTTP API answers (leader or not).
func (n *Nomad) selfReady(ctx context.Context) error {
	var self map[string]any
	q := (&nomadapi.QueryOptions{}).WithContext(ctx)
	if _, err := n.Client().Raw().Query("/v1/agent/self", &self, q); err != nil {
		return fmt.Errorf("nomad: agent/self: %w", err)
	}
	return nil
}
