//go:build cluster

package cluster_test

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

	"github.com/kantree-nomad/kantree-nomad/generator"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// lb is a load-balancer host for a deployment: nginx serving the site
// consul-template renders from the deployment's lb/nginx.conf.ctmpl.
type lb struct {
	url   string // http://127.0.0.1:port
	nginx *testbed.Nginx
}

// startLB renders the site once, starts nginx on it, then keeps
// consul-template following the catalog and reloading nginx.
func (e *env) startLB(t *testing.T, files []generator.File, port int) *lb {
	t.Helper()
	dir := t.TempDir()
	ctmpl, site := filepath.Join(dir, "nginx.conf.ctmpl"), filepath.Join(dir, "site.conf")
	data, ok := generator.FindFile(files, "lb/nginx.conf.ctmpl")
	if !ok {
		t.Fatal("no lb/nginx.conf.ctmpl rendered")
	}
	if err := os.WriteFile(ctmpl, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := testbed.RunConsulTemplateOnce(t, "-consul-addr", e.cl.Consul.HTTPAddr, "-template", ctmpl+":"+site); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	n := testbed.StartNginx(t, "include "+site+";\n")
	reload := fmt.Sprintf("%s -s reload -p %s/ -c %s -e %s/error.log", testbed.Binary(t, "nginx"), n.Dir, n.ConfPath, n.Dir)
	testbed.StartConsulTemplate(t, "-consul-addr", e.cl.Consul.HTTPAddr, "-template", ctmpl+":"+site+":"+reload)
	l := &lb{url: fmt.Sprintf("http://127.0.0.1:%d", port), nginx: n}
	l.waitServing(t)
	return l
}

// waitServing waits until the site answers 200.
func (l *lb) waitServing(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if code, _ := l.get(context.Background(), "/health"); code == 200 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("nginx does not serve the site")
}

var lbClient = &http.Client{Timeout: 10 * time.Second}

func (l *lb) get(ctx context.Context, path string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", l.url+path, nil)
	if err != nil {
		return 0, err
	}
	req.Host = "kantree.test"
	resp, err := lbClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// load sends requests through the load balancer from workers goroutines,
// each waiting pause between requests, until stop is called; it counts the
// requests and the failures (an error or a status other than 200).
type load struct {
	requests, failures atomic.Int64
	mu                 sync.Mutex
	samples            []string
	failedStarts       []time.Time // when each failed request was sent
	cancel             context.CancelFunc
	wg                 sync.WaitGroup
}

func (l *lb) startLoad(workers int, pause time.Duration) *load {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // bounded whatever happens
	ld := &load{cancel: cancel}
	for range workers {
		ld.wg.Add(1)
		go func() {
			defer ld.wg.Done()
			for ctx.Err() == nil {
				sent := time.Now()
				code, err := l.get(ctx, "/")
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

func (ld *load) note(sent time.Time, s string) {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	ld.failedStarts = append(ld.failedStarts, sent)
	if len(ld.samples) < 10 {
		ld.samples = append(ld.samples, s)
	}
}

// failedSentAfter counts the failed requests sent at or after t: a
// request already in flight on a node when it dies or is cut off can only
// fail (nginx resends a request only on a connect error or timeout, and its
// read timeout is longer than the client's patience); every later one
// must succeed.
func (ld *load) failedSentAfter(t time.Time) int {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	n := 0
	for _, s := range ld.failedStarts {
		if !s.Before(t) {
			n++
		}
	}
	return n
}

// stop ends the load and returns the counts and a few failures.
func (ld *load) stop() (requests, failures int64, samples string) {
	ld.cancel()
	ld.wg.Wait()
	return ld.requests.Load(), ld.failures.Load(), strings.Join(ld.samples, "\n")
}
