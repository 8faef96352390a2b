package generator

import (
	"strings"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// TestGenerateRefuses: values that jobspec would reject never reach an
// output even if a caller skips jobspec.
func TestGenerateRefuses(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*jobspec.Deployment)
		want   string
	}{
		{"nginx directive in server name", func(d *jobspec.Deployment) { d.Kantree.ServerName = "x; include /etc/passwd" }, "server name"},
		{"template action in version", func(d *jobspec.Deployment) { d.Kantree.Version = `1{{ env "HOME" }}` }, "Kantree version"},
		{"quote in secrets path", func(d *jobspec.Deployment) { d.Secrets.Path = `nomad/jobs/x" }}{{ env "A` }, "secrets path"},
		{"bad process name", func(d *jobspec.Deployment) { d.Processes[0].Name = "Web Server" }, "process name"},
		{"unsafe lock timings", func(d *jobspec.Deployment) { d.Lock.LockDelay = 2 * time.Second }, "unsafe scheduler lock timings"},
		{"kill_timeout below kill grace", func(d *jobspec.Deployment) { d.Processes[2].KillTimeout = 2 * time.Second }, "kill_timeout"},
		{"traefik with ip stickiness", func(d *jobspec.Deployment) { d.LB.Kind, d.LB.Sticky = "traefik", "ip" }, "cookie only"},
		{"fabio with two push", func(d *jobspec.Deployment) { d.LB.Kind = "fabio"; d.Processes[3].Count = 2 }, "fabio has no sticky sessions"},
		{"unknown secrets provider", func(d *jobspec.Deployment) { d.Secrets.Provider = "env" }, "unknown secrets provider"},
		{"absolute archive root", func(d *jobspec.Deployment) { d.Kantree.Root = "/opt/kantree" }, "under local/"},
		{"setting the generator writes", func(d *jobspec.Deployment) { d.Config.Settings["secret_key"] = "x" }, "written by kantree-nomad"},
		{"setting name with newline", func(d *jobspec.Deployment) { d.Config.Settings["a\nb"] = "x" }, "setting name"},
		{"no delivery", func(d *jobspec.Deployment) { d.Kantree.Archive = nil }, "no delivery"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := goBasic()
			tc.mutate(d)
			b, err := Generate(d)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Generate = %v, %v; want an error containing %q", b != nil, err, tc.want)
			}
		})
	}
}
