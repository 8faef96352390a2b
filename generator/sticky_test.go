package generator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	consul "github.com/hashicorp/consul/api"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// TestStickyPushThroughNginx is the whole load-balancer path with real
// parts: two web and two push stand-ins registered in a test Consul with
// HTTP checks, consul-template rendering the generated site, nginx serving
// it. A push session (known only to the instance that opened it) must keep
// working for its client, in cookie mode even when the client's IP
// changes; fresh clients, even from one IP, spread over both push
// instances in cookie mode; in ip mode one IP keeps one instance and many
// IPs spread; web requests spread.
func TestStickyPushThroughNginx(t *testing.T) {
	c := testbed.StartConsul(t)
	platform := testbed.BuildPlatform(t)
	for _, inst := range []struct{ service, process, id string }{
		{"kantree-web", "web", "web-a"}, {"kantree-web", "web", "web-b"},
		{"kantree-push", "push", "push-a"}, {"kantree-push", "push", "push-b"},
	} {
		startInstance(t, c.Client(), platform, inst.service, inst.process, inst.id)
	}
	waitPassing(t, c.Client(), "kantree-web", 2)
	waitPassing(t, c.Client(), "kantree-push", 2)

	t.Run("cookie", func(t *testing.T) {
		lb := startNginx(t, c, "cookie")
		checkCookieStickiness(t, lb)
		checkWebSpreads(t, lb)
	})
	t.Run("ip", func(t *testing.T) {
		lb := startNginx(t, c, "ip")
		checkIPStickiness(t, lb)
	})
}

// startInstance runs one stand-in process and registers it in Consul the
// way Nomad registers the generated service (name, tags, HTTP check).
func startInstance(t *testing.T, cl *consul.Client, platform, service, process, id string) {
	t.Helper()
	port := testbed.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	testbed.StartCommand(t, testbed.Command{
		Name: id, Path: platform, Args: []string{"run", process},
		Env:   []string{"PORT=" + strconv.Itoa(port), "BIND_ADDR=127.0.0.1", "KANTREE_INSTANCE_ID=" + id},
		Ready: testbed.HTTPReady(base + "/health"),
	})
	err := cl.Agent().ServiceRegister(&consul.AgentServiceRegistration{
		ID: id, Name: service, Address: "127.0.0.1", Port: port, Tags: []string{"kantree", "process=" + process, jobspec.RoutedTag},
		Check: &consul.AgentServiceCheck{HTTP: base + "/health", Interval: "500ms", Timeout: "1s"},
	})
	if err != nil {
		t.Fatalf("register %s: %v", id, err)
	}
}

func waitPassing(t *testing.T, cl *consul.Client, service string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		entries, _, err := cl.Health().Service(service, "", true, nil)
		if err == nil && len(entries) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d passing instances after 30s, want %d (err %v)", service, len(entries), n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// lbAddr is where nginx listens.
type lbAddr struct{ base string }

// startNginx renders the generated site with consul-template and runs
// nginx on it, listening on loopback only.
func startNginx(t *testing.T, c *testbed.Consul, sticky string) lbAddr {
	t.Helper()
	port := testbed.FreePort(t)
	h := newHost(t)
	h.install(t, renderBasicOn(t, sticky, port, h.layout(c.HTTPAddr)))
	ctmpl := filepath.Join(h.dir, "nginx.conf.ctmpl")
	src, err := os.ReadFile(ctmpl)
	if err != nil {
		t.Fatal(err)
	}
	write(t, ctmpl, []byte(replaceOnce(t, string(src), fmt.Sprintf("listen %d;", port), fmt.Sprintf("listen 127.0.0.1:%d;", port))))
	h.render(t)
	if os.Geteuid() == 0 { // workers must read and write the test's files
		conf, _ := os.ReadFile(h.nginxConf)
		write(t, h.nginxConf, append([]byte("user root;\n"), conf...))
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	testbed.StartCommand(t, testbed.Command{
		Name: "nginx-" + sticky, Path: h.nginx,
		Args:  []string{"-p", h.dir + "/", "-e", h.dir + "/logs/error.log", "-c", h.nginxConf, "-g", "daemon off;"},
		Ready: func(ctx context.Context) error { _, err := get(ctx, client(nil, ""), base+"/health"); return err },
	})
	return lbAddr{base}
}

// client makes an HTTP client with its own connections from source IP
// srcIP (any 127.0.0.0/8 address) and an optional cookie jar.
func client(jar http.CookieJar, srcIP string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if srcIP != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(srcIP)}
	}
	tr := &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}
	return &http.Client{Transport: tr, Jar: jar, Timeout: 10 * time.Second}
}

type response struct {
	status   int
	instance string
	body     string
	cookies  []*http.Cookie
}

func get(ctx context.Context, cl *http.Client, url string) (response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return response{}, err
	}
	req.Host = "kantree.example.com"
	resp, err := cl.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header.Get("X-Kantree-Instance"), string(body), resp.Cookies()}, nil
}

// handshake opens a push session and returns its sid and instance.
func (lb lbAddr) handshake(t *testing.T, cl *http.Client) (string, response) {
	t.Helper()
	r, err := get(context.Background(), cl, lb.base+"/socket.io/?EIO=4&transport=polling")
	if err != nil || r.status != 200 || !strings.HasPrefix(r.body, "0{") {
		t.Fatalf("handshake: %v %d %q", err, r.status, r.body)
	}
	var open struct{ Sid, Instance string }
	if err := json.Unmarshal([]byte(r.body[1:]), &open); err != nil || open.Sid == "" {
		t.Fatalf("handshake: open packet %q: %v", r.body, err)
	}
	return open.Sid, r
}

// keepsSession polls the session n times, each time from the next source
// IP of srcIPs (if any), and fails unless every poll reaches the instance
// that knows the session.
func (lb lbAddr) keepsSession(t *testing.T, jar http.CookieJar, sid, instance string, n int, srcIPs ...string) {
	t.Helper()
	for i := range n {
		ip := ""
		if len(srcIPs) > 0 {
			ip = srcIPs[i%len(srcIPs)]
		}
		r, err := get(context.Background(), client(jar, ip), lb.base+"/socket.io/?EIO=4&transport=polling&sid="+sid)
		if err != nil || r.status != 200 || r.instance != instance {
			t.Fatalf("poll %d from %q: %v, status %d, instance %q (session opened on %q): %s", i, ip, err, r.status, r.instance, instance, r.body)
		}
	}
}

func checkCookieStickiness(t *testing.T, lb lbAddr) {
	jar, _ := cookiejar.New(nil)
	sid, first := lb.handshake(t, client(jar, "127.0.0.2"))
	var cookie *http.Cookie
	for _, ck := range first.cookies {
		if ck.Name == "kantree_push" {
			cookie = ck
		}
	}
	if cookie == nil || cookie.Value == "" || !cookie.HttpOnly || cookie.Path != "/" || cookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("first contact: want cookie kantree_push (Path=/, HttpOnly, SameSite=Lax), got %v", first.cookies)
	}
	// Same client, its address changing on every request: the cookie holds it.
	lb.keepsSession(t, jar, sid, first.instance, 12, "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")
	// The session upgrades to a websocket through nginx, on the same instance.
	lb.upgrades(t, sid, cookie)
	// Fresh clients behind one address (one NAT) spread over both instances.
	seen := map[string]int{}
	for range 30 {
		j, _ := cookiejar.New(nil)
		_, r := lb.handshake(t, client(j, "127.0.0.6"))
		seen[r.instance]++
	}
	if len(seen) != 2 {
		t.Errorf("30 fresh clients from one IP reached %v; want both push instances", seen)
	}
	t.Logf("cookie mode: 30 fresh clients from one IP -> %v", seen)
}

func checkIPStickiness(t *testing.T, lb lbAddr) {
	sid, first := lb.handshake(t, client(nil, "127.0.0.7"))
	lb.keepsSession(t, nil, sid, first.instance, 12, "127.0.0.7")
	seen := map[string]int{}
	for i := range 40 {
		ip := fmt.Sprintf("127.0.1.%d", i+2)
		_, r := lb.handshake(t, client(nil, ip))
		_, again := lb.handshake(t, client(nil, ip))
		if again.instance != r.instance {
			t.Errorf("ip mode: %s reached %s, then %s", ip, r.instance, again.instance)
		}
		seen[r.instance]++
	}
	if len(seen) != 2 {
		t.Errorf("40 client IPs reached %v; want both push instances", seen)
	}
	t.Logf("ip mode: 40 client IPs -> %v", seen)
}

func checkWebSpreads(t *testing.T, lb lbAddr) {
	seen := map[string]int{}
	for range 20 {
		r, err := get(context.Background(), client(nil, ""), lb.base+"/")
		if err != nil || r.status != 200 {
			t.Fatalf("GET /: %v %d", err, r.status)
		}
		seen[strings.TrimSpace(r.body)]++
	}
	if len(seen) != 2 {
		t.Errorf("20 web requests reached %v; want both web instances", seen)
	}
	t.Logf("web: 20 requests -> %v", seen)
}

// upgrades opens the session's websocket through nginx (an unknown sid, on
// the other instance, would be refused with 400) and runs engine.io's probe.
func (lb lbAddr) upgrades(t *testing.T, sid string, cookie *http.Cookie) {
	t.Helper()
	url := "ws" + strings.TrimPrefix(lb.base, "http") + "/socket.io/?EIO=4&transport=websocket&sid=" + sid
	header := http.Header{"Cookie": {cookie.String()}, "Host": {"kantree.example.com"}}
	conn, resp, err := (&websocket.Dialer{HandshakeTimeout: 5 * time.Second}).Dial(url, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("websocket upgrade through nginx: %v (HTTP %d)", err, status)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := conn.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := conn.ReadMessage(); err != nil || string(msg) != "3probe" {
		t.Fatalf("websocket probe: %q, %v", msg, err)
	}
}
