package kantreestub

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func envOf(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestLoadConfigReadsFlatYAMLAndEnvWins(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config-prod.yml")
	body := `# Kantree
---
server_name: "kantree.example.com"   # quoted
database_url: 'postgres://file@db/kantree'
redis_url: redis://file:6379/0 # trailing comment
web_port: 8080
push_port: 8081

`
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{name: "file only", env: map[string]string{"KANTREE_INSTANCE_ID": "i1"},
			want: Config{DatabaseURL: "postgres://file@db/kantree", RedisURL: "redis://file:6379/0",
				ServerName: "kantree.example.com", WebPort: 8080, PushPort: 8081, BindAddr: "127.0.0.1", InstanceID: "i1", File: file}},
		{name: "env wins", env: map[string]string{"KANTREE_INSTANCE_ID": "i2", "DATABASE_URL": "postgres://env@db/k",
			"REDIS_URL": "redis://env:1/0", "PORT": "9000", "BIND_ADDR": "127.0.0.2", "KANTREE_VERSION": "8.4.1",
			"KANTREE_LOCK_HELD": "1", "KANTREE_FENCING_TOKEN": "77"},
			want: Config{DatabaseURL: "postgres://env@db/k", RedisURL: "redis://env:1/0", ServerName: "kantree.example.com",
				WebPort: 8080, PushPort: 8081, Port: 9000, BindAddr: "127.0.0.2", InstanceID: "i2", Version: "8.4.1",
				LockHeld: true, Fencing: "77", File: file}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadConfig(envOf(tc.env), dir)
			if err != nil {
				t.Fatal(err)
			}
			if got.Settings["server_name"] != "kantree.example.com" || got.Settings["web_port"] != "8080" {
				t.Errorf("Settings = %v", got.Settings)
			}
			got.Settings = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("LoadConfig:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestKnobFromEnvironmentElseConfigFile(t *testing.T) {
	c := Config{Settings: map[string]string{"kantree_stub_health_fail": "1", "kantree_stub_upgrade_fail": "from file"}}
	env := envOf(map[string]string{"KANTREE_STUB_UPGRADE_FAIL": "from env"})
	if got := c.Knob(env, "KANTREE_STUB_HEALTH_FAIL"); got != "1" {
		t.Errorf("knob only in the file = %q", got)
	}
	if got := c.Knob(env, "KANTREE_STUB_UPGRADE_FAIL"); got != "from env" {
		t.Errorf("knob in both = %q; want the environment's", got)
	}
	if got := c.Knob(env, "KANTREE_STUB_NOPE"); got != "" {
		t.Errorf("unset knob = %q", got)
	}
}

func TestLoadConfigDefaultsAndErrors(t *testing.T) {
	dir := t.TempDir()
	c, err := LoadConfig(envOf(nil), dir)
	if err != nil {
		t.Fatalf("no config-prod.yml must not be an error: %v", err)
	}
	if c.WebPort != 5000 || c.PushPort != 4000 || c.ListenPort(c.WebPort) != 5000 || c.BindAddr != "127.0.0.1" ||
		!strings.Contains(c.InstanceID, "-") {
		t.Errorf("defaults: %+v", c)
	}
	if _, err := LoadConfig(envOf(map[string]string{"KANTREE_CONFIG": filepath.Join(dir, "nope.yml")}), dir); err == nil {
		t.Error("a missing KANTREE_CONFIG file must be an error")
	}
	bad := filepath.Join(dir, "bad.yml")
	for _, body := range []string{"web_port: eighty\n", "just words\n", "x: \"open\n"} {
		os.WriteFile(bad, []byte(body), 0o600)
		if _, err := LoadConfig(envOf(map[string]string{"KANTREE_CONFIG": bad}), dir); err == nil {
			t.Errorf("config %q: no error", body)
		}
	}
	if _, err := LoadConfig(envOf(map[string]string{"PORT": "70000"}), dir); err == nil {
		t.Error("PORT=70000: no error")
	}
}

func TestRedactErrHidesPassword(t *testing.T) {
	u := "postgres://kantree:hunter2@127.0.0.1:5432/db"
	err := redactErr(errorString("failed to connect to "+u), u)
	if strings.Contains(err.Error(), "hunter2") || strings.Contains(redactURL(u), "hunter2") {
		t.Errorf("password leaked: %v / %s", err, redactURL(u))
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }
