package supervise

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

func validConfig() Config {
	return Config{Key: "kantree/scheduler", TTL: 10 * time.Second, LockDelay: 5 * time.Second,
		KillGrace: 2 * time.Second, CheckTTL: 3 * time.Second, CheckService: "kantree-scheduler-lock", Command: []string{"./platform", "run", "scheduler"}}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		change   func(*Config)
		wantErr  string // "" for a valid config
		wantHint string
	}{
		{name: "defaults are safe", change: func(*Config) {}},
		{name: "no key", change: func(c *Config) { c.Key = "" }, wantErr: "no lock key", wantHint: "-key"},
		{name: "no check service", change: func(c *Config) { c.CheckService = "" }, wantErr: "no service name", wantHint: "-check-service"},
		{name: "no command", change: func(c *Config) { c.Command = nil }, wantErr: "no command", wantHint: "--"},
		{name: "check TTL not below lock-delay", change: func(c *Config) { c.CheckTTL = 5 * time.Second },
			wantErr: "check TTL 5s", wantHint: "-check-ttl"},
		{name: "fence deadline too short", change: func(c *Config) { c.LockDelay = 3 * time.Second; c.CheckTTL = time.Second },
			wantErr: "unsafe scheduler lock timings: lock_delay", wantHint: "Raise lock_delay"},
		{name: "key with '..'", change: func(c *Config) { c.Key = "kantree/../../other/lock" },
			wantErr: `-key: lock key "kantree/../../other/lock" has a ".." segment`, wantHint: "normal form"},
		{name: "key with '//'", change: func(c *Config) { c.Key = "kantree//x" },
			wantErr: "empty segment", wantHint: "normal form"},
		{name: "negative start timeout", change: func(c *Config) { c.StartTimeout = -time.Second },
			wantErr: "start timeout", wantHint: "-start-timeout"},
		{name: "TTL below Consul's minimum", change: func(c *Config) { c.TTL = 5 * time.Second },
			wantErr: "unsafe scheduler lock timings: ttl", wantHint: "10s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.change(&c)
			err := c.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(rules.Hint(err), tc.wantHint) {
				t.Fatalf("Validate() = %v (hint %q), want an error with %q and a hint with %q", err, rules.Hint(err), tc.wantErr, tc.wantHint)
			}
		})
	}
}

func TestPeriodsFitTheFenceDeadline(t *testing.T) {
	c := validConfig()
	if got, fence := c.confirmEvery(), c.fenceAfter(); got*4 > fence {
		t.Errorf("confirm every %s leaves fewer than 4 tries in the %s fence deadline", got, fence)
	}
	if c.renewEvery()*2 > c.TTL {
		t.Errorf("renew every %s is slower than TTL/2 (%s)", c.renewEvery(), c.TTL/2)
	}
	if c.checkEvery()*2 > c.CheckTTL {
		t.Errorf("check update every %s is slower than check TTL/2", c.checkEvery())
	}
}

func TestWatchdogEnv(t *testing.T) {
	got := watchdogEnv([]string{"A=1", EnvLockHeld + "=1", EnvFencingToken + "=9", "CONSUL_HTTP_TOKEN=s",
		"CONSUL_HTTP_TOKEN_FILE=/secrets/t", "CONSUL_HTTP_AUTH=u:p", "CONSUL_HTTP_ADDR=127.0.0.1:8500", "B=2"})
	if want := []string{"A=1", "CONSUL_HTTP_ADDR=127.0.0.1:8500", "B=2"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestNextIndex(t *testing.T) {
	tests := []struct{ prev, last, want uint64 }{
		{0, 10, 10}, {10, 12, 12}, {12, 5, 1}, {3, 0, 1},
	}
	for _, tc := range tests {
		if got := nextIndex(tc.prev, tc.last); got != tc.want {
			t.Errorf("nextIndex(%d, %d) = %d, want %d", tc.prev, tc.last, got, tc.want)
		}
	}
}
