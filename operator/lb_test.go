package operator

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/jobspec"
	"github.com/kantree-nomad/kantree-nomad/rules"
)

// lbBlock is a load_balancer block with nginx as a raw_exec system job
// (the test bed's nginx) listening on port, plus extra attributes of its
// system_job and nginx blocks.
func lbBlock(t *testing.T, port int, systemJob, nginx string) string {
	return fmt.Sprintf(`
load_balancer {
  listen = %d
  nginx {
%s  }
  system_job {
    driver = "raw_exec"
    nginx  = %q
%s  }
}
`, port, nginx, testbed.Binary(t, "nginx"), systemJob)
}

// The load balancer's system job, on the test node (node class "lb"):
// plan shows it new; a first deploy submits it before the service job
// and waits until it runs; it serves; plan then says no change and
// status lists its allocation. A change to it in the same deploy as a
// release whose health check fails leaves it as it was; once the release
// succeeds, deploy submits it after the service job.
func TestLoadBalancerSystemJob(t *testing.T) {
	t.Parallel()
	s := newSite(t, "ktlb")
	ctx := testContext(t)
	port := testbed.FreePort(t)
	s.write("8.4.1", s.stdArchive("8.4.1"), lbBlock(t, port, "", ""))

	out, code := s.run(ctx, "plan", s.file)
	t.Logf("plan of a new deployment with a system_job (exit %d):\n%s", code, out)
	if code != 1 || !strings.Contains(out, "Job ktlb-lb (load balancer, system job): new; deploy submits it before the service job") {
		t.Errorf("plan: exit %d, want 1 and the load balancer job as new", code)
	}
	s.out.take()
	mustDeploy(t, s, ctx)
	out = s.out.take()
	checkOrder(t, out, "==> Load balancer job ktlb-lb: new job", "running 1 of 1 nodes", "==> Load balancer job ktlb-lb version 0 running and passing its check on 1 nodes", "==> Service job ktlb: new job")
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	if code := get(t, base+jobspec.LBHealthPath); code != http.StatusOK {
		t.Errorf("GET %s through the load balancer: %d, want 200", jobspec.LBHealthPath, code)
	}

	if out, code := s.run(ctx, "plan", s.file); code != 0 || !strings.Contains(out, "Job ktlb-lb (load balancer, system job): no change (version 0)") {
		t.Errorf("plan of the deployed file: exit %d, want 0 and no change for ktlb-lb\n%s", code, out)
	}
	out, code = s.run(ctx, "status", s.file)
	t.Logf("status:\n%s", out)
	if code != 0 || !strings.Contains(out, "Load balancer job ktlb-lb: running, version 0, running 1 of 1 nodes") || !strings.Contains(out, ": running (version 0)") {
		t.Errorf("status: exit %d, or it lacks the load balancer job and its allocation", code)
	}

	// A release whose web never passes its check, with a change to the
	// load balancer: Nomad reverts the service job; the LB is untouched.
	lbChanged := lbBlock(t, port, "", "    wait_max = \"2s\"\n")
	os.WriteFile(s.webMarker, nil, 0o644)
	s.write("8.4.2", s.failingArchive("8.4.2"), lbChanged)
	if out, code := s.run(ctx, "plan", s.file); code != 1 || !strings.Contains(out, "Job ktlb-lb (load balancer, system job): changes (running version 0); deploy submits them once the service job's deployment succeeds") {
		t.Errorf("plan of a change to the running load balancer: exit %d\n%s", code, out)
	}
	s.out.take()
	err := s.cluster().Deploy(ctx, s.release(), false)
	out = s.out.take()
	if !errors.Is(err, ErrFailed) || !strings.Contains(out, "the load balancer job ktlb-lb was not changed") {
		t.Errorf("deploy of a failing release: %v, want ErrFailed and the load balancer left alone", err)
	}
	if v := version(lbJob(t, s)); v != 0 {
		t.Errorf("load balancer job at version %d after a failed release, want 0", v)
	}
	if out, _ := s.run(ctx, "status", s.file); !strings.Contains(out, "Drift: the load balancer job ktlb-lb differs from what kantree.hcl renders now") {
		t.Errorf("status after the failed release does not show the load balancer's pending change as drift:\n%s", out)
	}

	os.Remove(s.webMarker)
	s.out.take()
	mustDeploy(t, s, ctx)
	out = s.out.take()
	checkOrder(t, out, "==> Service job ktlb:", "successful", "==> Load balancer job ktlb-lb: version 0 -> 1", "==> Load balancer job ktlb-lb version 1 running and passing its check on 1 nodes")
	if code := get(t, base+jobspec.LBHealthPath); code != http.StatusOK {
		t.Errorf("GET %s after the load balancer's update: %d, want 200", jobspec.LBHealthPath, code)
	}
}

// A load balancer job that cannot run: no node of its class (the hint
// says where to set it), then an nginx path that does not exist on the
// node (its allocation fails; deploy prints the task's events, as for any
// failure). Neither submits the service job.
func TestLoadBalancerSystemJobFailures(t *testing.T) {
	t.Parallel()
	s := newSite(t, "ktlbbad")
	ctx := testContext(t)
	port := testbed.FreePort(t)
	a := s.stdArchive("8.4.1")

	s.write("8.4.1", a, lbBlock(t, port, "    node_class = \"edge\"\n", ""))
	s.out.take()
	err := s.cluster().Deploy(ctx, s.release(), false)
	out := s.out.take()
	t.Logf("deploy with no node of the class: %v", err)
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), `no ready node has node class "edge"`) || !strings.Contains(rules.Hint(err), `Set node_class = "edge" in the client block`) {
		t.Errorf("deploy with no node of the load balancer's class: %v (hint %q)", err, rules.Hint(err))
	}
	if strings.Contains(out, "==> Service job") || !strings.Contains(out, "the service job ktlbbad was not submitted") {
		t.Errorf("the service job was submitted behind a load balancer that runs nowhere, or deploy did not say it was not:\n%s", out)
	}

	s.write("8.4.1", a, strings.Replace(lbBlock(t, port, "", ""), testbed.Binary(t, "nginx"), "/nonexistent/nginx", 1))
	start := time.Now()
	err = s.cluster().Deploy(ctx, s.release(), false)
	out = s.out.take()
	t.Logf("figure: deploy with a missing nginx failed after %s: %v", time.Since(start).Round(100*time.Millisecond), err)
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "an allocation failed") {
		t.Errorf("deploy with a missing nginx: %v, want ErrFailed", err)
	}
	for _, want := range []string{"(group nginx, node ", "task nginx: dead (failed)", "/nonexistent/nginx", "the service job ktlbbad was not submitted"} {
		if !strings.Contains(out, want) {
			t.Errorf("failure report lacks %q", want)
		}
	}
	if j, _, _ := s.b.nomad.Client().Jobs().Info(s.job, nil); j != nil {
		t.Errorf("the service job was submitted behind a failed load balancer")
	}
}

// checkOrder fails t unless out holds each of want, in that order.
func checkOrder(t *testing.T, out string, want ...string) {
	t.Helper()
	at := 0
	for _, w := range want {
		i := strings.Index(out[at:], w)
		if i < 0 {
			t.Errorf("output lacks %q after offset %d (or has it out of order)", w, at)
			return
		}
		at += i + len(w)
	}
}

func lbJob(t *testing.T, s *site) *nomadapi.Job {
	t.Helper()
	j, _, err := s.b.nomad.Client().Jobs().Info(s.job+"-lb", nil)
	if err != nil {
		t.Fatalf("read job %s-lb: %v", s.job, err)
	}
	return j
}

// get returns the status of a GET of url (0 when it fails).
func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Logf("GET %s: %v", url, err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
