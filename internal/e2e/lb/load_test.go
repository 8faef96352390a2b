package lb_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
)

// load sends requests through nginx from a few workers until stopped
// (and for at most maxLoad): half GET /, half POST /sleep?ms=20 (a request
// that is in flight for a while, and that nginx may not resend). It
// records, per instance, when it first and last answered, and every
// failure (a transport error or a status other than 200).
type load struct {
	url    string
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	sent       map[string]int // by method
	failed     map[string]int // by method
	failures   []string
	first      map[string]time.Time // by instance
	last       map[string]time.Time
	byInstance map[string]int
}

// Load settings: bounded in workers, rate and time, loopback only.
const (
	loadWorkers = 4
	loadPause   = 5 * time.Millisecond
	maxLoad     = 5 * time.Minute
)

func startLoad(base string) *load { return startLoadTLS(base, nil) }

// startLoadTLS is startLoad over HTTPS, trusting what tc trusts.
func startLoadTLS(base string, tc *tls.Config) *load {
	ctx, cancel := context.WithTimeout(context.Background(), maxLoad)
	l := &load{url: base, cancel: cancel}
	l.reset()
	dial := (&net.Dialer{Timeout: 5 * time.Second}).DialContext
	get := &http.Client{Transport: &http.Transport{DialContext: dial, MaxIdleConnsPerHost: loadWorkers, TLSClientConfig: tc}, Timeout: 15 * time.Second}
	// POSTs open a connection each: an nginx reload closes the old
	// workers' idle client connections, and a POST Go's client has just
	// written on one of them fails with EOF without nginx ever reading it
	// (1 in about 3,000 in a CI run). Go resends only idempotent requests
	// then; browsers resend on a reused connection that closed before any
	// response. That race is the client's keep-alive, not a lost request
	// behind the load balancer, which is what this load counts.
	post := &http.Client{Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true, TLSClientConfig: tc}, Timeout: 15 * time.Second}
	for i := range loadWorkers {
		cl, method, path := get, http.MethodGet, "/"
		if i%2 == 1 {
			cl, method, path = post, http.MethodPost, "/sleep?ms=20"
		}
		l.wg.Add(1)
		go l.worker(ctx, cl, method, path)
	}
	return l
}

func (l *load) worker(ctx context.Context, cl *http.Client, method, path string) {
	defer l.wg.Done()
	for ctx.Err() == nil {
		status, inst, _, err := request(ctx, cl, method, l.url+path, nil)
		if ctx.Err() != nil {
			return
		}
		l.record(method, status, inst, err)
		time.Sleep(loadPause)
	}
}

func (l *load) record(method string, status int, inst string, err error) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent[method]++
	if err != nil || status != http.StatusOK {
		l.failed[method]++
		if len(l.failures) < 20 {
			msg := method + " " + http.StatusText(status)
			if err != nil {
				msg = method + " " + err.Error()
			}
			l.failures = append(l.failures, now.Format("15:04:05.000")+" "+msg)
		}
		return
	}
	if _, ok := l.first[inst]; !ok {
		l.first[inst] = now
	}
	l.last[inst] = now
	l.byInstance[inst]++
}

// reset clears the counts (not the first/last times).
func (l *load) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent, l.failed, l.failures, l.byInstance = map[string]int{}, map[string]int{}, nil, map[string]int{}
	if l.first == nil {
		l.first, l.last = map[string]time.Time{}, map[string]time.Time{}
	}
}

// seen returns when inst first and last answered.
func (l *load) seen(inst string) (first, last time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	first, ok = l.first[inst]
	return first, l.last[inst], ok
}

// counts returns requests sent and failed, by method, and the first failures.
func (l *load) counts() (sent, failed map[string]int, failures []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	sent, failed = map[string]int{}, map[string]int{}
	for k, v := range l.sent {
		sent[k] = v
	}
	for k, v := range l.failed {
		failed[k] = v
	}
	return sent, failed, append([]string(nil), l.failures...)
}

func (l *load) stop() {
	l.cancel()
	l.wg.Wait()
}
