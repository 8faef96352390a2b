package testbed_test

import (
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

func TestConsulDevAgentKV(t *testing.T) {
	t.Parallel()
	c := testbed.StartConsul(t)
	kv := c.Client().KV()
	if _, err := kv.Put(&api.KVPair{Key: "testbed/k", Value: []byte("v")}, nil); err != nil {
		t.Fatalf("KV put: %v", err)
	}
	p, _, err := kv.Get("testbed/k", nil)
	if err != nil || p == nil || string(p.Value) != "v" {
		t.Fatalf("KV get = %v, %v; want v", p, err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := kv.Get("testbed/k", nil); err == nil {
		t.Fatal("stopped agent answered")
	}
	c.Restart(t)
	if _, err := kv.Put(&api.KVPair{Key: "testbed/k", Value: []byte("v2")}, nil); err != nil {
		t.Fatalf("KV put after restart: %v", err)
	}
}

func TestConsulClusterElectsNewLeaderWhenLeaderKilled(t *testing.T) {
	t.Parallel()
	cl := testbed.StartConsulCluster(t)
	if len(cl.Servers) != 3 || cl.Client == nil || cl.Client.Server {
		t.Fatalf("cluster: %d servers, client %+v", len(cl.Servers), cl.Client)
	}
	members, err := cl.Client.Client().Agent().Members(false)
	if err != nil || len(members) != 4 {
		t.Fatalf("client agent sees %d members (%v); want 4", len(members), err)
	}
	kv := cl.Client.Client().KV()
	if _, err := kv.Put(&api.KVPair{Key: "k", Value: []byte("1")}, nil); err != nil {
		t.Fatalf("KV put through the client agent: %v", err)
	}
	old := cl.Leader(t)
	start := time.Now()
	if err := old.Kill(); err != nil {
		t.Fatal(err)
	}
	nl := cl.WaitLeader(t, time.Minute)
	t.Logf("new leader %s elected %v after killing %s", nl.Name, time.Since(start).Round(time.Millisecond), old.Name)
	if nl == old {
		t.Fatal("the killed server is still the leader")
	}
	// Only a consistent read waits for the new leader to catch up.
	p, _, err := kv.Get("k", &api.QueryOptions{RequireConsistent: true})
	if err != nil || p == nil || string(p.Value) != "1" {
		t.Fatalf("KV get after failover = %v, %v", p, err)
	}
	old.Restart(t)
	if l := cl.WaitLeader(t, time.Minute); l == nil {
		t.Fatal("no leader after the old leader came back")
	}
}

func TestConsulWithACLDeniesAnonymous(t *testing.T) {
	t.Parallel()
	c := testbed.StartConsulWith(t, testbed.ConsulOptions{ACL: true})
	if c.Token == "" {
		t.Fatal("no management token")
	}
	if _, err := c.Client().KV().Put(&api.KVPair{Key: "k", Value: []byte("v")}, nil); err != nil {
		t.Fatalf("KV put with the management token: %v", err)
	}
	cfg := c.Config()
	cfg.Token = ""
	anon, _ := api.NewClient(cfg)
	if _, err := anon.KV().Put(&api.KVPair{Key: "k", Value: []byte("v")}, nil); err == nil {
		t.Fatal("anonymous KV put allowed with default_policy deny")
	}
}
