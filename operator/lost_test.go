package operator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	consulapi "github.com/hashicorp/consul/api"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/rules"
)

// TestLostSubmissionAnswer: a connection cut mid-submission leaves deploy
// not knowing whether Nomad took the job. Behind a proxy that drops the
// first submission of the upgrade job before it reaches Nomad, and drops
// Nomad's answer to the first submission of the service job after Nomad
// took it, deploy reads each job back: the first did not land and is
// submitted again, the second landed and is followed (not submitted
// twice, not reported as failed). The release completes, exit 0, with one
// migration and one version of the service job.
func TestLostSubmissionAnswer(t *testing.T) {
	t.Parallel()
	s := newSite(t, "ktlost")
	ctx := testContext(t)
	s.write("8.4.1", s.stdArchive("8.4.1"), "")
	p := newDroppingProxy(t, s.b.nomad.Addr(), jobSubmission, map[string]drop{
		s.job + "-upgrade-db": dropRequest,
		s.job:                 dropAnswer,
	})

	start := time.Now()
	out, code := s.runEnv(ctx, []string{"NOMAD_ADDR=" + p.url}, "deploy", s.file)
	t.Logf("figure: deploy with both submissions cut: exit %d after %s; transcript:\n%s", code, time.Since(start).Round(100*time.Millisecond), out)
	if dropped := p.cutNames(); len(dropped) != 2 {
		t.Fatalf("the proxy cut %v, want both submissions: the test did not test", dropped)
	}
	if code != 0 {
		t.Fatalf("deploy exit %d, want 0\n%s", code, s.b.nomad.AllocReport(s.job))
	}
	for _, want := range []string{
		"the answer to the submission of job ktlost-upgrade-db was lost",
		"job ktlost-upgrade-db was not changed: the submission did not land; submitting it again",
		"the answer to the submission of job ktlost was lost",
		"job ktlost version 0 is the one submitted: the submission landed",
		"migrated to 8.4.1",
		"successful",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("deploy output lacks %q", want)
		}
	}
	if v := *s.serviceJob().Version; v != 0 {
		t.Errorf("service job at version %d, want 0: submitted more than once", v)
	}
	if n := upgradeRuns(t, s, "8.4.1"); n != 1 {
		t.Errorf("upgrade_db ran %d times, want 1", n)
	}

	// An admin command must not run twice unasked: its job's answer lost
	// after Nomad took it, run follows the job it submitted.
	adminRun := func(r *http.Request, body []byte) string {
		if id := jobSubmission(r, body); strings.HasPrefix(id, s.job+"-run-") {
			return "admin"
		}
		return ""
	}
	pr := newDroppingProxy(t, s.b.nomad.Addr(), adminRun, map[string]drop{"admin": dropAnswer})
	out, code = s.runEnv(ctx, []string{"NOMAD_ADDR=" + pr.url}, "run", s.file, "--", "./platform", "admin_note", "lost answer")
	t.Logf("run admin_note with its submission's answer cut (exit %d):\n%s", code, out)
	if len(pr.cutNames()) != 1 {
		t.Fatalf("the proxy cut nothing: the test did not test")
	}
	if code != 0 || !strings.Contains(out, "the submission landed") || !strings.Contains(out, "admin_note: wrote") {
		t.Errorf("run with its answer cut: exit %d, want 0, the landed submission followed and the command's output", code)
	}
	var n int
	if err := testbed.Connect(t, s.db).QueryRow(context.Background(), "SELECT count(*) FROM kantree_stub_admin_notes WHERE note = 'lost answer'").Scan(&n); err != nil || n != 1 {
		t.Errorf("the admin command ran %d times (%v), want once", n, err)
	}
}

type drop int

const (
	dropRequest drop = iota + 1 // close the connection; Nomad never sees the request
	dropAnswer                  // pass the request on, then close without the answer
)

// jobSubmission names a Nomad job submission (PUT /v1/jobs) by its job.
func jobSubmission(r *http.Request, body []byte) string {
	if r.Method != http.MethodPut || r.URL.Path != "/v1/jobs" {
		return ""
	}
	var req struct{ Job struct{ ID string } }
	_ = json.Unmarshal(body, &req)
	return req.Job.ID
}

// kvWrite names a Consul KV write: "PUT key" or "DELETE key".
func kvWrite(r *http.Request, _ []byte) string {
	key, ok := strings.CutPrefix(r.URL.Path, "/v1/kv/")
	if !ok || (r.Method != http.MethodPut && r.Method != http.MethodDelete) {
		return ""
	}
	return r.Method + " " + key
}

// droppingProxy is a reverse proxy to an agent's HTTP API that cuts the
// first request of each name (as nameOf names them) as told.
type droppingProxy struct {
	url     string
	mu      sync.Mutex
	pending map[string]drop
	dropped []string
}

func newDroppingProxy(t *testing.T, agent string, nameOf func(*http.Request, []byte) string, drops map[string]drop) *droppingProxy {
	t.Helper()
	target, err := url.Parse(agent)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &droppingProxy{url: "http://" + l.Addr().String(), pending: drops}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		how := p.take(nameOf(r, body))
		if how == dropAnswer {
			fwd, _ := http.NewRequest(r.Method, agent+r.URL.RequestURI(), bytes.NewReader(body))
			fwd.Header = r.Header.Clone()
			if resp, err := http.DefaultClient.Do(fwd); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		if how != 0 {
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rp.ServeHTTP(w, r)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return p
}

// take returns how to cut the request named name (0: not at all), once.
func (p *droppingProxy) take(name string) drop {
	p.mu.Lock()
	defer p.mu.Unlock()
	how := p.pending[name]
	if how != 0 {
		delete(p.pending, name)
		p.dropped = append(p.dropped, name)
	}
	return how
}

// cutNames are the names of the requests cut, in order.
func (p *droppingProxy) cutNames() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.dropped...)
}

// TestLostMaintenanceAnswer: maintenance on whose answer Consul's
// connection drops after Consul wrote the key, and maintenance off whose
// request never reaches Consul, both end true: the key is read back, the
// first is done (exit 0, said on stderr), the second is written again.
func TestLostMaintenanceAnswer(t *testing.T) {
	t.Parallel()
	b := sharedBed(t)
	r := exampleRelease(t)
	r.Dep.Job = "ktlostkv"
	key := rules.MaintenanceKey(r.Dep.Job)
	p := newDroppingProxy(t, "http://"+b.consul.HTTPAddr, kvWrite, map[string]drop{
		"PUT " + key:    dropAnswer,
		"DELETE " + key: dropRequest,
	})
	cc, err := consulapi.NewClient(&consulapi.Config{Address: strings.TrimPrefix(p.url, "http://")})
	if err != nil {
		t.Fatal(err)
	}
	var out, warn bytes.Buffer
	c := &Cluster{Consul: cc, Out: &out, Warn: &warn, Now: time.Now, Poll: 250 * time.Millisecond}
	ctx := testContext(t)
	if err := c.SetMaintenance(ctx, r, true, []string{"10.1.0.0/16"}); err != nil {
		t.Fatalf("maintenance on, answer lost: %v\n%s%s", err, warn.String(), out.String())
	}
	if m, err := c.Maintenance(ctx, r); err != nil || !m.On || len(m.Allow) != 1 || m.Allow[0] != "10.1.0.0/16" {
		t.Errorf("after on: %v %v, want on allowing 10.1.0.0/16", m, err)
	}
	if err := c.SetMaintenance(ctx, r, false, nil); err != nil {
		t.Fatalf("maintenance off, request lost: %v\n%s%s", err, warn.String(), out.String())
	}
	if m, err := c.Maintenance(ctx, r); err != nil || m.On {
		t.Errorf("after off: %v %v, want off", m, err)
	}
	t.Logf("stderr:\n%sstdout:\n%s", warn.String(), out.String())
	if dropped := p.cutNames(); len(dropped) != 2 {
		t.Fatalf("the proxy cut %v, want both writes: the test did not test", dropped)
	}
	for _, want := range []string{"shows the change was made", "is unchanged; writing it again"} {
		if !strings.Contains(warn.String(), want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
}

// TestLostAnswerOfAVanishedJob: a submission (of a job read at modify
// index 5) never reaches Nomad, and the job is gone when read back
// (purged by someone meanwhile): a conflict, nothing submitted.
func TestLostAnswerOfAVanishedJob(t *testing.T) {
	t.Parallel()
	b := sharedBed(t)
	r := exampleRelease(t)
	job := copyJob(r.Bundle.Service)
	id := "ktvanished"
	job.ID, job.Name = &id, &id
	p := newDroppingProxy(t, b.nomad.Addr(), jobSubmission, map[string]drop{id: dropRequest})
	nc, err := nomadapi.NewClient(&nomadapi.Config{Address: p.url})
	if err != nil {
		t.Fatal(err)
	}
	var out, warn bytes.Buffer
	c := &Cluster{Nomad: nc, Out: &out, Warn: &warn, Now: time.Now, Poll: 250 * time.Millisecond, Outage: time.Minute}
	_, err = c.register(testContext(t), r, job, 5)
	t.Logf("register: %v\nstderr:\n%sstdout:\n%s", err, warn.String(), out.String())
	if !errors.Is(err, ErrConflict) || len(p.cutNames()) != 1 {
		t.Errorf("register of a vanished job after a lost request: %v (cut %v), want ErrConflict", err, p.cutNames())
	}
	if _, _, err := b.nomad.Client().Jobs().Info(id, nil); err == nil {
		t.Errorf("job %s exists: something was submitted", id)
	}
}
