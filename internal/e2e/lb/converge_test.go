package lb_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// scaleEvents is how many scale-ups and scale-downs the convergence test
// measures (each about 4 s).
const scaleEvents = 10

// TestNginxFollowsConsul: the generated consul-template configuration and
// site, on a real Consul, consul-template and nginx, under load. A web
// instance whose check passes is served within 2 s (p95 over scaleEvents
// scale-ups); one that leaves Consul stops receiving requests before its
// shutdown_delay ends and it is stopped, with no failed request. Then: a
// web instance SIGKILLed under load (failures counted, GETs retried), push
// sessions moved by scaling push 2→3→2, and the maintenance page.
func TestNginxFollowsConsul(t *testing.T) {
	c := testbed.StartConsul(t)
	platform := testbed.BuildPlatform(t)
	h := startLBHost(t, c)
	webs := startPassing(t, c.Client(), platform, "web", 2)
	pushes := startPassing(t, c.Client(), platform, "push", 2)
	l := startLoad(h.base)
	defer l.stop()
	for _, in := range webs {
		waitServed(t, l, in.id)
	}

	t.Run("scale", func(t *testing.T) { scale(t, h, l, c, platform) })
	t.Run("sigkill", func(t *testing.T) { sigkill(t, l, c, platform) })
	t.Run("push sessions", func(t *testing.T) { pushMoves(t, h, c, platform) })
	t.Run("maintenance", func(t *testing.T) {
		l.stop()
		for _, in := range append(webs, pushes...) {
			in.deregister(t)
		}
		maintenance(t, h)
	})
}

// scale adds and removes a third web instance scaleEvents times, as Nomad
// would: register and pass; deregister, wait shutdown_delay, SIGTERM.
func scale(t *testing.T, h *lbHost, l *load, c *testbed.Consul, platform string) {
	delay := h.dep.Process("web").ShutdownDelay
	l.reset()
	var up, out []time.Duration
	for i := range scaleEvents {
		in := startInstance(t, c.Client(), platform, "web", fmt.Sprintf("web-scale-%d", i))
		passed := in.pass(t)
		first := waitServed(t, l, in.id)
		up = append(up, first.Sub(passed))
		time.Sleep(500 * time.Millisecond)
		left := in.deregister(t)
		time.Sleep(delay)
		_, last, _ := l.seen(in.id)
		if err := in.proc.Stop(); err != nil {
			t.Fatal(err)
		}
		out = append(out, last.Sub(left))
		if last.Sub(left) >= delay {
			t.Errorf("scale-down %d: %s still served %s after leaving Consul; shutdown_delay is %s", i, in.id, last.Sub(left), delay)
		}
	}
	sent, failed, failures := l.counts()
	t.Logf("figure: scale-up to served: p50 %s, p95 %s, max %s over %d events (%v)", pct(up, 50), pct(up, 95), pct(up, 100), len(up), up)
	t.Logf("figure: scale-down, last request after leaving Consul: p50 %s, max %s (shutdown_delay %s)", pct(out, 50), pct(out, 100), delay)
	t.Logf("figure: scale load: sent %v, failed %v", sent, failed)
	if p := pct(up, 95); p > 2*time.Second {
		t.Errorf("convergence p95 %s, want under 2s", p)
	}
	if failed["GET"]+failed["POST"] != 0 {
		t.Errorf("%v requests failed during scale events: %s", failed, strings.Join(failures, "; "))
	}
}

// sigkill kills a serving web instance without warning: nginx retries
// what it can on another instance; a POST already sent to the killed
// process is lost.
func sigkill(t *testing.T, l *load, c *testbed.Consul, platform string) {
	in := startInstance(t, c.Client(), platform, "web", "web-killed")
	in.pass(t)
	waitServed(t, l, in.id)
	l.reset()
	if err := in.proc.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	in.waitCheck(t, in.id+"-http", "critical")
	critical := time.Since(killed)
	time.Sleep(3 * time.Second)
	sent, failed, failures := l.counts()
	t.Logf("figure: SIGKILL of a serving web instance (check critical after %s): sent %v, failed %v %s",
		critical.Round(time.Millisecond), sent, failed, strings.Join(failures, "; "))
	if failed["GET"] != 0 {
		t.Errorf("%d GET requests failed; nginx should have retried them on another instance", failed["GET"])
	}
	in.deregister(t)
}

// waitServed waits until the load has reached inst, and returns when.
func waitServed(t *testing.T, l *load, inst string) time.Time {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if first, _, ok := l.seen(inst); ok {
			return first
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s not served through nginx after 15s", inst)
	return time.Time{}
}

// pct is the p-th percentile of ds (nearest rank).
func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	i := (p*len(s)+99)/100 - 1
	return s[max(0, min(i, len(s)-1))].Round(time.Millisecond)
}

// pushMoves opens sessions (each a client with its own sticky cookie) on
// two push instances, scales push to 3 and back to 2, and counts the
// clients whose cookie now reaches another instance.
func pushMoves(t *testing.T, h *lbHost, c *testbed.Consul, platform string) {
	const clients = 300
	cookies := make([]string, clients)
	at := make([]string, clients)
	for i := range cookies {
		at[i], cookies[i] = h.handshake(t, "")
	}
	third := startInstance(t, c.Client(), platform, "push", "push-c")
	third.pass(t)
	h.waitPush(t, third.id, true)
	moved2to3, at3 := h.remap(t, cookies, at)
	third.deregister(t)
	h.waitPush(t, third.id, false)
	moved3to2, _ := h.remap(t, cookies, at3)
	t.Logf("figure: push sessions moved: 2→3 %d of %d (%.0f%%; ideal 33%%), 3→2 %d of %d (%.0f%%; ideal: those on the removed instance)",
		moved2to3, clients, 100*float64(moved2to3)/clients, moved3to2, clients, 100*float64(moved3to2)/clients)
	if moved2to3 > clients/2 || moved3to2 > clients/2 {
		t.Errorf("more than half the sessions moved: the hash is not consistent")
	}
	if err := third.proc.Stop(); err != nil {
		t.Fatal(err)
	}
}

// handshake opens a push session, sending cookie ("" on first contact),
// and returns the instance and the sticky cookie to send next time.
func (h *lbHost) handshake(t *testing.T, cookie string) (inst, next string) {
	t.Helper()
	var hdr http.Header
	if cookie != "" {
		hdr = http.Header{"Cookie": {cookie}}
	}
	status, inst, resp, err := request(t.Context(), http.DefaultClient, http.MethodGet, h.base+"/socket.io/?EIO=4&transport=polling", hdr)
	if err != nil || status != http.StatusOK {
		t.Fatalf("push handshake: %v %d", err, status)
	}
	if cookie != "" {
		return inst, cookie
	}
	set, _, _ := strings.Cut(resp.Get("Set-Cookie"), ";")
	if !strings.HasPrefix(set, h.dep.LB.CookieName+"=") {
		t.Fatalf("push handshake: no sticky cookie set (headers %v)", resp)
	}
	return inst, set
}

// remap sends each client's handshake again and counts those that reach
// another instance than before.
func (h *lbHost) remap(t *testing.T, cookies, before []string) (int, []string) {
	t.Helper()
	moved, now := 0, make([]string, len(cookies))
	for i, ck := range cookies {
		now[i], _ = h.handshake(t, ck)
		if now[i] != before[i] {
			moved++
		}
	}
	return moved, now
}

// waitPush waits until fresh clients reach inst (want true) or until the
// site no longer lists it and nginx reloaded (want false).
func (h *lbHost) waitPush(t *testing.T, inst string, want bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		seen := false
		for range 30 {
			got, _ := h.handshake(t, "")
			seen = seen || got == inst
		}
		if seen == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("push instance %s: reachable %v after 15s", inst, !want)
}

// maintenance: with no healthy instance, web and push answer 503 with
// Retry-After and the maintenance page.
func maintenance(t *testing.T, h *lbHost) {
	deadline := time.Now().Add(10 * time.Second)
	for _, path := range []string{"/", "/socket.io/?EIO=4&transport=polling"} {
		for {
			status, _, hdr, err := request(t.Context(), http.DefaultClient, http.MethodGet, h.base+path, nil)
			if err == nil && status == http.StatusServiceUnavailable {
				if hdr.Get("Retry-After") != "30" || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
					t.Errorf("GET %s: 503 with Retry-After %q, Content-Type %q; want 30, text/html", path, hdr.Get("Retry-After"), hdr.Get("Content-Type"))
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s with no healthy instance: %d %v, want 503", path, status, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
