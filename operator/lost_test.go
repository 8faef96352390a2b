package operator

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
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
	p := newDroppingProxy(t, s.b.nomad.Addr(), map[string]drop{
		s.job + "-upgrade-db": dropRequest,
		s.job:                 dropAnswer,
	})

	start := time.Now()
	out, code := s.runEnv(ctx, []string{"NOMAD_ADDR=" + p.url}, "deploy", s.file)
	t.Logf("figure: deploy with both submissions cut: exit %d after %s; transcript:\n%s", code, time.Since(start).Round(100*time.Millisecond), out)
	if dropped := p.droppedJobs(); len(dropped) != 2 {
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
}

type drop int

const (
	dropRequest drop = iota + 1 // close the connection; Nomad never sees the request
	dropAnswer                  // pass the request on, then close without the answer
)

// droppingProxy is a reverse proxy to a Nomad agent that cuts the first
// submission (PUT /v1/jobs) of each listed job as told.
type droppingProxy struct {
	url     string
	mu      sync.Mutex
	pending map[string]drop
	dropped []string
}

func newDroppingProxy(t *testing.T, agent string, drops map[string]drop) *droppingProxy {
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
		if r.Method != http.MethodPut || r.URL.Path != "/v1/jobs" {
			rp.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var req struct{ Job struct{ ID string } }
		_ = json.Unmarshal(body, &req)
		how := p.take(req.Job.ID)
		if how == dropAnswer {
			fwd, _ := http.NewRequest(http.MethodPut, agent+r.URL.RequestURI(), bytes.NewReader(body))
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

// take returns how to cut the submission of job id (0: not at all), once.
func (p *droppingProxy) take(id string) drop {
	p.mu.Lock()
	defer p.mu.Unlock()
	how := p.pending[id]
	if how != 0 {
		delete(p.pending, id)
		p.dropped = append(p.dropped, id)
	}
	return how
}

func (p *droppingProxy) droppedJobs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.dropped...)
}
