package testbed

import (
	"context"
	"fmt"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// ConsulTemplate is a running consul-template.
type ConsulTemplate struct {
	*Process
	Dir string // working directory
}

// StartConsulTemplate runs consul-template with args (typically -consul-addr
// and -template or -config) in a fresh directory, and returns as soon as it
// has started: wait for its output files to know that it rendered. It fails
// t if consul-template exits within its first 200 ms (bad flags). Stop
// sends SIGINT, consul-template's default kill_signal: it logs SIGTERM and
// keeps running.
func StartConsulTemplate(t testing.TB, args ...string) *ConsulTemplate {
	t.Helper()
	ct := &ConsulTemplate{Dir: t.TempDir()}
	started := time.Now()
	ct.Process = startProcess(t, procSpec{name: "consul-template", path: Binary(t, "consul-template"),
		args: args, dir: ct.Dir, logDir: ct.Dir, stopSig: syscall.SIGINT, ready: func(ctx context.Context) error {
			if time.Since(started) < 200*time.Millisecond {
				return fmt.Errorf("consul-template: starting")
			}
			return nil
		}})
	return ct
}

// RunConsulTemplateOnce runs `consul-template -once args...` to completion
// (at most 60 s) and returns its combined output, and an error when it
// failed.
func RunConsulTemplateOnce(t testing.TB, args ...string) (string, error) {
	t.Helper()
	bin := Binary(t, "consul-template")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-once"}, args...)...)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("consul-template -once: %w", err)
	}
	return string(out), nil
}
