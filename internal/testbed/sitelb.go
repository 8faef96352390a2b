package testbed

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// SiteLB is a load-balancer host for one deployment, as an operator runs
// it: nginx serving the site that consul-template renders from the
// deployment's lb/nginx.conf.ctmpl, reloaded whenever the catalog changes.
type SiteLB struct {
	URL   string // http://127.0.0.1:port
	Host  string // the Host header the site answers (server_name)
	Nginx *Nginx
}

// StartSiteLB renders the site once (so that nginx starts on a real
// config), starts nginx including it, then keeps consul-template following
// the Consul agent at consulAddr and reloading nginx, and waits until the
// site answers on port.
func StartSiteLB(t testing.TB, consulAddr string, ctmpl []byte, port int, host string) *SiteLB {
	t.Helper()
	dir := t.TempDir()
	src, site := filepath.Join(dir, "nginx.conf.ctmpl"), filepath.Join(dir, "site.conf")
	if err := os.WriteFile(src, ctmpl, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := RunConsulTemplateOnce(t, "-consul-addr", consulAddr, "-template", src+":"+site); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	n := StartNginx(t, "include "+site+";\n")
	reload := fmt.Sprintf("%s -s reload -p %s/ -c %s -e %s/error.log", Binary(t, "nginx"), n.Dir, n.ConfPath, n.Dir)
	StartConsulTemplate(t, "-consul-addr", consulAddr, "-template", src+":"+site+":"+reload)
	l := &SiteLB{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Host: host, Nginx: n}
	l.WaitServing(t, "/health")
	return l
}

// WaitServing waits until path answers 200.
func (l *SiteLB) WaitServing(t testing.TB, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if code, _ := l.Get(context.Background(), path); code == 200 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("nginx does not serve the site")
}

// lbPatience is how long a client of the site waits for an answer.
const lbPatience = 10 * time.Second

var lbClient = &http.Client{Timeout: lbPatience}

// Get sends a GET for path and returns the status code.
func (l *SiteLB) Get(ctx context.Context, path string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", l.URL+path, nil)
	if err != nil {
		return 0, err
	}
	req.Host = l.Host
	resp, err := lbClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Load sends GET / through a site from several workers, each pausing
// between requests, until Stop (or 10 minutes, whatever happens). It counts
// the requests and the failures (an error, a timeout or a status other
// than 200) and remembers when each failed request was sent.
type Load struct {
	requests, failures atomic.Int64
	mu                 sync.Mutex
	samples            []string
	failedSent         []time.Time
	cancel             context.CancelFunc
	wg                 sync.WaitGroup
}

// StartLoad starts workers sending GET / with pause between requests.
func (l *SiteLB) StartLoad(workers int, pause time.Duration) *Load {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	ld := &Load{cancel: cancel}
	for range workers {
		ld.wg.Add(1)
		go func() {
			defer ld.wg.Done()
			for ctx.Err() == nil {
				sent := time.Now()
				code, err := l.Get(ctx, "/")
				if ctx.Err() != nil {
					return
				}
				ld.requests.Add(1)
				if err != nil || code != 200 {
					ld.failures.Add(1)
					ld.note(sent, fmt.Sprintf("sent %s, failed %s: %d %v", sent.Format("15:04:05.000"), time.Now().Format("15:04:05.000"), code, err))
				}
				time.Sleep(pause)
			}
		}()
	}
	return ld
}

func (ld *Load) note(sent time.Time, s string) {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	ld.failedSent = append(ld.failedSent, sent)
	if len(ld.samples) < 10 {
		ld.samples = append(ld.samples, s)
	}
}

// FailedSentAfter counts the failed requests sent at or after t.
func (ld *Load) FailedSentAfter(t time.Time) int {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	n := 0
	for _, s := range ld.failedSent {
		if !s.Before(t) {
			n++
		}
	}
	return n
}

// FailedOffsets lists when each failed request was sent, relative to t
// (negative: before t), as "+0.41s" strings for a report.
func (ld *Load) FailedOffsets(t time.Time) string {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	var out []string
	for _, s := range ld.failedSent {
		out = append(out, fmt.Sprintf("%+.2fs", s.Sub(t).Seconds()))
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, " ")
}

// Stop ends the load and returns the counts and a few failures.
func (ld *Load) Stop() (requests, failures int64, samples string) {
	ld.cancel()
	ld.wg.Wait()
	return ld.requests.Load(), ld.failures.Load(), strings.Join(ld.samples, "\n")
}
