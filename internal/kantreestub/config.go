package kantreestub

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Config is what a platform command reads from its configuration file and
// environment. Environment variables win over the file.
type Config struct {
	DatabaseURL string // DATABASE_URL, else database_url
	RedisURL    string // REDIS_URL, else redis_url
	SecretKey   string // SECRET_KEY, else secret_key
	ServerName  string // server_name
	WebPort     int    // web_port (default 5000)
	PushPort    int    // push_port (default 4000)
	Port        int    // PORT: the listen port of this task; 0 when unset
	BindAddr    string // BIND_ADDR (default 127.0.0.1)
	InstanceID  string // KANTREE_INSTANCE_ID (default hostname-pid)
	Version     string // KANTREE_VERSION
	LockHeld    bool   // KANTREE_LOCK_HELD=1, set by kantree-nomad supervise
	Fencing     string // KANTREE_FENCING_TOKEN, set by kantree-nomad supervise
	File        string // the configuration file read ("" when none)
	// Settings holds every key of the configuration file, for the test
	// knobs (see Knob).
	Settings map[string]string
}

// Getenv looks an environment variable up; os.Getenv in production.
type Getenv func(string) string

// LoadConfig reads the file named by KANTREE_CONFIG, else config-prod.yml
// in dir (a missing default file is not an error), then applies the
// environment.
func LoadConfig(getenv Getenv, dir string) (Config, error) {
	c := Config{WebPort: 5000, PushPort: 4000, BindAddr: "127.0.0.1"}
	file, explicit := getenv("KANTREE_CONFIG"), true
	if file == "" {
		file, explicit = filepath.Join(dir, "config-prod.yml"), false
	}
	kv, err := readFlatYAML(file)
	switch {
	case err == nil:
		c.File = file
	case errors.Is(err, fs.ErrNotExist) && !explicit:
	default:
		return c, fmt.Errorf("read config: %w", err)
	}
	if err := c.apply(kv, getenv); err != nil {
		return c, fmt.Errorf("config %s: %w", file, err)
	}
	return c, nil
}

func (c *Config) apply(kv map[string]string, getenv Getenv) error {
	c.Settings = kv
	c.DatabaseURL = first(getenv("DATABASE_URL"), kv["database_url"])
	c.RedisURL = first(getenv("REDIS_URL"), kv["redis_url"])
	c.SecretKey = first(getenv("SECRET_KEY"), kv["secret_key"])
	c.ServerName = kv["server_name"]
	for key, dst := range map[string]*int{"web_port": &c.WebPort, "push_port": &c.PushPort} {
		if err := parsePort(kv[key], key, dst); err != nil {
			return err
		}
	}
	if err := parsePort(getenv("PORT"), "PORT", &c.Port); err != nil {
		return err
	}
	c.BindAddr = first(getenv("BIND_ADDR"), c.BindAddr)
	host, _ := os.Hostname()
	c.InstanceID = first(getenv("KANTREE_INSTANCE_ID"), fmt.Sprintf("%s-%d", host, os.Getpid()))
	c.Version = getenv("KANTREE_VERSION")
	c.LockHeld = getenv("KANTREE_LOCK_HELD") == "1"
	c.Fencing = getenv("KANTREE_FENCING_TOKEN")
	return nil
}

func parsePort(v, name string, dst *int) error {
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%s = %q is not a port number", name, v)
	}
	*dst = n
	return nil
}

// Knob returns the test knob name (e.g. "KANTREE_STUB_HEALTH_FAIL") from
// the environment, else from the configuration file under its lower-case
// name ("kantree_stub_health_fail"), so that a test can set it through
// either.
func (c Config) Knob(getenv Getenv, name string) string {
	return first(getenv(name), c.Settings[strings.ToLower(name)])
}

// SecretKeyID is a short fingerprint of the secret key (the first 8 hex
// digits of its SHA-256; "" when there is none): the web process sends it
// in X-Kantree-Secret, so a test can tell which value an instance runs
// with, and the value itself never leaves the process.
func (c Config) SecretKeyID() string {
	if c.SecretKey == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(c.SecretKey))
	return hex.EncodeToString(sum[:4])
}

// ListenPort is PORT when set, else fallback (web_port or push_port).
func (c Config) ListenPort(fallback int) int {
	if c.Port != 0 {
		return c.Port
	}
	return fallback
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// readFlatYAML reads `key: value` lines: blank lines and # comments are
// skipped, values may be single- or double-quoted, and a # after
// whitespace in an unquoted value starts a comment.
func readFlatYAML(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	kv := map[string]string{}
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") || line == "---" {
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(key) == "" {
			return nil, fmt.Errorf("%s:%d: want `key: value`", path, n)
		}
		v, err := yamlScalar(strings.TrimSpace(val))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		kv[strings.TrimSpace(key)] = v
	}
	return kv, s.Err()
}

func yamlScalar(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	switch q := v[0]; q {
	case '"':
		end := strings.LastIndexByte(v, '"')
		if end == 0 {
			return "", fmt.Errorf("unterminated double-quoted value")
		}
		return strconv.Unquote(v[:end+1])
	case '\'':
		end := strings.LastIndexByte(v, '\'')
		if end == 0 {
			return "", fmt.Errorf("unterminated single-quoted value")
		}
		return strings.ReplaceAll(v[1:end], "''", "'"), nil
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v, nil
}
