package testbed

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"strconv"
	"testing"
	"time"
)

// ConsulCluster is three Consul servers and one client agent, each on its
// own 127.0.0.x address, gossiping with a key of their own.
type ConsulCluster struct {
	Servers []*Consul // 3 servers
	Client  *Consul   // a client agent joined to the servers
}

// StartConsulCluster starts three servers (-bootstrap-expect 3) and a
// client agent on distinct loopback addresses, with fast raft and gossip
// timings, and returns once a leader is elected and the client agent knows
// it. Restarting a member (Process.Restart) waits only until its HTTP API
// answers: use WaitLeader afterwards.
func StartConsulCluster(t testing.TB) *ConsulCluster {
	t.Helper()
	ips := loopbackIPs(t, 4)
	key := gossipKey(t)
	cl := &ConsulCluster{}
	var serfs []string
	for i := 0; i < 3; i++ {
		c := newConsul(t, consulAgent{ip: ips[i], name: fmt.Sprintf("server%d-%s", i+1, randomHex(t, 2)), server: true})
		cl.Servers = append(cl.Servers, c)
		serfs = append(serfs, c.SerfAddr)
	}
	cl.Client = newConsul(t, consulAgent{ip: ips[3], name: "client-" + randomHex(t, 2)})
	for i, c := range cl.Servers {
		others := append(append([]string{}, serfs[:i]...), serfs[i+1:]...)
		a := consulAgent{server: true, bootstrapExpect: 3, join: others, encrypt: key}
		c.start(t, a, c.agentReady)
		serfs[i] = c.SerfAddr
	}
	cl.Client.start(t, consulAgent{join: serfs, encrypt: key}, cl.Client.agentReady)
	cl.WaitLeader(t, readyTimeout)
	cl.waitAgentLeader(t, cl.Client, readyTimeout)
	return cl
}

// loopbackIPs picks n distinct random addresses 127.0.0.2-127.0.0.254 that
// can be bound (on Linux all of 127.0.0.0/8 is routed to lo).
func loopbackIPs(t testing.TB, n int) []string {
	t.Helper()
	seen := map[int]bool{}
	var ips []string
	for len(ips) < n {
		x := 2 + mrand.IntN(253)
		if seen[x] {
			continue
		}
		seen[x] = true
		ip := "127.0.0." + strconv.Itoa(x)
		l, err := net.Listen("tcp", ip+":0")
		if err != nil {
			msg := fmt.Sprintf("testbed: cannot bind %s (%v): the Consul cluster needs all of 127.0.0.0/8 on lo, as Linux has", ip, err)
			if CI() {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
		l.Close()
		ips = append(ips, ip)
	}
	return ips
}

// Leader returns the server that is the raft leader now, failing t when no
// running server reports a leader that is one of the cluster's servers.
func (cl *ConsulCluster) Leader(t testing.TB) *Consul {
	t.Helper()
	l, err := cl.leader()
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	return l
}

// WaitLeader waits up to timeout until a leader is elected among the
// running servers and returns it.
func (cl *ConsulCluster) WaitLeader(t testing.TB, timeout time.Duration) *Consul {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		l, err := cl.leader()
		if err == nil {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("testbed: no Consul leader after %s: %v", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// leader asks each running server for the leader; it succeeds only when
// the answers agree and name a running server.
func (cl *ConsulCluster) leader() (*Consul, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var found *Consul
	for _, s := range cl.Servers {
		if !s.Running() {
			continue
		}
		addr, err := s.leader(ctx)
		if err != nil {
			return nil, err
		}
		l := cl.byServerAddr(addr)
		if l == nil || !l.Running() {
			return nil, fmt.Errorf("consul %s reports leader %q, not a running server", s.Name, addr)
		}
		if found != nil && found != l {
			return nil, fmt.Errorf("servers disagree on the leader: %s and %s", found.Name, l.Name)
		}
		found = l
	}
	if found == nil {
		return nil, fmt.Errorf("no running Consul server")
	}
	return found, nil
}

func (cl *ConsulCluster) byServerAddr(addr string) *Consul {
	for _, s := range cl.Servers {
		if s.ServerAddr == addr {
			return s
		}
	}
	return nil
}

// waitAgentLeader waits until agent c reports a leader.
func (cl *ConsulCluster) waitAgentLeader(t testing.TB, c *Consul, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		l, err := c.leader(ctx)
		cancel()
		if err == nil && l != "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testbed: consul agent %s knows no leader after %s (last error: %v)", c.Name, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
