package lb_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/generator"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// TestLBSystemJobOnNomad submits the rendered <job>-lb system job to a real
// Nomad agent (raw_exec, the test bed's nginx): nginx's site comes from
// the job's template block over the agent's Consul. Requests through it
// reach web and push, its Consul check passes, and it serves a new web
// instance soon after its check passes. The test node has no node class,
// so the job's node-class constraint is dropped before submitting it.
func TestLBSystemJobOnNomad(t *testing.T) {
	c := testbed.StartConsul(t)
	n := testbed.StartNomad(t, c, testbed.NomadOptions{})
	platform := testbed.BuildPlatform(t)
	startPassing(t, c.Client(), platform, "web", 2)
	startPassing(t, c.Client(), platform, "push", 1)
	port := testbed.FreePort(t)
	job := lbJob(t, n, port)
	if got := job.Constraints; len(got) != 1 || got[0].RTarget != jobspec.DefaultLBNodeClass {
		t.Fatalf("constraints %v; want node class %q", got, jobspec.DefaultLBNodeClass)
	}
	job.Constraints = nil
	n.RegisterJob(t, job)
	n.WaitRunning(t, *job.ID, 1, 2*time.Minute)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	waitHTTP(t, base+jobspec.LBHealthPath, 30*time.Second)

	seen := map[string]bool{}
	for range 20 {
		_, inst, _, _ := request(t.Context(), http.DefaultClient, http.MethodGet, base+"/", nil)
		seen[inst] = true
	}
	if !seen["web-a"] || !seen["web-b"] {
		t.Errorf("20 requests through the Nomad LB reached %v; want web-a and web-b", seen)
	}
	h := &lbHost{base: base}
	h.dep = &jobspec.Deployment{LB: jobspec.LoadBalancer{CookieName: "kantree_push"}}
	if inst, _ := h.handshake(t, ""); inst != "push-a" {
		t.Errorf("push handshake through the Nomad LB reached %q, want push-a", inst)
	}
	waitPassingLB(t, c, *job.ID)

	l := startLoad(base)
	defer l.stop()
	in := startInstance(t, c.Client(), platform, "web", "web-nomad-new")
	passed := in.pass(t)
	served := waitServed(t, l, in.id)
	t.Logf("figure: Nomad LB job: new web instance served %s after its check passed", served.Sub(passed).Round(time.Millisecond))
	left := in.deregister(t)
	time.Sleep(3 * time.Second)
	_, last, _ := l.seen(in.id)
	t.Logf("figure: Nomad LB job: last request to the removed instance %s after it left Consul", last.Sub(left).Round(time.Millisecond))
	if _, failed, failures := l.counts(); failed["GET"]+failed["POST"] != 0 {
		t.Errorf("%v requests failed through the Nomad LB: %s", failed, strings.Join(failures, "; "))
	}
}

// lbJob renders the load-balancer system job for the test bed: raw_exec,
// its nginx, a free port on loopback, and parses it back as Nomad does.
func lbJob(t *testing.T, n *testbed.Nomad, port int) *nomadapi.Job {
	t.Helper()
	src := fmt.Sprintf(`job = "kantree"
nomad_version = "1.6"
kantree {
  version     = "8.4.1"
  server_name = "kantree.test"
  archive { url = "http://127.0.0.1:1/kantree.tar.gz" }
}
load_balancer {
  listen = %d
  system_job {
    driver = "raw_exec"
    nginx  = %q
  }
}
`, port, testbed.Binary(t, "nginx"))
	dep, _, diags := jobspec.Parse("kantree.hcl", []byte(src), jobspec.LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags)
	}
	b, err := generator.Generate(dep)
	if err != nil {
		t.Fatal(err)
	}
	files, err := b.Render("hcl")
	if err != nil {
		t.Fatal(err)
	}
	hcl := string(file(t, files, "kantree-lb.nomad.hcl"))
	hcl = strings.Replace(hcl, fmt.Sprintf("listen %d;", port), fmt.Sprintf("listen 127.0.0.1:%d;", port), 1)
	job, err := n.Client().Jobs().ParseHCL(hcl, true)
	if err != nil {
		t.Fatalf("nomad parses kantree-lb.nomad.hcl: %v\n%s", err, hcl)
	}
	return job
}

func waitHTTP(t *testing.T, url string, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	ready := testbed.HTTPReady(url)
	for ready(ctx) != nil {
		if ctx.Err() != nil {
			t.Fatalf("%s not answering after %s", url, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitPassingLB waits until Consul has the load balancer's own service
// with its check passing.
func waitPassingLB(t *testing.T, c *testbed.Consul, service string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		entries, _, err := c.Client().Health().Service(service, "", true, nil)
		if err == nil && len(entries) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("service %s: %d passing after 30s (%v)", service, len(entries), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
