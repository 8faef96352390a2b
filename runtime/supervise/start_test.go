package supervise_test

import (
	"crypto/tls"
	"encoding/pem"
	"io"
	"net"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// closedAddr is a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestStartTimeout (issue 8): a supervisor that cannot reach Consul at
// start fails after -start-timeout, naming the address and the variables
// that choose it.
func TestStartTimeout(t *testing.T) {
	bin := testbed.BuildKantreeNomad(t)
	addr := closedAddr(t)
	cmd := exec.Command(bin, "supervise", "-key", "kantree/test/start-timeout", "-start-timeout", "1s", "--", "true")
	cmd.Env = append(os.Environ(), "CONSUL_HTTP_ADDR="+addr)
	start := time.Now()
	out, _ := cmd.CombinedOutput()
	took := time.Since(start)
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit code %d, want 1; output:\n%s", code, out)
	}
	if took > 5*time.Second {
		t.Errorf("gave up after %s, want about the 1s start timeout", took)
	}
	for _, want := range []string{"no answer from Consul at http://" + addr + " within 1s", "connection refused",
		"kantree-nomad: hint:", "CONSUL_HTTP_ADDR", "unix://", "CONSUL_CACERT", "CONSUL_HTTP_TOKEN_FILE", "-start-timeout"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// runExit7 runs a supervisor whose command checks it holds the lock, has
// no Consul token, and exits 7; it returns the supervisor's exit code and
// output.
func runExit7(t *testing.T, env ...string) (int, string) {
	t.Helper()
	bin := testbed.BuildKantreeNomad(t)
	key := "kantree/test/" + strings.ReplaceAll(t.Name(), "/", "-")
	envFile := filepath.Join(t.TempDir(), "env")
	cmd := exec.Command(bin, "supervise", "-key", key, "--",
		"sh", "-c", `env > "$0"; test "$KANTREE_LOCK_HELD" = 1 && exit 7`, envFile)
	cmd.Env = append(os.Environ(), env...)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()
	out, _ := cmd.CombinedOutput()
	b, _ := os.ReadFile(envFile)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "CONSUL_HTTP_TOKEN") || strings.HasPrefix(line, "CONSUL_HTTP_AUTH") {
			t.Errorf("the command got a Consul credential: %s", line)
		}
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// TestCommandGetsNoConsulToken is issue 10, case 5: with the lock's token
// the command could delete the key.
func TestCommandGetsNoConsulToken(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("0b8a7c1e-8d63-4c1d-a1a4-61d3b1e0c0de"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := runExit7(t, "CONSUL_HTTP_ADDR="+sharedConsul(t).HTTPAddr,
		"CONSUL_HTTP_TOKEN=0b8a7c1e-8d63-4c1d-a1a4-61d3b1e0c0de", "CONSUL_HTTP_TOKEN_FILE="+tokenFile)
	if code != 7 {
		t.Errorf("exit code %d, want the command's 7; output:\n%s", code, out)
	}
}

// TestConsulOverUnixSocket: CONSUL_HTTP_ADDR=unix:///path works (here a
// socket that forwards to the test agent's HTTP port).
func TestConsulOverUnixSocket(t *testing.T) {
	target := sharedConsul(t).HTTPAddr
	dir, err := os.MkdirTemp("", "kn-sock") // short: socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "consul.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go forward(l, target)
	if code, out := runExit7(t, "CONSUL_HTTP_ADDR=unix://"+sock); code != 7 {
		t.Errorf("exit code %d over the unix socket, want the command's 7; output:\n%s", code, out)
	}
}

// forward copies each connection accepted on l to target, both ways.
func forward(l net.Listener, target string) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			u, err := net.Dial("tcp", target)
			if err != nil {
				return
			}
			defer u.Close()
			go func() { _, _ = io.Copy(u, c) }()
			_, _ = io.Copy(c, u)
		}()
	}
}

// TestConsulOverTLS: CONSUL_HTTP_ADDR=https://..., CONSUL_CACERT work
// (here a TLS proxy in front of the test agent, with its own CA).
func TestConsulOverTLS(t *testing.T) {
	target, err := url.Parse("http://" + sharedConsul(t).HTTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1
	srv := httptest.NewUnstartedServer(proxy)
	srv.Config.ErrorLog = nil
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(srv.URL, "https://")
	code, out := runExit7(t, "CONSUL_HTTP_ADDR="+addr, "CONSUL_HTTP_SSL=true", "CONSUL_CACERT="+ca)
	if code != 7 {
		t.Errorf("exit code %d over TLS, want the command's 7; output:\n%s", code, out)
	}
}
