package kantreestub_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestWebAnswersInstanceIDAndHealthAndStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	port := testbed.FreePort(t)
	base := "http://127.0.0.1:" + itoa(port)
	p := startPlatform(t, "web", []string{"PORT=" + itoa(port), "KANTREE_INSTANCE_ID=web-a"},
		testbed.HTTPReady(base+"/health"), "run", "web")
	code, body, h := get(t, base+"/")
	if code != 200 || body != "web-a\n" || h.Get("X-Kantree-Instance") != "web-a" {
		t.Errorf("GET / = %d %q (header %q), want 200 \"web-a\\n\"", code, body, h.Get("X-Kantree-Instance"))
	}
	if code, body, _ := get(t, base+"/health"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Errorf("GET /health = %d %q", code, body)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if p.ExitCode() != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0; log:\n%s", p.ExitCode(), p.LogTail(10))
	}
}

func TestWebPortFromConfigFileAndBindAddr(t *testing.T) {
	t.Parallel()
	port := testbed.FreePort(t)
	dir := t.TempDir()
	writeFile(t, dir+"/config-prod.yml", "web_port: "+itoa(port)+"\n")
	if out, code := runPlatform(t, dir, nil, "init_node"); code != 0 {
		t.Fatalf("init_node: exit %d: %s", code, out)
	}
	p := testbed.StartCommand(t, testbed.Command{Name: "web", Path: testbed.BuildPlatform(t), Dir: dir,
		Args: []string{"run", "web"}, Env: []string{"KANTREE_INSTANCE_ID=from-file"},
		Ready: testbed.HTTPReady("http://127.0.0.1:" + itoa(port) + "/health")})
	if _, body, _ := get(t, "http://127.0.0.1:"+itoa(port)+"/"); body != "from-file\n" {
		t.Errorf("GET / = %q", body)
	}
	_ = p
}

func TestWebHealthFailsWhenKnobSaysSo(t *testing.T) {
	t.Parallel()
	port := testbed.FreePort(t)
	base := "http://127.0.0.1:" + itoa(port)
	startPlatform(t, "web", []string{"PORT=" + itoa(port), "KANTREE_STUB_HEALTH_FAIL=1"},
		testbed.TCPReady("127.0.0.1:"+itoa(port)), "run", "web")
	if code, body, _ := get(t, base+"/health"); code != http.StatusServiceUnavailable || !strings.Contains(body, "KANTREE_STUB_HEALTH_FAIL") {
		t.Errorf("GET /health = %d %q; want 503 naming the knob", code, body)
	}
	if code, _, _ := get(t, base+"/"); code != 200 {
		t.Errorf("GET / = %d; want 200 (only /health fails)", code)
	}
}

func TestUnknownCommandExits2WithHint(t *testing.T) {
	t.Parallel()
	out, code := runPlatform(t, t.TempDir(), nil, "frobnicate")
	if code != 2 || !strings.Contains(out, "unknown command frobnicate") || !strings.Contains(out, "hint:") {
		t.Errorf("exit %d, output %q", code, out)
	}
}

func TestWebDrainsRequestInFlightOnSIGTERM(t *testing.T) {
	t.Parallel()
	port := testbed.FreePort(t)
	base := "http://127.0.0.1:" + itoa(port)
	p := startPlatform(t, "web", []string{"PORT=" + itoa(port), "KANTREE_INSTANCE_ID=draining"},
		testbed.HTTPReady(base+"/health"), "run", "web")
	type result struct {
		code int
		body string
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/sleep?ms=800")
		if err != nil {
			res <- result{body: err.Error()}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		res <- result{resp.StatusCode, string(b)}
	}()
	time.Sleep(300 * time.Millisecond)
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if r := <-res; r.code != 200 || r.body != "draining\n" {
		t.Errorf("request in flight at SIGTERM: %d %q, want 200 draining", r.code, r.body)
	}
	<-p.Done()
	if p.ExitCode() != 0 {
		t.Errorf("exit %d after draining, want 0", p.ExitCode())
	}
	if _, err := http.Get(base + "/"); err == nil {
		t.Error("a stopped web instance still answers")
	}
}

// The web process reads the database password and the secret key at
// start: with the right password it serves and its health pings the
// database, and it sends the secret key's fingerprint (never the key);
// with a wrong password it exits 1 at once, and the password is not in
// its output.
func TestWebUsesDatabasePasswordAndSecretKey(t *testing.T) {
	t.Parallel()
	pg := sharedPostgres(t)
	dbURL := pg.CreateDatabase(t)
	dir := t.TempDir()
	if out, code := runPlatform(t, dir, nil, "init_node"); code != 0 {
		t.Fatalf("init_node: exit %d: %s", code, out)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	const badPW = `wr"ong@pa{{ss}}${x}`
	u.User = url.UserPassword(u.User.Username(), badPW)
	out, code := runPlatform(t, dir, []string{"DATABASE_URL=" + u.String(), "PORT=" + itoa(testbed.FreePort(t))}, "run", "web")
	t.Logf("web with a wrong database password: exit %d\n%s", code, out)
	if code != 1 || !strings.Contains(out, "connect to PostgreSQL") || strings.Contains(out, badPW) || strings.Contains(out, "pa{{ss") {
		t.Errorf("web with a wrong database password: exit %d, want 1 and a redacted connection error", code)
	}

	port := testbed.FreePort(t)
	base := "http://127.0.0.1:" + itoa(port)
	p := testbed.StartCommand(t, testbed.Command{Name: "web-db", Path: testbed.BuildPlatform(t), Dir: dir,
		Args: []string{"run", "web"}, Env: []string{"DATABASE_URL=" + dbURL, "SECRET_KEY=s3cret", "PORT=" + itoa(port)},
		Ready: testbed.HTTPReady(base + "/health")})
	code, _, h := get(t, base+"/")
	if code != 200 || h.Get("X-Kantree-Secret") == "" || strings.Contains(h.Get("X-Kantree-Secret"), "s3cret") {
		t.Errorf("GET / = %d, X-Kantree-Secret %q: want 200 and a fingerprint of the key", code, h.Get("X-Kantree-Secret"))
	}
	_ = p.Stop()
}
