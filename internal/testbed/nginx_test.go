package testbed_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

func httpGet(url string, timeout time.Duration) (string, error) {
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestNginxServesReloadsPausesRestarts(t *testing.T) {
	t.Parallel()
	conf := func(msg string) string {
		return `server {
    listen 127.0.0.1:@PORT@;
    location / { return 200 "` + msg + `\n"; }
    location /dir { return 200 "@DIR@\n"; }
}`
	}
	n := testbed.StartNginx(t, conf("one"))
	url := "http://127.0.0.1:" + itoa(n.Port)
	if body, err := httpGet(url+"/", 5*time.Second); err != nil || body != "one\n" {
		t.Fatalf("GET / = %q, %v", body, err)
	}
	if body, _ := httpGet(url+"/dir", 5*time.Second); strings.TrimSpace(body) != n.Dir {
		t.Errorf("@DIR@ became %q, want %q", body, n.Dir)
	}
	if err := n.WriteConf(conf("two")); err != nil {
		t.Fatal(err)
	}
	if err := n.Reload(); err != nil {
		t.Fatal(err)
	}
	if body, err := httpGet(url+"/", 5*time.Second); err != nil || body != "two\n" {
		t.Fatalf("after Reload GET / = %q, %v", body, err)
	}
	if err := n.WriteConf("server { listen 127.0.0.1:@PORT@; bogus_directive; }"); err != nil {
		t.Fatal(err)
	}
	if err := n.Reload(); err == nil || !strings.Contains(err.Error(), "bogus_directive") {
		t.Errorf("Reload of a broken conf: %v, want the nginx -t error", err)
	}
	n.WriteConf(conf("three"))
	n.Pause()
	if _, err := httpGet(url+"/", 300*time.Millisecond); err == nil {
		t.Error("paused nginx answered")
	}
	n.Resume()
	n.Restart(t)
	if body, err := httpGet(url+"/", 5*time.Second); err != nil || body != "three\n" {
		t.Fatalf("after Restart GET / = %q, %v", body, err)
	}
}

func TestNginxWholeConfProxiesToStandIn(t *testing.T) {
	t.Parallel()
	webPort := testbed.FreePort(t)
	testbed.StartCommand(t, testbed.Command{Name: "web", Path: testbed.BuildPlatform(t), Args: []string{"run", "web"},
		Env:   []string{"PORT=" + itoa(webPort), "KANTREE_INSTANCE_ID=behind-nginx"},
		Ready: testbed.HTTPReady("http://127.0.0.1:" + itoa(webPort) + "/health")})
	n := testbed.StartNginx(t, `# a whole nginx.conf
http {
    upstream app { server 127.0.0.1:`+itoa(webPort)+`; }
    server {
        listen 127.0.0.1:@PORT@;
        location / { proxy_pass http://app; }
    }
}
`)
	body, err := httpGet("http://127.0.0.1:"+itoa(n.Port)+"/", 5*time.Second)
	if err != nil || body != "behind-nginx\n" {
		t.Fatalf("GET through nginx = %q, %v", body, err)
	}
	if b, _ := os.ReadFile(n.ConfPath); !strings.Contains(string(b), "daemon off;") {
		t.Errorf("the conf lacks daemon off:\n%s", b)
	}
	_ = context.Background
}
