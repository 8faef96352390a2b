package testbed_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

func TestConsulTemplateOnceAndWatching(t *testing.T) {
	t.Parallel()
	c := testbed.StartConsul(t)
	kv := c.Client().KV()
	if _, err := kv.Put(&api.KVPair{Key: "app/greeting", Value: []byte("hello")}, nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "in.ctmpl")
	os.WriteFile(tmpl, []byte(`greeting={{ key "app/greeting" }}`+"\n"), 0o644)
	once := filepath.Join(dir, "once.txt")
	if out, err := testbed.RunConsulTemplateOnce(t, "-consul-addr", c.HTTPAddr, "-template", tmpl+":"+once); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if b, _ := os.ReadFile(once); string(b) != "greeting=hello\n" {
		t.Fatalf("rendered %q", b)
	}
	if out, err := testbed.RunConsulTemplateOnce(t, "-consul-addr", c.HTTPAddr, "-template", filepath.Join(dir, "missing")+":"+once); err == nil {
		t.Errorf("a missing template did not fail: %s", out)
	}
	live := filepath.Join(dir, "live.txt")
	testbed.StartConsulTemplate(t, "-consul-addr", c.HTTPAddr, "-template", tmpl+":"+live)
	waitFile(t, live, "greeting=hello\n")
	kv.Put(&api.KVPair{Key: "app/greeting", Value: []byte("bonjour")}, nil)
	waitFile(t, live, "greeting=bonjour\n")
}

func waitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if string(b) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %q, want %q", path, strings.TrimSpace(string(b)), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
