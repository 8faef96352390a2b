package kantreestub_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kantree-nomad/kantree-nomad/internal/kantreestub"
)

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestInitNodeIsIdempotent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config-prod.yml"), "server_name: kantree.test\n")
	for i := 0; i < 2; i++ {
		if out, code := runPlatform(t, dir, nil, "init_node"); code != 0 {
			t.Fatalf("init_node #%d: exit %d: %s", i+1, code, out)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, kantreestub.NodeMarker))
	if err != nil || !strings.Contains(string(b), `"kantree.test"`) {
		t.Fatalf("marker: %q, %v", b, err)
	}
	if st, err := os.Stat(filepath.Join(dir, "logs")); err != nil || !st.IsDir() {
		t.Errorf("logs dir: %v", err)
	}
}

func TestGenConfigWritesReadableConfigWithoutSecretsAndNeverOverwrites(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := []string{"SERVER_NAME=kantree.example.com", "DATABASE_URL=postgres://k:s3cret@db/k"}
	if out, code := runPlatform(t, dir, env, "gen_config", "config-prod.yml"); code != 0 {
		t.Fatalf("gen_config: exit %d: %s", code, out)
	}
	file := filepath.Join(dir, "config-prod.yml")
	b, _ := os.ReadFile(file)
	if strings.Contains(string(b), "s3cret") {
		t.Errorf("gen_config wrote a secret:\n%s", b)
	}
	cfg, err := kantreestub.LoadConfig(func(string) string { return "" }, dir)
	if err != nil || cfg.ServerName != "kantree.example.com" || cfg.WebPort != 5000 || cfg.PushPort != 4000 || cfg.File != file {
		t.Errorf("config read back: %+v, %v", cfg, err)
	}
	out, code := runPlatform(t, dir, env, "gen_config", "config-prod.yml")
	if code != 1 || !strings.Contains(out, "exists") {
		t.Errorf("second gen_config: exit %d, %q; want a refusal", code, out)
	}
}
