package lb_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	consul "github.com/hashicorp/consul/api"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// instance is one stand-in process registered in Consul the way Nomad
// registers the generated service: the routed tag and an HTTP check, plus
// a TTL check the test passes at a moment it knows (the "check passing"
// instant convergence is measured from).
type instance struct {
	id, service string
	proc        *testbed.Process
	cl          *consul.Client
}

// startInstance runs a stand-in web or push process and registers it with
// its TTL check critical: nginx must not route to it yet.
func startInstance(t *testing.T, cl *consul.Client, platform, process, id string) *instance {
	t.Helper()
	port := testbed.FreePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	p := testbed.StartCommand(t, testbed.Command{
		Name: id, Path: platform, Args: []string{"run", process},
		Env:   []string{"PORT=" + strconv.Itoa(port), "BIND_ADDR=127.0.0.1", "KANTREE_INSTANCE_ID=" + id},
		Ready: testbed.HTTPReady(base + "/health"),
	})
	in := &instance{id: id, service: "kantree-" + process, proc: p, cl: cl}
	err := cl.Agent().ServiceRegister(&consul.AgentServiceRegistration{
		ID: id, Name: in.service, Address: "127.0.0.1", Port: port, Tags: []string{"kantree", jobspec.RoutedTag},
		Checks: consul.AgentServiceChecks{
			{CheckID: id + "-http", HTTP: base + "/health", Interval: "1s", Timeout: "1s"},
			{CheckID: id + "-ttl", TTL: "1h", Status: consul.HealthCritical},
		},
	})
	if err != nil {
		t.Fatalf("register %s: %v", id, err)
	}
	in.waitCheck(t, id+"-http", consul.HealthPassing)
	return in
}

// pass makes the instance healthy and returns when Consul said so.
func (in *instance) pass(t *testing.T) time.Time {
	t.Helper()
	if err := in.cl.Agent().UpdateTTL(in.id+"-ttl", "", consul.HealthPassing); err != nil {
		t.Fatalf("pass %s: %v", in.id, err)
	}
	return time.Now()
}

// deregister removes the instance from Consul, as Nomad does first when it
// stops an allocation.
func (in *instance) deregister(t *testing.T) time.Time {
	t.Helper()
	if err := in.cl.Agent().ServiceDeregister(in.id); err != nil {
		t.Fatalf("deregister %s: %v", in.id, err)
	}
	return time.Now()
}

func (in *instance) waitCheck(t *testing.T, checkID, status string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		checks, err := in.cl.Agent().Checks()
		if c, ok := checks[checkID]; err == nil && ok && c.Status == status {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("check %s not %s after 30s", checkID, status)
}

// startPassing starts instances that are healthy at once.
func startPassing(t *testing.T, cl *consul.Client, platform, process string, n int) []*instance {
	t.Helper()
	var out []*instance
	for i := range n {
		in := startInstance(t, cl, platform, process, fmt.Sprintf("%s-%c", process, 'a'+i))
		in.pass(t)
		out = append(out, in)
	}
	return out
}
